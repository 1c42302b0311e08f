"""The environment settings are read from (django-environ): the process's, then the repository's
.env for what it does not set."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def per_kind(name: str, cast: type, default: dict) -> dict:
    """`kind=value,kind=value`, as compose and .env.example write it (`;` too): django-environ's
    dict with a value cast splits on `;` alone, and every service failed to start on the commas."""
    raw = env.str(name, default="")
    items = [item.split("=", 1) for item in raw.replace(";", ",").split(",") if item.strip()]
    return {key.strip(): cast(value) for key, value in items} if items else default
