import pytest


@pytest.fixture(autouse=True)
def _fresh_counters(clean_redis):
    """Every test here starts from empty quota counters."""
