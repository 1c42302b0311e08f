"""Private media (docs/data.md, "Who can read what"). Every URL of a stored file Darkroom hands
out — a record's original and result (API), a job's result (API, webhooks, the portal's poll),
the previews and images of the portal's pages, the portal's downloads and the batch ZIP — is
collected as the vendor's owner sees it, then fetched by strangers and by the vendor's people,
under both deliveries:

- `proxied`: the same URLs fetched anonymously, by another vendor's owner (signed in or with an
  API key) answer 404; the owner, a member (session or API key) and an operator get the file.
- `signed`: a media link works as handed out (the link is the permission), and for no one once
  changed (its signature) or stripped of its signature (the file's name alone), or once it has
  expired; another vendor never obtains one (its record and job answer 404). The portal's
  downloads and ZIP check the session in both.

Before this change `/media/<name>` served every file to anyone, forever, at countable names.
"""

from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.test import Client

from processing.jobs import services as job_services
from processing.jobs.representation import job_representation
from tests.factories import make_record, succeed_job
from tests.support.clients import client_for
from vendors.thumbnails import record_thumbnail_make

pytestmark = pytest.mark.django_db

MEDIA = "/media/"


def _handed_out(owner, vendor) -> tuple[dict[str, str], dict[str, str], object]:
    """({what: media URL}, {what: download URL}, the job) as the owner is given them."""
    record = make_record(vendor, "shoe.png")
    batch = job_services.batch_create(vendor=vendor, kind="sleepy", records=[record])
    job = succeed_job(batch.jobs.get())
    for which in ("original", "processed"):
        assert record_thumbnail_make(record_id=record.pk, which=which)
    api = client_for(owner)
    portal = Client()
    portal.force_login(owner)

    record_body = api.get(f"/api/v1/records/{record.pk}/").json()
    job_body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    grid = portal.get(f"/projects/{record.project_id}/").content.decode()
    page = portal.get(f"/records/{record.pk}/").content.decode()
    poll = portal.get(f"/batches/{batch.pk}/status/").json()
    (snapshot,) = poll["jobs"]
    images = [unescape(src) for src in re.findall(r'<img[^>]* src="([^"]+)"', grid + page)]
    media = {
        "api record original": record_body["original_url"],
        "api record result": record_body["processed_url"],
        "api job result": job_body["result"]["url"],
        "webhook job result": job_representation(job)["result"]["url"],  # what deliveries carry
        "portal poll result": snapshot["result_url"],
        "portal poll preview": snapshot["thumbnail_url"],
        **{f"portal image {n}": src for n, src in enumerate(images)},
    }
    assert len(images) == 4, "grid: two previews; record page: original and result"
    downloads = {
        "portal job download": snapshot["download_url"],
        "portal record download": f"/records/{record.pk}/download/",
        "portal batch zip": poll["download_url"],
    }
    return {what: _local(url) for what, url in media.items()}, downloads, job


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _fetchers(owner, member, outsider, superuser) -> tuple[dict, dict]:
    """({who: GET} for strangers, {who: GET} for the vendor's people and the operator)."""

    def session(user):
        client = Client()
        client.force_login(user)
        return client.get

    def keyed(user):
        client = client_for(user)
        return client.get

    strangers = {"anonymous": Client().get, "outsider signed in": session(outsider), "outsider's key": keyed(outsider)}
    entitled = {
        "owner signed in": session(owner),
        "member signed in": session(member),
        "member's key": keyed(member),
        "operator": session(superuser),
    }
    return strangers, entitled


def _forged(url: str) -> str:
    """The link with the first character of its signature changed."""
    head, signature = url.split("signature=", 1)
    return f"{head}signature={'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("delivery", ["signed", "proxied"])
