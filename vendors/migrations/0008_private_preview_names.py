"""Previews were stored as thumbnails/<vendor id>/<record id>/<which>-<stem>.webp: both ids
count up, so anyone could walk them. Each existing preview is copied to
thumbnails/<vendor id>/<128 random bits>/<which>-<stem>.webp, its row pointed at the copy, and
the old file removed. A preview whose file is already gone is forgotten (the portal then says
"preview on its way" rather than show a broken image). Safe to run again: a preview already
under a random folder is left alone. tests/vendors/test_private_names.py runs it."""

import re
import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import migrations

NEW = re.compile(r"^thumbnails/\d+/[0-9a-f]{32}/[^/]+$")
FIELDS = ("original_thumbnail", "processed_thumbnail")
CHUNK = 500


def _renamed(name, vendor_id):
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return ""
    new = default_storage.save(
        f"thumbnails/{vendor_id}/{secrets.token_hex(16)}/{name.rsplit('/', 1)[-1]}", ContentFile(data)
    )
    return new


def rename_previews(apps, schema_editor):
    Record = apps.get_model("vendors", "Record")
    last = 0
    while True:
        rows = list(
            Record.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "vendor_id", *FIELDS)[:CHUNK]
        )
        if not rows:
            return
        for pk, vendor_id, *names in rows:
            last = pk
            for field, name in zip(FIELDS, names, strict=True):
                if not name or NEW.match(name):
                    continue
                new = _renamed(name, vendor_id)
                # Only if the row still names the old file (a new preview may have been made).
                if Record.objects.filter(pk=pk, **{field: name}).update(**{field: new}):
                    if new:
                        default_storage.delete(name)
                elif new:
                    default_storage.delete(new)


class Migration(migrations.Migration):
    dependencies = [("vendors", "0007_vendor_uid")]

    operations = [migrations.RunPython(rename_previews, migrations.RunPython.noop, elidable=True)]
