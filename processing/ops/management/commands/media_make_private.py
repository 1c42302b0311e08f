"""`python manage.py media_make_private`: once, after upgrading a Cloudinary deployment to private
media (docs/data.md). Files stored before as public `upload` assets are moved to the
`authenticated` delivery type, under the same names, so they are found again and served only by
signed links. Prints how many were moved; run it again at will (moved files are skipped). Other
storages have nothing public to move."""

from itertools import chain

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand

from processing.jobs import selectors
from vendors.selectors import record_stored_names


class Command(BaseCommand):
    help = "Move files stored as public Cloudinary assets to the authenticated type (private media)."

    def handle(self, *args, **options):
        make_private = getattr(default_storage, "make_private", None)
        if make_private is None:
            self.stdout.write("nothing to move: this storage keeps no public files")
            return
        seen: set[str] = set()
        moved = 0
        for name in chain(record_stored_names(), selectors.ops_result_names()):
            if name not in seen:
                seen.add(name)
                moved += bool(make_private(name))
        self.stdout.write(f"{moved} of {len(seen)} stored files moved to private delivery")
