from tests.support.processors import sleepy as PROCESSOR  # noqa: N812

__all__ = ["PROCESSOR"]
