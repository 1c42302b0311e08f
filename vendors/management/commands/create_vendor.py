from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from vendors import services
from vendors.management.passwords import add_password_arguments, password_given
from vendors.models import Membership, Plan

PASSWORD_ENV = "DARKROOM_USER_PASSWORD"


class Command(BaseCommand):
    help = "Create a vendor and a user who owns it (or reuse them); print the user's API token last."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--user", required=True, help="username of the vendor's owner")
        parser.add_argument("--plan", default="standard", help="plan slug (default: standard)")
        # The password set when the user is created (none: they cannot sign in until one is set).
        add_password_arguments(parser, env=PASSWORD_ENV)
        parser.add_argument("--name", default="", help="display name of the vendor")

    @transaction.atomic
    def handle(self, slug, user, plan, password_stdin, password, name, **options):
        password = password_given(env=PASSWORD_ENV, password_stdin=password_stdin, password=password) or None
        if not Plan.objects.filter(slug=plan).exists():
            known = ", ".join(Plan.objects.values_list("slug", flat=True))
            raise CommandError(f"no plan {plan!r}; known plans: {known}")
        vendor, vendor_created = services.vendor_get_or_create(slug=slug, plan_slug=plan)
        if name and vendor.name != name:
            vendor.name = name
            vendor.save(update_fields=["name"])
        account, user_created = services.user_get_or_create(username=user, password=password)
        services.member_add(vendor=vendor, user=account, role=Membership.Role.OWNER)
        self.stderr.write(
            f"vendor {vendor.slug} ({'created' if vendor_created else 'exists'}, plan {vendor.plan.slug}); "
            f"user {account.get_username()} ({'created' if user_created else 'exists'})"
        )
        self.stdout.write(services.api_token_for(user=account))
