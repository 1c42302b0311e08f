"""The ASGI application (config.asgi, what production runs) refuses a body over
REQUEST_MAX_BYTES with 413 in the error shape before Django reads it: at once when
Content-Length says so, and after the first chunk over the limit when the body is chunked."""

import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)
CHUNK = b"x" * 1000


def scope(headers=()):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/jobs/",
        "raw_path": b"/api/v1/jobs/",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


async def answer(communicator):
    start = await communicator.receive_output(timeout=5)
    body = await communicator.receive_output(timeout=5)
    return start["status"], json.loads(body["body"])


def test_a_declared_length_over_the_limit_is_refused_before_any_byte_is_read(settings):
    settings.REQUEST_MAX_BYTES = 10_000
    communicator = ApplicationCommunicator(application, scope([(b"content-length", b"10000000000")]))
    # No body is ever sent: the answer must not wait for one.

    status, body = async_to_sync(answer)(communicator)

    assert status == 413
    assert body["code"] == "too_large"
    assert communicator.input_queue.qsize() == 0


def test_a_chunked_body_stops_being_read_once_over_the_limit(settings):
    settings.REQUEST_MAX_BYTES = 10_000
    communicator = ApplicationCommunicator(application, scope([(b"transfer-encoding", b"chunked")]))
    for _ in range(50):  # 50 KB offered, 10 KB allowed
        communicator.input_queue.put_nowait({"type": "http.request", "body": CHUNK, "more_body": True})

    status, body = async_to_sync(answer)(communicator)

    assert status == 413 and body["code"] == "too_large"
    unread = communicator.input_queue.qsize()
    assert unread >= 50 - 11, f"read {50 - unread} chunks of 1 KB with a 10 KB limit"


def test_a_body_under_the_limit_reaches_the_api(settings):
    settings.REQUEST_MAX_BYTES = 10_000
    communicator = ApplicationCommunicator(application, scope([(b"content-length", b"2")]))
    communicator.input_queue.put_nowait({"type": "http.request", "body": b"{}", "more_body": False})

    status, body = async_to_sync(answer)(communicator)

    assert status == 401  # the API's own answer: the body got through, the caller has no token
    assert body["code"] == "not_authenticated"


# A JSON body has a limit of its own, far lower (JSON_BODY_MAX_BYTES): parsing builds objects
# many times its size (issue 22, point 4; the parser's side in tests/security/test_json_bodies.py).
JSON = (b"content-type", b"application/json")


def test_a_json_body_over_its_own_limit_is_dropped_unparsed_and_refused(settings):
    """Under REQUEST_MAX_BYTES, its bytes are read and dropped (so the client, still sending,
    reads the 413 rather than a reset connection), never handed to Django."""
    settings.JSON_BODY_MAX_BYTES = 10_000
    settings.REQUEST_MAX_BYTES = 100_000
    communicator = ApplicationCommunicator(application, scope([JSON, (b"content-length", b"50000")]))
    for n in range(50):
        communicator.input_queue.put_nowait({"type": "http.request", "body": CHUNK, "more_body": n < 49})

    status, body = async_to_sync(answer)(communicator)

    assert status == 413 and body["code"] == "too_large" and "10000 bytes" in body["detail"]
    assert communicator.input_queue.qsize() == 0


def test_a_json_body_over_the_request_limit_is_refused_before_any_byte_is_read(settings):
    settings.JSON_BODY_MAX_BYTES = 1024 * 1024
    settings.REQUEST_MAX_BYTES = 2 * 1024 * 1024
    five_mib = str(5 * 1024 * 1024).encode()
    communicator = ApplicationCommunicator(application, scope([JSON, (b"content-length", five_mib)]))

    status, body = async_to_sync(answer)(communicator)

    assert status == 413 and body["code"] == "too_large"
    assert communicator.input_queue.qsize() == 0


def test_a_chunked_json_body_is_not_parsed_once_over_its_limit(settings):
    settings.JSON_BODY_MAX_BYTES = 10_000
    settings.REQUEST_MAX_BYTES = 20_000
    communicator = ApplicationCommunicator(
        application, scope([(b"content-type", b"application/merge-patch+json"), (b"transfer-encoding", b"chunked")])
    )
    for _ in range(50):  # 50 KB of `[],[],…` offered, 10 KB allowed, dropped up to 20 KB
        communicator.input_queue.put_nowait({"type": "http.request", "body": b"[]," * 333, "more_body": True})

    status, body = async_to_sync(answer)(communicator)

    assert status == 413 and body["code"] == "too_large"
    unread = communicator.input_queue.qsize()
    assert unread >= 50 - 22, f"read {50 - unread} chunks of 1 KB with a 20 KB request limit"


def test_other_bodies_keep_the_request_limit(settings):
    settings.JSON_BODY_MAX_BYTES = 1000
    settings.REQUEST_MAX_BYTES = 100_000
    multipart = (b"content-type", b"multipart/form-data; boundary=x")
    communicator = ApplicationCommunicator(application, scope([multipart, (b"content-length", b"2000")]))
    communicator.input_queue.put_nowait({"type": "http.request", "body": b"x" * 2000, "more_body": False})

    status, body = async_to_sync(answer)(communicator)

    assert status == 401  # through to the API
