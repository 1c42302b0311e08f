"""An operator (superuser) for the admin, made once. Its password is never an argument
(vendors/management/passwords.py)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from vendors.management.passwords import add_password_arguments, password_given

PASSWORD_ENV = "DARKROOM_OPERATOR_PASSWORD"


class Command(BaseCommand):
    help = (
        f"Create an operator (superuser) for the admin if none by that name exists. The password is read "
        f"from the {PASSWORD_ENV} environment variable, or from standard input with --password-stdin; "
        "never from the command line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        add_password_arguments(parser, env=PASSWORD_ENV)

    def handle(self, username, password_stdin, password, **options):
        secret = password_given(env=PASSWORD_ENV, password_stdin=password_stdin, password=password)
        if not secret:
            where = "standard input" if password_stdin else f"{PASSWORD_ENV} (or --password-stdin)"
            raise CommandError(f"no password: give one in {where}")
        users = get_user_model().objects
        if users.filter(username=username).exists():
            return
        users.create_superuser(username=username, password=secret, email="")
        self.stderr.write(f"operator {username} created")
