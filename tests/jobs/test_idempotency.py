"""Idempotency-Key as draft-ietf-httpapi-idempotency-key-header has it: a replay answers with what
the first request made and is not charged again; the key with another request is refused (422);
while the first request is still at work, 409."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from processing.jobs import services
from processing.jobs.models import Batch, IdempotencyKey, Job
from tests.support.clients import client_for
from tests.support.photos import image_bytes
from vendors.quotas import quota_usage

pytestmark = pytest.mark.django_db


def post(client, key, image=None):
    return client.post(
        "/api/v1/jobs/",
        {"kind": "transform", "image": SimpleUploadedFile("a.png", image or image_bytes())},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def used(vendor) -> dict[str, int]:
    return {usage.name: usage.used for usage in quota_usage(vendor=vendor)}


def test_the_same_idempotency_key_twice_gives_the_same_job(owner, member):
    first, again = post(client_for(owner), "order-42"), post(client_for(member), "order-42")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Job.objects.count() == 1


def test_keys_are_per_vendor_and_other_keys_make_new_jobs(owner, outsider):
    mine = post(client_for(owner), "order-42").json()["id"]
    theirs = post(client_for(outsider), "order-42").json()["id"]
    other = post(client_for(owner), "order-43").json()["id"]
    assert len({mine, theirs, other}) == 3


def test_a_replay_is_not_charged_again(owner, vendor):
    client = client_for(owner)
    before = used(vendor)
    first = post(client, "order-7")
    after_first = used(vendor)
    again = post(client, '"order-7"')  # the draft's structured-field form names the same key
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert after_first != before, "the first request is charged"
    assert used(vendor) == after_first, "the replay is not"


def test_the_same_key_with_another_body_is_refused_with_422(owner):
    client = client_for(owner)
    assert post(client, "order-9").status_code == 202
    other_image = image_bytes()[:-4] + b"\x00\x00\x00\x00"
    response = post(client, "order-9", image=other_image)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "idempotency_key_mismatch"
    other_kind = client.post(
        "/api/v1/jobs/", {"kind": "transform", "image_url": "https://example.com/a.jpg"}, HTTP_IDEMPOTENCY_KEY="order-9"
    )
    assert other_kind.status_code == 422
    assert Job.objects.count() == 1


def claim_of(response) -> IdempotencyKey:
    """The claim a request took, as a request that is still at work (or died) leaves it."""
    row = IdempotencyKey.objects.get(job=response.json()["id"])
    IdempotencyKey.objects.filter(pk=row.pk).update(state=IdempotencyKey.State.IN_PROGRESS, job=None)
    Job.objects.all().delete()
    return IdempotencyKey.objects.get(pk=row.pk)


def test_the_same_key_while_the_first_request_is_in_progress_is_409(owner, vendor):
    claim_of(post(client_for(owner), "order-11"))  # a request at work
    response = post(client_for(owner), "order-11")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "idempotency_key_in_progress"
    assert not Job.objects.exists()


def test_a_claim_left_by_a_dead_request_is_taken_over_by_the_same_request_after_a_while(owner, vendor):
    row = claim_of(post(client_for(owner), "order-12"))
    IdempotencyKey.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(hours=1))
    response = post(client_for(owner), "order-12")
    assert response.status_code == 202, response.content
    assert IdempotencyKey.objects.get(pk=row.pk).job_id == Job.objects.get().pk


def test_a_claim_left_by_a_dead_request_is_not_taken_over_by_another_request(owner, vendor):
    """Issue 22, point 7: taking over a dead claim used to rewrite its fingerprint to whatever
    request came next."""
    row = claim_of(post(client_for(owner), "order-14"))
    IdempotencyKey.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(hours=1))

    other = post(client_for(owner), "order-14", image=image_bytes()[:-4] + b"\x00\x00\x00\x00")

    assert other.status_code == 422, other.content
    assert other.json()["code"] == "idempotency_key_mismatch"
    assert not Job.objects.exists()
    assert IdempotencyKey.objects.get(pk=row.pk).fingerprint == row.fingerprint
    assert post(client_for(owner), "order-14").status_code == 202  # the request that claimed it still may


@pytest.mark.parametrize("other", ["ABC-1", "abc-1 ", "abç-1"])
def test_keys_compare_byte_exactly(owner, other):
    """Issue 22, point 7: the key column's collation made "abc-1" and "ABC-1" (and "abc-1 ") one key."""
    client = client_for(owner)
    first = post(client, "abc-1")
    second = post(client, f'"{other}"', image=image_bytes()[:-4] + b"\x00\x00\x00\x00")
    assert first.status_code == second.status_code == 202, second.content
    assert first.json()["id"] != second.json()["id"]
    assert Job.objects.count() == 2
    assert post(client, "abc-1").json()["id"] == first.json()["id"]  # the same bytes still replay


