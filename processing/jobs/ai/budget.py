"""A vendor's daily budget of AI tokens (the plan's ai_tokens_limit, vendors/quotas.py): the
tokens are known only once a provider has answered, so each run adds what its calls took, answered
calls of a failed attempt included, and new AI work is refused once the window's count has
reached the limit. The job that reaches it may pass it by its own tokens."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from redis.exceptions import RedisError

from vendors import quotas
from vendors.models import Vendor

logger = logging.getLogger(__name__)


def ai_tokens(ai_usage: Mapping[str, Any] | None) -> int:
    """Input + output tokens of a usage (ImageOutput.usage, ProcessingError.ai_usage); cached input
    tokens are part of the input tokens the providers report."""
    if not ai_usage:
        return 0
    return int(ai_usage.get("input_tokens") or 0) + int(ai_usage.get("output_tokens") or 0)


def ai_tokens_spend(*, vendor: Vendor, ai_usage: Mapping[str, Any] | None) -> int:
    """Count the tokens a run's AI calls took against the vendor's budget; returns them. Redis
    away: the tokens are not counted against the budget (the usage ledger still has them), and
    the job goes on."""
    tokens = ai_tokens(ai_usage)
    if tokens:
        try:
            quotas.quota_spend(vendor=vendor, name=quotas.AI_TOKENS, amount=tokens)
        except RedisError:
            logger.warning("vendor %s: %s AI tokens could not be counted against its budget", vendor.pk, tokens)
    return tokens