def test_every_media_url_darkroom_hands_out_is_for_the_vendor_only(
    delivery, settings, vendor, owner, member, outsider, superuser
):
    settings.MEDIA_DELIVERY = delivery
    media, downloads, job = _handed_out(owner, vendor)
    strangers, entitled = _fetchers(owner, member, outsider, superuser)
    assert all(url.startswith(MEDIA) for url in media.values()), media

    leaked = [
        (who, what)
        for who, get in strangers.items()
        for what, url in (media if delivery == "proxied" else {}).items() | downloads.items()
        if get(url).status_code == 200
    ]
    assert leaked == [], "a stranger fetched these"

    refused = [
        (who, what, response.status_code)
        for who, get in entitled.items()
        for what, url in (media | (downloads if who.endswith("signed in") else {})).items()
        if (response := get(url)).status_code != 200 or not _body(response)
    ]
    assert refused == [], "the vendor's people (and the operator) are refused these"

    if delivery == "signed":
        unsigned = {what: url.split("?", 1)[0] for what, url in media.items()}
        forged = {what: _forged(url) for what, url in media.items()}
        assert all("?expires=" in url for url in media.values())
        for get in (*strangers.values(), *entitled.values()):
            assert [what for what, url in (unsigned | forged).items() if get(url).status_code != 404] == []
    # Another vendor cannot even learn the links: its reads of the record and the job are 404s.
    stranger_api = client_for(outsider)
    assert stranger_api.get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    assert stranger_api.get(f"/api/v1/records/{job.record_id}/").status_code == 404


def test_a_signed_link_stops_working_when_it_expires(settings, vendor, owner):
    settings.MEDIA_DELIVERY = "signed"
    settings.MEDIA_URL_EXPIRE_S = 1
    url = client_for(owner).get(f"/api/v1/records/{make_record(vendor).pk}/").json()["original_url"]
    assert Client().get(_local(url)).status_code == 200

    time.sleep(2.2)
    expired = Client().get(_local(url))

    assert expired.status_code == 404 and expired["Content-Type"] == "application/problem+json"
    assert expired.json()["detail"] == "no such file, or the link has expired", "the same answer as for no file"


def test_a_refusal_reveals_nothing(settings, vendor, owner, outsider):
    """No file, a file of another vendor, a name Darkroom never makes, a path out of the media
    folder: one answer, in both deliveries."""
    record = make_record(vendor)
    answers = set()
    for delivery in ("signed", "proxied"):
        settings.MEDIA_DELIVERY = delivery
        browser = Client()
        browser.force_login(outsider)
        for path in (
            record.original.name,
            record.original.name.replace(record.original.name.split("/")[2], "0" * 32),
            "../../etc/passwd",
            "originals/1/../../../etc/passwd",
            "static/portal.css",
        ):
            response = browser.get(MEDIA + path)
            answers.add((response.status_code, response.content))
    assert len(answers) == 1 and next(iter(answers))[0] == 404


def test_proxied_files_can_be_handed_to_the_front_proxy(settings, vendor, owner):
    settings.MEDIA_DELIVERY = "proxied"
    settings.MEDIA_ACCEL_REDIRECT = "/_media/"
    record = make_record(vendor)
    browser = Client()
    browser.force_login(owner)

    response = browser.get(MEDIA + record.original.name)

    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == "/_media/" + record.original.name
    assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
    assert Client().get(MEDIA + record.original.name).status_code == 404


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_webhook_receiver_fetches_the_result_with_the_signed_link_it_was_sent(worker, vendor, http, live_server):
    """The real worker builds the payload: its result link is signed (the test settings' default
    delivery), works for the receiver as sent and not without its signature."""
    import json

    import httpx

    from tests.webhooks.receiver import Receiver

    with Receiver() as receiver:
        assert (
            http.post("/api/v1/webhooks/", json={"url": receiver.url, "events": ["job.succeeded"]}).status_code == 201
        )
        started = http.post("/api/v1/jobs/", json={"kind": "sleepy", "record": make_record(vendor).pk})
        assert started.status_code == 202, started.text
        (delivery,) = receiver.wait_for(1)

    link = json.loads(delivery.body)["data"]["result"]["url"]
    assert link.startswith(MEDIA) and "signature=" in link
    fetched = httpx.get(live_server.url + link)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/png"
    assert httpx.get(live_server.url + link.split("?", 1)[0]).status_code == 404
