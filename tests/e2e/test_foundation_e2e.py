"""One image from the API to a real cut-out, through MySQL, Redis and a real worker process."""

import time

import numpy as np
import pytest
from skimage import data

from tests.support.photos import decode, jpeg_bytes
from tests.support.waiting import wait_until_finished
from vendors.models import Record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_jpeg_becomes_a_real_cutout(worker, http):
    started = time.monotonic()
    response = http.post(
        "/api/v1/jobs/",
        data={"kind": "remove_bg"},
        files={"image": ("astronaut.jpg", jpeg_bytes(data.astronaut()), "image/jpeg")},
    )
    answered_in = time.monotonic() - started
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] == "queued"
    print(f"enqueue answered in {answered_in * 1000:.0f} ms")

    job = wait_until_finished(http, job["id"])
    assert job["state"] == "succeeded", job
    assert job["attempts"] == 1
    assert job["progress"]["percent"] == 100
    assert job["started_at"] and job["finished_at"]
    result = job["result"]
    assert result["content_type"] == "image/png"
    assert (result["width"], result["height"]) == (512, 512)

    png = http.get(result["url"])
    assert png.status_code == 200
    cutout = decode(png.content)
    assert cutout.format == "PNG" and cutout.mode == "RGBA"
    alpha = np.asarray(cutout)[:, :, 3]
    assert alpha[:40, :40].mean() < 20 and alpha[:40, -40:].mean() < 20, "background corners must be transparent"
    assert np.median(alpha[200:320, 180:300]) > 200, "the subject must stay opaque"

    record = Record.objects.get(pk=job["record"])
    assert record.processed.name == result["url"].split("/media/", 1)[1].split("?", 1)[0]
    assert record.processed_content_type == "image/png"


def test_a_corrupt_upload_fails_with_a_readable_error_and_no_retry(worker, http):
    corrupt = jpeg_bytes(data.chelsea())[:600]  # a JPEG header and nothing after it
    response = http.post(
        "/api/v1/jobs/", data={"kind": "remove_bg"}, files={"image": ("broken.jpg", corrupt, "image/jpeg")}
    )
    assert response.status_code == 202, response.text

    job = wait_until_finished(http, response.json()["id"])
    assert job["state"] == "failed"
    assert job["attempts"] == 1, "a permanent failure is not retried"
    assert job["error"]["code"] == "invalid_image"
    assert "image" in job["error"]["message"]
    assert job["result"] is None
    assert not Record.objects.get(pk=job["record"]).processed