def test_a_failed_request_frees_its_key(owner):
    client = client_for(owner)
    refused = client.post(
        "/api/v1/jobs/", {"kind": "transform", "record": 999_999}, format="json", HTTP_IDEMPOTENCY_KEY="order-13"
    )
    assert refused.status_code == 404
    assert not IdempotencyKey.objects.filter(key="order-13").exists()


def test_bulk_takes_a_key_and_a_replay_gives_the_same_batch_uncharged(owner, vendor):
    client = client_for(owner)
    body = {"kind": "transform", "image_urls": [f"https://example.com/{n}.jpg" for n in range(3)]}
    first = client.post("/api/v1/jobs/bulk/", body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    after_first = used(vendor)
    again = client.post("/api/v1/jobs/bulk/", body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert first.status_code == again.status_code == 202, again.content
    assert again.json()["batch"] == first.json()["batch"]
    assert sorted(again.json()["jobs"]) == sorted(first.json()["jobs"])
    assert used(vendor) == after_first
    assert Batch.objects.count() == 1 and Job.objects.count() == 3

    changed = {**body, "image_urls": body["image_urls"][:2]}
    refused = client.post("/api/v1/jobs/bulk/", changed, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert refused.status_code == 422


def test_bulk_uploads_are_fingerprinted_by_their_bytes(owner):
    client = client_for(owner)

    def send(images):
        files = [SimpleUploadedFile(f"{n}.png", data) for n, data in enumerate(images)]
        return client.post(
            "/api/v1/jobs/bulk/",
            {"kind": "transform", "images": files},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="up-1",
        )

    images = [image_bytes(), image_bytes()]
    first, again = send(images), send(images)
    assert first.status_code == again.status_code == 202
    assert again.json()["batch"] == first.json()["batch"]
    assert send([image_bytes(), image_bytes()[:-4] + b"\x00\x00\x00\x00"]).status_code == 422


def test_a_key_goes_with_its_job_at_retention(owner, vendor, settings):
    first = post(client_for(owner), "order-20").json()["id"]
    Job.objects.filter(pk=first).update(state="succeeded", finished_at=timezone.now() - timedelta(days=30))
    report = services.jobs_purge_finished()
    assert report.jobs == 1
    assert not IdempotencyKey.objects.filter(key="order-20").exists()
    assert post(client_for(owner), "order-20").json()["id"] != first, "the key may be used again"


def test_a_batch_key_expires_after_the_longest_retention(vendor, settings):
    settings.JOB_RETENTION_SUCCEEDED_H, settings.JOB_RETENTION_FAILED_H = 24, 48
    batch = services.batch_create(vendor=vendor, kind="transform", image_urls=["https://example.com/a.jpg"])
    young, old = (
        services.idempotency_key_claim(vendor=vendor, key=key, fingerprint="f" * 64) for key in ("b-young", "b-old")
    )
    IdempotencyKey.objects.filter(pk__in=[young.pk, old.pk]).update(state="done", batch=batch)
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=49))
    assert services.jobs_purge_finished().idempotency_keys == 1
    assert list(IdempotencyKey.objects.values_list("pk", flat=True)) == [young.pk]


def test_the_migration_digests_the_keys_kept_so_far(vendor):
    """What 0009 does to keys stored before digests: each gets the SHA-256 of its bytes, so a
    replay of a request made before the upgrade still finds its key."""
    import hashlib
    import importlib

    from django.apps import apps

    migration = importlib.import_module("processing.jobs.migrations.0009_idempotency_key_digest")
    row = services.idempotency_key_claim(vendor=vendor, key="Order-99", fingerprint="f" * 64)
    IdempotencyKey.objects.filter(pk=row.pk).update(key_digest="", state="done")  # as AddField leaves it

    migration.digest_existing_keys(apps, None)

    assert IdempotencyKey.objects.get(pk=row.pk).key_digest == hashlib.sha256(b"Order-99").hexdigest()
    again = services.idempotency_key_claim(vendor=vendor, key="Order-99", fingerprint="f" * 64)
    assert again.pk == row.pk
