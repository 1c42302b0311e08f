"""Passwords for management commands, never as arguments: a command line shows in the process list
(`ps`, /proc/<pid>/cmdline) to every user of the machine. Read from an environment variable, or
from standard input with --password-stdin; --password is refused with the reason."""

from __future__ import annotations

import os
import sys

from django.core.management.base import CommandError


def add_password_arguments(parser, *, env: str) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help=f"Read the password from the first line of standard input (else from {env}).",
    )
    # Refused, not just gone: an old script that still passes it fails with the reason, not with a
    # generic usage error.
    parser.add_argument("--password", help="Refused: it would show in the process list.")


def password_given(*, env: str, password_stdin: bool, password: str | None) -> str:
    """The password from standard input or `env`; "" when neither gives one."""
    if password is not None:
        raise CommandError(
            f"--password is refused: a command line shows in the process list. Set {env} or pipe it to "
            "--password-stdin."
        )
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return os.environ.get(env, "")
