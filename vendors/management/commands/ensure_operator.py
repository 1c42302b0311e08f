from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create an operator (superuser) for the admin if none by that name exists."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, username, password, **options):
        users = get_user_model().objects
        if users.filter(username=username).exists():
            return
        users.create_superuser(username=username, password=password, email="")
        self.stderr.write(f"operator {username} created")
