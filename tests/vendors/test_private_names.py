"""Nothing a vendor stores can be counted or guessed, and nothing a vendor used can be inherited.

- Every stored name (original, result, preview) carries 128 random bits after `<area>/<vendor
  id>/`; previews were `thumbnails/<vendor id>/<record id>/…`, both counting up.
- Previews stored under the old names are renamed by the data migration
  vendors/0008_private_preview_names (run here on real files and rows).
- Quota counters and fairness turns live in Redis under Vendor.uid, not the id: a vendor that
  gets a deleted vendor's id (a database recreated, Redis kept) starts at zero.
"""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from processing.engine.admission import SERVED_KEY, admit
from processing.jobs.models import Job, Lane
from tests.factories import make_job, make_member, make_record, make_vendor, succeed_job
from tests.support.backlog import insert_waiting_jobs
from tests.support.clients import client_for
from tests.support.waiting import wait_for
from vendors import quotas
from vendors.models import Plan, Record, Vendor
from vendors.thumbnails import record_thumbnail_make

pytestmark = pytest.mark.django_db

RANDOM = r"[0-9a-f]{32}"  # 128 bits


def test_every_stored_name_carries_128_random_bits(vendor):
    job = succeed_job(make_job(vendor))
    record = Record.objects.get(pk=job.record_id)
    previews = [record_thumbnail_make(record_id=record.pk, which=which) for which in ("original", "processed")]

    assert re.fullmatch(rf"originals/{vendor.pk}/{RANDOM}/original\.png", record.original.name)
    assert re.fullmatch(rf"results/{vendor.pk}/{job.pk}/{RANDOM}\.png", job.result["name"])
    assert record.processed.name == job.result["name"]
    assert re.fullmatch(rf"thumbnails/{vendor.pk}/{RANDOM}/original-original\.webp", previews[0])
    assert re.fullmatch(rf"thumbnails/{vendor.pk}/{RANDOM}/processed-{RANDOM}\.webp", previews[1])
    assert str(record.pk) not in previews[0].split("/")[2:], "the record id is not in the name"
    # A preview of the same image is kept, not made again under another random name.
    assert record_thumbnail_make(record_id=record.pk, which="original") == previews[0]


def test_the_migration_moves_old_previews_to_random_names(vendor):
    record = make_record(vendor)
    old = {
        "original_thumbnail": f"thumbnails/{vendor.pk}/{record.pk}/original-photo.webp",
        "processed_thumbnail": f"thumbnails/{vendor.pk}/{record.pk}/processed-gone.webp",
    }
    default_storage.save(old["original_thumbnail"], ContentFile(b"RIFF old preview"))  # the other file is gone
    Record.objects.filter(pk=record.pk).update(**old)
    fresh = make_record(vendor)
    kept = record_thumbnail_make(record_id=fresh.pk, which="original")
    migration = importlib.import_module("vendors.migrations.0008_private_preview_names")

    migration.rename_previews(apps, None)
    migration.rename_previews(apps, None)  # again: nothing left to do

    record.refresh_from_db()
    assert re.fullmatch(rf"thumbnails/{vendor.pk}/{RANDOM}/original-photo\.webp", record.original_thumbnail.name)
    with default_storage.open(record.original_thumbnail.name) as moved:
        assert moved.read() == b"RIFF old preview"
    assert not default_storage.exists(old["original_thumbnail"]), "the countable name is gone"
    assert record.processed_thumbnail.name == "", "a preview whose file was gone is forgotten"
    fresh.refresh_from_db()
    assert fresh.original_thumbnail.name == kept, "a preview with a random name is left alone"


def _recreated(vendor: Vendor) -> Vendor:
    """The vendor deleted, and another one made with its id, as a recreated database does."""
    pk = vendor.pk
    vendor.delete()
    return Vendor.objects.create(pk=pk, name="Newco", slug="newco", plan=Plan.objects.get(slug="standard"))


def test_a_vendor_with_a_reused_id_does_not_inherit_quota_counters(clean_redis):
    old = make_vendor("oldco")
    old_pk, old_uid = old.pk, old.uid
    used = quotas.quota_consume(vendor=old, charges={quotas.REMOVE_BG: 7, quotas.UPLOADS: 3})
    assert {u.name: u.used for u in used} == {"remove_bg": 7, "uploads": 3}

    new = _recreated(old)
    owner = make_member(new, "newco-owner", role="owner")
    body = client_for(owner).get("/api/v1/quota/").json()

    assert new.pk == old_pk and new.uid != old_uid
    assert {u.name: u.used for u in quotas.quota_usage(vendor=new)}["remove_bg"] == 0
    shown = {q["name"]: q["used"] for q in body["limits"]}
    assert shown["remove_bg"] == 0 and shown["uploads"] == 0, body


def test_a_vendor_with_a_reused_id_does_not_inherit_a_fairness_turn(clean_redis, transactional_db):
    old = make_vendor("oldco", plan="unlimited")
    insert_waiting_jobs(vendor=old, record=make_record(old), kind="transform", n=1)
    served = SERVED_KEY.format(kind="transform")
    # This pass admits it, or the session's worker (when one runs) did a moment before.
    wait_for(lambda: admit("transform") or not Job.objects.filter(vendor=old, lane=Lane.WAITING).exists())
    assert clean_redis.hget(served, old.uid.hex) is not None, "its turn is kept under its uid"
    assert clean_redis.hget(served, str(old.pk)) is None, "not under its id"
    old_pk = old.pk

    Job.objects.filter(vendor=old).update(lane=Lane.DONE, state="cancelled")
    new = _recreated(old)

    assert clean_redis.hget(served, new.uid.hex) is None, "never served: first in line"
    assert new.pk == old_pk


@pytest.mark.django_db(transaction=True)  # closing a response closes the request's DB connection
def test_a_vendor_with_a_reused_id_does_not_find_its_event_streams_taken(settings, clean_redis):
    settings.EVENTS_MAX_STREAMS_PER_VENDOR = 1
    sse = {"HTTP_ACCEPT": "text/event-stream"}
    old = make_vendor("oldco")
    job = make_job(old)
    held = client_for(make_member(old, "oldco-owner", role="owner")).get(f"/api/v1/events/?job={job.pk}", **sse)
    next(iter(held.streaming_content))  # open, holding the vendor's only slot

    new = _recreated(old)
    client = client_for(make_member(new, "newco-owner", role="owner"))
    opened = client.get(f"/api/v1/events/?job={make_job(new).pk}", **sse)

    assert opened.status_code == 200, opened.content
    opened.close()
    held.close()
