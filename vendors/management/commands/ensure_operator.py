"""An operator (superuser) for the admin, made once. Its password is never an argument: a command
line shows in the process list (`ps`, /proc/<pid>/cmdline) to every user of the machine."""

import os
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

PASSWORD_ENV = "DARKROOM_OPERATOR_PASSWORD"


class Command(BaseCommand):
    help = (
        f"Create an operator (superuser) for the admin if none by that name exists. The password is read "
        f"from the {PASSWORD_ENV} environment variable, or from standard input with --password-stdin; "
        "never from the command line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from the first line of standard input."
        )
        # Refused, not just gone: an old script that still passes it fails loudly, not with a
        # generic usage error that might be read as "try another spelling".
        parser.add_argument("--password", help="Refused: it would show in the process list.")

    def handle(self, username, password_stdin, password, **options):
        if password is not None:
            raise CommandError(
                "--password is refused: a command line shows in the process list. "
                f"Set {PASSWORD_ENV} or pipe it to --password-stdin."
            )
        secret = self.password(password_stdin=password_stdin)
        users = get_user_model().objects
        if users.filter(username=username).exists():
            return
        users.create_superuser(username=username, password=secret, email="")
        self.stderr.write(f"operator {username} created")

    def password(self, *, password_stdin: bool) -> str:
        if password_stdin:
            secret = sys.stdin.readline().rstrip("\r\n")
        else:
            secret = os.environ.get(PASSWORD_ENV, "")
        if not secret:
            where = "standard input" if password_stdin else f"{PASSWORD_ENV} (or --password-stdin)"
            raise CommandError(f"no password: give one in {where}")
        return secret
