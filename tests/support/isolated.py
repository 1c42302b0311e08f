from tests.support.processors import isolated as PROCESSOR  # noqa: N812

__all__ = ["PROCESSOR"]
