"""A batch's ZIP under ASGI (uvicorn running config.asgi, as in production) is streamed for real:
its first bytes reach the client while the last file of the batch has not been read yet. The
last result file is a named pipe that nobody writes to until the first bytes have arrived; a
server that built the archive before sending would wait on it forever."""

import io
import os
import threading
import zipfile
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from processing.jobs import services
from processing.jobs.models import Job
from tests.factories import image_upload as upload
from vendors import services as vendor_services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_under_asgi_the_first_bytes_of_a_batch_zip_leave_before_its_last_file_is_read(
    browser_for, asgi_server, vendor, owner
):
    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    records = [vendor_services.record_create(project=project, upload=upload(f"p{i}.png")) for i in range(3)]
    batch = services.batch_create(vendor=vendor, kind="transform", records=records)
    results = Path(settings.MEDIA_ROOT) / "results" / str(batch.pk)
    results.mkdir(parents=True)
    first_files = {name: os.urandom(1024 * 1024) for name in ("a.png", "b.png")}
    for name, data in first_files.items():
        (results / name).write_bytes(data)
    last = results / "c.png"
    os.mkfifo(last)  # opening it for reading blocks until we open it for writing
    for job, name in zip(batch.jobs.order_by("record_id"), ("a.png", "b.png", "c.png"), strict=True):
        storage_name = f"results/{batch.pk}/{name}"
        Job.objects.filter(pk=job.pk).update(state="succeeded", result={"name": storage_name})
    browser = browser_for(owner)
    last_data = os.urandom(4096)
    writer = threading.Thread(target=lambda: last.write_bytes(last_data), daemon=True)

    try:
        with (
            httpx.Client(base_url=asgi_server, cookies={"sessionid": browser.cookies["sessionid"].value}) as http,
            http.stream("GET", f"/batches/{batch.pk}/download/", timeout=httpx.Timeout(10)) as response,
        ):
            assert response.status_code == 200
            chunks = response.iter_bytes()
            first = next(chunks)  # the last file cannot have been read: nobody has written it
            assert first.startswith(b"PK\x03\x04")
            writer.start()
            body = first + b"".join(chunks)
    finally:
        if not writer.is_alive() and not writer.ident:  # unblock a server still waiting on the pipe
            try:
                os.close(os.open(last, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass

    archive = zipfile.ZipFile(io.BytesIO(body))
    contents = sorted(archive.read(name) for name in archive.namelist())
    assert contents == sorted([*first_files.values(), last_data])
