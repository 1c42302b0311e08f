from tests.support.processors import limited as PROCESSOR  # noqa: N812

__all__ = ["PROCESSOR"]
