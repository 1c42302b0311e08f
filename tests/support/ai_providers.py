"""Loopback routes speaking the AI providers' HTTP APIs as they document them (Anthropic's Messages
API, OpenAI's chat completions and images), for the official SDK clients to talk to."""

import base64
import json
import time

from tests.support.photos import image_bytes

LABEL_ANSWER = {
    "category": "food supplement",
    "marketplaces": [
        {"name": "Amazon EU", "compliant": False, "findings": ["no EU responsible person"]},
        {"name": "eBay", "compliant": True, "findings": []},
    ],
    "extracted_text": "VITAMIN D3 1000 IU - 60 capsules",
    "confidence": 0.87,
}


def _json(status: int, document, headers: dict[str, str] | None = None):
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(document).encode()


def anthropic_message(*, tool_input=None, text=None, model="claude-test", usage=None):
    """A Messages API answer: a tool_use block (a forced tool's input) or a text block."""
    content = (
        [{"type": "tool_use", "id": "toolu_01", "name": "answer", "input": tool_input}]
        if tool_input is not None
        else [{"type": "text", "text": text or ""}]
    )
    return _json(
        200,
        {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": "tool_use" if tool_input is not None else "end_turn",
            "stop_sequence": None,
            "usage": usage
            or {
                "input_tokens": 1210,
                "output_tokens": 95,
                "cache_read_input_tokens": 40,
                "cache_creation_input_tokens": 0,
            },
        },
    )


def anthropic_error(status: int, kind: str, message: str, headers: dict[str, str] | None = None):
    return _json(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)


def openai_completion(content: str, *, model="gpt-test", usage=None):
    return _json(
        200,
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": usage
            or {
                "prompt_tokens": 820,
                "completion_tokens": 64,
                "total_tokens": 884,
                "prompt_tokens_details": {"cached_tokens": 512},
            },
        },
    )


def openai_error(status: int, message: str, kind: str = "invalid_request_error", headers=None):
    return _json(status, {"error": {"message": message, "type": kind, "param": None, "code": None}}, headers)


def openai_images(size=(64, 48), colour=(200, 30, 30)):
    png = image_bytes(size, colour)
    return _json(
        200,
        {
            "created": 1_700_000_000,
            "data": [{"b64_json": base64.b64encode(png).decode()}],
            "usage": {"input_tokens": 12, "output_tokens": 4160, "total_tokens": 4172},
        },
    )


def slow(seconds: float, answer):
    """A route that answers after `seconds` (a provider slower than the timeout)."""

    def route(request):
        time.sleep(seconds)
        return answer

    return route


def sequence(*answers):
    """A route answering each of `answers` in turn, then the last one for ever."""
    pending = list(answers)

    def route(request):
        return pending.pop(0) if len(pending) > 1 else pending[0]

    return route


def body(request) -> dict:
    return json.loads(request.body)
