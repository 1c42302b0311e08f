"""A loop that meets a Redis that does not answer (a restart) says so once, as a WARNING without
a traceback, and once again when Redis is back; other failures are left to it to log."""

import logging

import pytest
import redis

from processing.lib.redis import OutageNotice, traceback_unless_away
from tests.support.loopback import free_port

logger = logging.getLogger("tests.outage")


def refused() -> redis.ConnectionError:
    with pytest.raises(redis.ConnectionError) as caught:
        redis.Redis(port=free_port(), socket_connect_timeout=1).ping()
    return caught.value


def test_an_outage_is_one_warning_and_its_end_one_info(caplog):
    caplog.set_level(logging.INFO, logger="tests.outage")
    notice = OutageNotice(logger, "maintenance tick")
    assert all(notice.failed(refused()) for _ in range(5))
    notice.ok()
    notice.ok()
    lines = [(r.levelname, r.exc_info) for r in caplog.records]
    assert lines == [("WARNING", None), ("INFO", None)]
    assert "Redis does not answer" in caplog.records[0].getMessage()


def test_anything_else_is_left_to_the_caller(caplog):
    notice = OutageNotice(logger, "maintenance tick")
    assert notice.failed(ValueError("a bug")) is False
    assert caplog.records == []


def test_a_warning_about_redis_being_away_carries_no_traceback_but_a_bug_does():
    away = refused()
    assert traceback_unless_away(away) is None
    bug = KeyError("x")
    assert traceback_unless_away(bug) is bug
