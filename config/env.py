"""The environment settings are read from (django-environ): the process's, then the repository's
.env for what it does not set."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
