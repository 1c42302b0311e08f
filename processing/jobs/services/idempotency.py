"""Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): a key is claimed before the work,
with the fingerprint of its request, and marked done in the transaction that creates the job or
batch. The same key again: the same fingerprint replays what the first request made; another
fingerprint is refused (422); while the first request is still at work, 409. Keys are matched by
the SHA-256 of their bytes: "abc" and "ABC" are two keys."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from processing.jobs.models import Batch, IdempotencyKey, Job
from vendors.models import Vendor

# A claim this old whose request never finished (the process died) may be taken over.
STALE_CLAIM_S = 300


class IdempotencyKeyInProgress(Exception):
    """The first request with this key is still being processed."""


class IdempotencyKeyMismatch(Exception):
    """The key was used before with a different request."""


def idempotency_key_digest(key: str) -> str:
    """What a key is matched on: exact bytes, whatever the column's collation."""
    return hashlib.sha256(key.encode()).hexdigest()


def idempotency_key_claim(*, vendor: Vendor, key: str, fingerprint: str) -> IdempotencyKey:
    """The key's row: a new claim (state in_progress, ours to finish or release), or a done one
    whose job or batch the caller answers with. A claim whose request died (older than
    STALE_CLAIM_S, never done) is taken over only by the same request (fingerprint): the key
    with another request is refused, as it would be once done."""
    digest = idempotency_key_digest(key)
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(vendor=vendor, key=key, key_digest=digest, fingerprint=fingerprint)
    except IntegrityError:
        pass
    row = IdempotencyKey.objects.select_related("job", "batch").filter(vendor=vendor, key_digest=digest).first()
    if row is None:  # released in the meantime
        return idempotency_key_claim(vendor=vendor, key=key, fingerprint=fingerprint)
    if row.state == IdempotencyKey.State.DONE:
        if row.fingerprint and row.fingerprint != fingerprint:
            raise IdempotencyKeyMismatch(f"Idempotency-Key {key!r} was used with a different request")
        return row
    now = timezone.now()
    stale = IdempotencyKey.objects.filter(
        pk=row.pk, state=IdempotencyKey.State.IN_PROGRESS, created_at__lt=now - timedelta(seconds=STALE_CLAIM_S)
    )
    if stale.filter(fingerprint=fingerprint).update(created_at=now):
        row.refresh_from_db()
        return row
    if row.fingerprint != fingerprint and stale.exists():
        raise IdempotencyKeyMismatch(f"Idempotency-Key {key!r} was used with a different request")
    raise IdempotencyKeyInProgress(f"a request with Idempotency-Key {key!r} is still being processed")


def idempotency_key_done(*, claim: IdempotencyKey, job: Job | None = None, batch: Batch | None = None) -> None:
    """Called inside the transaction that creates the job or batch."""
    IdempotencyKey.objects.filter(pk=claim.pk).update(state=IdempotencyKey.State.DONE, job=job, batch=batch)
    claim.state, claim.job, claim.batch = IdempotencyKey.State.DONE, job, batch


def idempotency_key_release(*, claim: IdempotencyKey) -> None:
    """The request failed before it made anything: the key may be used again."""
    IdempotencyKey.objects.filter(pk=claim.pk, state=IdempotencyKey.State.IN_PROGRESS).delete()
