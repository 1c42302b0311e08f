"""The portal in Debian's Chromium against a live server and a real worker: sign in, upload
three photos, remove their backgrounds in one click, watch progress, see and download results."""

import zipfile

import numpy as np
import pytest
from PIL import Image
from skimage import data

from tests.support.browser import ARTIFACTS, PHONE, sign_in_and_create_project, watch_console
from tests.support.photos import decode, jpeg_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = ARTIFACTS / "portal"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
PHOTOS = {"astronaut": data.astronaut, "chelsea": data.chelsea, "coffee": data.coffee}


@pytest.fixture
def photos(tmp_path):
    paths = []
    for name, load in PHOTOS.items():
        path = tmp_path / f"{name}.jpg"
        Image.fromarray(load()).save(path, format="JPEG", quality=90)
        paths.append(path)
    return paths


def assert_cutout(png: bytes) -> None:
    image = decode(png)
    assert image.format == "PNG" and image.mode == "RGBA"
    alpha = np.asarray(image)[:, :, 3]
    assert alpha.min() == 0, "some background must be transparent"
    assert alpha.max() == 255, "the subject must stay opaque"


def test_upload_select_remove_backgrounds_watch_and_download(
    worker, live_server, chromium, page, owner, photos, tmp_path
):
    problems: list[str] = []
    watch_console(page, problems)
    streams: list[tuple[int, str]] = []
    page.on(
        "response",
        lambda r: streams.append((r.status, r.headers.get("content-type", ""))) if "/api/v1/events/" in r.url else None,
    )

    sign_in_and_create_project(page, live_server, "Catalogue")

    page.set_input_files("#file-input", [str(p) for p in photos])
    page.locator("#uploads li.done").nth(2).wait_for()
    assert page.locator(".record").count() == 3
    page.screenshot(path=SCREENSHOTS / "01-uploaded.png", full_page=True)

    page.get_by_label("Select all").check()
    assert page.locator("#selected-count").inner_text() == "3 selected"
    assert page.get_by_label("Operation").input_value() == "remove_bg"
    page.get_by_role("button", name="Start").click()
    page.locator(".toast", has_text="3 images queued").wait_for()

    # The batch bar moves: partway done before the end.
    page.wait_for_function(
        "() => { const v = document.querySelector('.batch-bar').value; return v > 0 && v < 100; }", timeout=90_000
    )
    page.screenshot(path=SCREENSHOTS / "02-progress.png", full_page=True)

    page.locator(".toast", has_text="3 of 3 done, 0 failed").wait_for(timeout=120_000)
    # The grid shows the results' small previews, made right after by the thumbnail actor.
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.processed')].every(img => (img.getAttribute('src') || '')"
        ".includes('/media/thumbnails/'))",
        timeout=60_000,
    )
    page.locator("#grid").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.processed')].every(img => img.complete && img.naturalWidth > 0)"
    )
    assert page.locator(".batch-bar").first.evaluate("bar => bar.value") == 100
    assert streams and streams[0][0] == 200 and streams[0][1].startswith("text/event-stream"), "progress is pushed"
    page.screenshot(path=SCREENSHOTS / "03-results.png", full_page=True)

    with page.expect_download() as download_info:
        page.locator(".batch .zip").first.click()
    archive_path = tmp_path / "batch.zip"
    download_info.value.save_as(archive_path)
    with zipfile.ZipFile(archive_path) as archive:
        assert sorted(archive.namelist()) == [
            "astronaut-remove_bg.png",
            "chelsea-remove_bg.png",
            "coffee-remove_bg.png",
        ]
        for name in archive.namelist():
            assert_cutout(archive.read(name))

    page.locator(".record", has_text="astronaut.jpg").get_by_role("link", name="Before / after").click()
    page.get_by_role("img", name="Result of astronaut.jpg").wait_for()
    page.screenshot(path=SCREENSHOTS / "04-before-after.png", full_page=True)
    with page.expect_download() as one:
        page.get_by_role("link", name="Download result").click()
    one_path = tmp_path / "one.png"
    one.value.save_as(one_path)
    assert_cutout(one_path.read_bytes())

    project_url = page.get_by_role("link", name="Catalogue").get_attribute("href")
    phone = chromium.new_context(**PHONE, storage_state=page.context.storage_state()).new_page()
    watch_console(phone, problems)
    phone.goto(live_server.url + project_url)
    phone.get_by_role("heading", name="Catalogue").wait_for()
    phone.screenshot(path=SCREENSHOTS / "05-phone.png", full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "nothing may overflow a phone's width"

    page.goto(live_server.url + "/jobs/?state=succeeded&kind=remove_bg")
    assert page.locator("tr[data-job-id]").count() == 3
    page.screenshot(path=SCREENSHOTS / "06-jobs.png", full_page=True)

    assert problems == []


def test_a_failed_job_shows_its_reason_and_a_quota_refusal_is_a_sentence(
    worker, live_server, page, vendor, owner, tmp_path
):
    vendor.limit_overrides = {"remove_bg_limit": 1}
    vendor.save()
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(jpeg_bytes(data.chelsea())[:600])  # a JPEG header and nothing after it
    problems: list[str] = []
    watch_console(page, problems)

    sign_in_and_create_project(page, live_server, "Broken")
    page.set_input_files("#file-input", str(broken))
    page.locator("#uploads li.done").wait_for()
    page.get_by_label("Select all").check()
    page.get_by_role("button", name="Start").click()
    page.locator(".toast", has_text="1 image queued").wait_for()

    done = page.locator(".toast", has_text="0 of 1 done, 1 failed")
    done.wait_for(timeout=90_000)
    assert "image" in done.locator(".reason").inner_text()
    assert page.locator(".record .state").inner_text().startswith("failed")

    # The one background removal of this hour is used: the next start is refused in a sentence.
    page.get_by_role("button", name="Start").click()
    refusal = page.get_by_role("alert")
    refusal.wait_for()
    assert "1 background removals" in refusal.inner_text() and "resets at" in refusal.inner_text()
    page.screenshot(path=SCREENSHOTS / "07-failure-and-refusal.png", full_page=True)

    # A retry counts like a new job (as through the API): refused too, until the limit is raised.
    page.goto(live_server.url + "/jobs/?state=failed")
    page.get_by_role("button", name="Retry").click()
    page.locator(".toast", has_text="resets at").wait_for()
    vendor.limit_overrides = {"remove_bg_limit": 2}
    vendor.save()
    page.get_by_role("button", name="Retry").click()
    page.locator(".toast", has_text="The job is queued again.").wait_for()

    # Chromium reports the refused request (HTTP 429) itself; nothing else may reach the console.
    assert [p for p in problems if "status of 429" not in p] == []


def test_without_server_sent_events_progress_falls_back_to_polling(worker, live_server, page, owner, photos):
    problems: list[str] = []
    watch_console(page, problems)
    page.route("**/api/v1/events/**", lambda route: route.abort())  # a proxy that drops the stream

    sign_in_and_create_project(page, live_server, "Thumbnails")
    page.set_input_files("#file-input", [str(p) for p in photos[:2]])
    page.locator("#uploads li.done").nth(1).wait_for()
    page.get_by_label("Select all").check()
    page.get_by_label("Operation").select_option("transform")
    page.locator("summary", has_text="Options").click()
    page.get_by_label("Width").fill("64")
    page.locator("#p-transform-format").select_option("jpeg")
    page.get_by_role("button", name="Start").click()
    page.locator(".toast", has_text="2 images queued").wait_for()

    page.locator(".toast", has_text="2 of 2 done, 0 failed").wait_for(timeout=90_000)
    page.locator("#grid").scroll_into_view_if_needed()  # thumbnails load lazily, as a user scrolls to them
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.processed')].every(img => img.complete && img.naturalWidth === 64)"
    )
    page.screenshot(path=SCREENSHOTS / "08-polling-transform.png", full_page=True)
    assert [p for p in problems if "ERR_FAILED" not in p] == []
