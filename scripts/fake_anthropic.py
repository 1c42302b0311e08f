"""A loopback server speaking Anthropic's Messages API (POST /v1/messages), to try a
`"provider": "anthropic"` AI endpoint on a local stack with no key and no network
(docs/ai.md, "Trying it locally"). The test suite's routes (tests/support/ai_providers.py) on its
loopback server (tests/support/loopback.py).

    .venv/bin/python scripts/fake_anthropic.py --port 8124 --key sk-ant-local-demo-0123456789 \
        [--answer answer.json] [--log var/fake-anthropic.jsonl]

It refuses a request without the key (401 authentication_error, as Anthropic does) or without
anthropic-version (400), answers a forced tool call with `--answer` (a JSON document; the
label-analysis example by default) as the tool's input, or a text block without tools, with
`usage` counted, and prints (and appends to --log) what it received: the key header, the model,
the image block (type, media type, decoded size) and the tool's schema."""

from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import ai_providers as wire  # noqa: E402
from tests.support.loopback import LoopbackServer  # noqa: E402

USAGE = {"input_tokens": 1210, "output_tokens": 95, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}


def image_summary(block: dict) -> dict:
    source = block.get("source") or {}
    summary = {"type": block.get("type"), "source_type": source.get("type"), "media_type": source.get("media_type")}
    try:
        data = base64.b64decode(source.get("data") or "", validate=True)
        with Image.open(io.BytesIO(data)) as img:
            summary.update(bytes=len(data), format=img.format, size=list(img.size))
    except Exception as exc:  # reported, not fatal: this is a tool for looking
        summary["unreadable"] = f"{type(exc).__name__}: {exc}"
    return summary


def messages_route(*, key: str, answer: dict, log: Path | None):
    def route(request):
        # Anthropic's documented header is x-api-key; the SDK may send the key as a Bearer token.
        header = "x-api-key" if request.headers.get("x-api-key") else "authorization"
        sent_key = (request.headers.get(header) or "").removeprefix("Bearer ")
        body = json.loads(request.body or b"{}")
        content = body.get("messages", [{}])[0].get("content", [])
        seen = {
            "at": time.strftime("%H:%M:%S"),
            "key_header": header,
            "key_received": sent_key,
            "key_ok": not key or sent_key == key,
            "anthropic_version": request.headers.get("anthropic-version"),
            "model": body.get("model"),
            "max_tokens": body.get("max_tokens"),
            "images": [image_summary(b) for b in content if isinstance(b, dict) and b.get("type") == "image"],
            "prompt": " ".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"),
            "tool": [t.get("name") for t in body.get("tools", [])],
            "tool_choice": body.get("tool_choice"),
            "input_schema": (body.get("tools") or [{}])[0].get("input_schema"),
        }
        print(json.dumps(seen), flush=True)
        if log is not None:
            with log.open("a") as handle:
                handle.write(json.dumps(seen) + "\n")
        if not seen["key_ok"]:
            return wire.anthropic_error(401, "authentication_error", "invalid x-api-key")
        if not seen["anthropic_version"]:
            return wire.anthropic_error(400, "invalid_request_error", "anthropic-version: header is required")
        if body.get("tools"):
            return wire.anthropic_message(tool_input=answer, model=body.get("model") or "claude-fake", usage=USAGE)
        return wire.anthropic_message(text=json.dumps(answer), model=body.get("model") or "claude-fake", usage=USAGE)

    return route


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8124)
    parser.add_argument("--key", default="", help="the key requests must carry (any, when empty)")
    parser.add_argument("--answer", type=Path, help="a JSON file: the tool input answered (default: a label analysis)")
    parser.add_argument("--log", type=Path, help="append what each request carried to this file (JSON lines)")
    args = parser.parse_args()
    answer = json.loads(args.answer.read_text()) if args.answer else wire.LABEL_ANSWER
    routes = {"/v1/messages": messages_route(key=args.key, answer=answer, log=args.log)}
    with LoopbackServer(routes, port=args.port) as server:
        print(f"fake Anthropic Messages API on http://127.0.0.1:{server.port} (Ctrl-C stops it)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
