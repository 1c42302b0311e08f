"""The project grid loads small previews, not the photos: 50 real-size photos (3000 px JPEG at
quality 95, MBs each) in Chromium, counting the bytes of every image response."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bench.photos import photos
from tests.support.browser import sign_in_and_create_project
from tests.support.waiting import wait_for
from vendors import services
from vendors.models import Project, Record

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHOTOS = 50
PREVIEW_MAX_BYTES = 60 * 1024


def test_the_grid_of_fifty_large_photos_loads_previews_not_originals(worker, live_server, page, owner):
    sign_in_and_create_project(page, live_server, "Catalogue")
    project = Project.objects.get(name="Catalogue")
    originals = photos(PHOTOS, side=3000, quality=95)
    for index, data in enumerate(originals):
        services.record_create(
            project=project, upload=SimpleUploadedFile(f"photo-{index:02d}.jpg", data, content_type="image/jpeg")
        )
    wait_for(
        lambda: not Record.objects.filter(project=project, original_thumbnail="").exists(),
        timeout=240,
        interval=0.5,
        what="the thumbnail actor to make every preview",
    )

    responses = []
    page.on("response", lambda r: responses.append(r) if r.request.resource_type == "image" else None)
    page.reload()
    # Every card's images, as if the user scrolled through the whole grid.
    page.evaluate("document.querySelectorAll('.record img').forEach(img => { img.loading = 'eager'; })")
    page.wait_for_function(
        f"() => [...document.querySelectorAll('.record img')].filter(img => img.complete && img.naturalWidth > 0)"
        f".length === {PHOTOS}",
        timeout=60_000,
    )
    page.wait_for_load_state("networkidle")
    images = [(r.url, len(r.body())) for r in responses if "/media/" in r.url]

    loaded = sum(size for _, size in images)
    originals_bytes = sum(len(data) for data in originals)
    print(
        f"\ngrid of {PHOTOS} photos: {len(images)} image responses, {loaded / 1024:.0f} KiB "
        f"(largest {max(size for _, size in images) / 1024:.1f} KiB); "
        f"the originals would be {originals_bytes / 2**20:.1f} MiB"
    )
    assert len({url for url, _ in images}) == PHOTOS
    assert all("/media/thumbnails/" in url for url, _ in images), "the grid loads previews only"
    assert max(size for _, size in images) <= PREVIEW_MAX_BYTES
    assert loaded * 20 < originals_bytes
