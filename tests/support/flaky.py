from tests.support.processors import flaky as PROCESSOR  # noqa: N812

__all__ = ["PROCESSOR"]
