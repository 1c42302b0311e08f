"""Input images by URL: fetched from real loopback servers, and refused where a job must not go."""

import time

import pytest

from processing.jobs.outbound import url_input_policy
from processing.lib.errors import ImageTooLarge, InvalidImage, InvalidOptions, PermanentError, TemporaryError
from processing.lib.http.fetch import check_image_url, fetch_image
from tests.support.photos import image_bytes

PNG = image_bytes()
LIMITS = {"max_bytes": 64 * 1024, "timeout_s": 2.0}


def fetch(url, **limits):
    """As the runner fetches a job's input: with the address policy the settings give."""
    return fetch_image(url, policy=url_input_policy(), **limits)


def _slow(request):
    time.sleep(3)
    return 200, {"Content-Type": "image/png"}, PNG


@pytest.fixture
def images(serve):
    return serve(
        {
            "/cat.png": lambda r: (200, {"Content-Type": "image/png"}, PNG),
            "/moved": lambda r: (302, {"Location": "/cat.png"}, b""),
            "/loop": lambda r: (302, {"Location": "/loop"}, b""),
            "/huge.png": lambda r: (200, {"Content-Type": "image/png"}, PNG + b"\0" * (70 * 1024)),
            "/page.html": lambda r: (200, {"Content-Type": "image/png"}, b"<html><body>hello</body></html>"),
            "/down": lambda r: (503, {}, b"maintenance"),
            "/busy": lambda r: (429, {"Retry-After": "7"}, b"slow down"),
            "/gone": lambda r: (404, {}, b""),
            "/slow.png": _slow,
        }
    )


@pytest.fixture
def private_allowed(settings):
    settings.IMAGE_FETCH_ALLOW_PRIVATE = True


@pytest.fixture
def private_refused(settings):
    settings.IMAGE_FETCH_ALLOW_PRIVATE = False
    settings.IMAGE_FETCH_PRIVATE_ALLOWLIST = []
    return settings


def test_an_image_is_fetched_and_redirects_are_followed(images, private_allowed):
    assert fetch(images.url("/cat.png"), **LIMITS) == PNG
    assert fetch(images.url("/moved"), **LIMITS) == PNG
    assert images.calls("/moved") == 1 and images.calls("/cat.png") == 2


@pytest.mark.parametrize(
    ("path", "error", "code"),
    [
        ("/huge.png", ImageTooLarge, "image_too_large"),
        ("/page.html", InvalidImage, "invalid_image"),
        ("/gone", PermanentError, "url_fetch_failed"),
        ("/loop", PermanentError, "url_fetch_failed"),
    ],
)
def test_what_retrying_cannot_fix_is_a_permanent_failure(images, private_allowed, path, error, code):
    with pytest.raises(error) as failure:
        fetch(images.url(path), **LIMITS)
    assert failure.value.code == code
    assert not failure.value.retryable


def test_outages_and_timeouts_are_retried(images, private_allowed):
    with pytest.raises(TemporaryError) as down:
        fetch(images.url("/down"), **LIMITS)
    assert down.value.code == "url_unavailable"

    with pytest.raises(TemporaryError) as busy:
        fetch(images.url("/busy"), **LIMITS)
    assert busy.value.retry_after_s == 7

    with pytest.raises(TemporaryError) as slow:
        fetch(images.url("/slow.png"), max_bytes=LIMITS["max_bytes"], timeout_s=0.5)
    assert slow.value.code == "url_timeout"


def test_nothing_listening_is_retried(private_allowed):
    with pytest.raises(TemporaryError) as failure:
        fetch("http://127.0.0.1:1/x.png", **LIMITS)
    assert failure.value.code == "url_unreachable"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/cat.png",
        "http://localhost:{port}/cat.png",
        "http://[::1]:{port}/cat.png",
        "http://[::ffff:127.0.0.1]:{port}/cat.png",
        "http://10.1.2.3/cat.png",
        "http://192.168.0.10/cat.png",
        "http://172.16.5.4/cat.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/cat.png",
        "http://0.0.0.0:{port}/cat.png",
        "http://2130706433:{port}/cat.png",  # 127.0.0.1 as one decimal number
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(images, private_refused, url):
    with pytest.raises(InvalidOptions) as refused:
        fetch(url.format(port=images.port), **LIMITS)
    assert refused.value.code == "url_refused"
    assert not refused.value.retryable
    assert images.requests == [], "nothing may be sent to a refused address"


def test_a_redirect_to_loopback_is_refused(private_refused, serve):
    target = serve({"/secret.png": lambda r: (200, {"Content-Type": "image/png"}, PNG)})
    redirector = serve({"/go": lambda r: (302, {"Location": target.url("/secret.png")}, b"")})
    # Only the redirector's own address is allowed, as an operator would allow an internal store.
    private_refused.IMAGE_FETCH_PRIVATE_ALLOWLIST = [f"127.0.0.1:{redirector.port}"]

    with pytest.raises(InvalidOptions) as refused:
        fetch(redirector.url("/go"), **LIMITS)
    assert refused.value.code == "url_refused"
    assert redirector.calls("/go") == 1
    assert target.requests == [], "the redirect target must never be contacted"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/a.png", "file:///etc/passwd", "http:///a.png", "https://user:pw@example.com/a.png", "nonsense"],
)
def test_only_plain_http_and_https_urls_are_accepted(url):
    with pytest.raises(InvalidOptions) as refused:
        check_image_url(url)
    assert refused.value.code == "invalid_url"


@pytest.mark.django_db
def test_a_job_with_a_bad_url_is_refused_when_created(vendor):
    from processing.jobs import services
    from processing.jobs.models import Job

    with pytest.raises(InvalidOptions) as refused:
        services.job_create(vendor=vendor, kind="transform", params={"width": 10}, image_url="gopher://x/y.png")
    assert refused.value.code == "invalid_url"
    assert not Job.objects.exists()
    job = services.job_create(
        vendor=vendor, kind="transform", params={"width": 10}, image_url="https://example.com/a.png"
    )
    assert job.input_url == "https://example.com/a.png"
