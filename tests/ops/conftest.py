"""Jobs here run in-process (the actor's function called directly) on the test-only `isolated`
kind, whose queue the shared e2e worker never consumes, so no other process takes them."""

import io
import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from processing.lib.logcontext import JobContextFilter


def configured_console_filters() -> list[logging.Filter]:
    """The filters LOGGING puts on the console handler, which every line goes through."""
    for handler in logging.getLogger().handlers:
        filters = [f for f in handler.filters if isinstance(f, JobContextFilter)]
        if filters:
            return filters
    raise AssertionError("LOGGING installs no JobContextFilter on the root handlers")


@pytest.fixture
def json_lines():
    """Captures what the root logger emits, formatted as production's JSON lines."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for log_filter in configured_console_filters():
        handler.addFilter(log_filter)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)
