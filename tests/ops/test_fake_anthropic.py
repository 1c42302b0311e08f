"""scripts/fake_anthropic.py, the loopback Messages API docs/ai.md ("Trying it locally") starts
beside a make run stack: the official anthropic client gets the forced tool call's answer and its
usage with the right key, a 401 authentication_error with another; the server prints what it got."""

import base64
import json
import subprocess
import sys

import anthropic
import pytest

from tests.support.loopback import free_port
from tests.support.paths import ROOT
from tests.support.photos import image_bytes
from tests.support.waiting import wait_for
from tests.worker import stop_process_group

KEY = "sk-ant-local-demo-0123456789"


@pytest.fixture
def fake(tmp_path):
    port = free_port()
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps({"colour": "red"}))
    out = tmp_path / "out.log"
    with out.open("w") as handle:
        proc = subprocess.Popen(
            [sys.executable, "scripts/fake_anthropic.py", "--port", str(port), "--key", KEY, "--answer", str(answer)],
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: "Messages API on" in out.read_text(), timeout=30, what="the fake to listen")
        yield f"http://127.0.0.1:{port}", out
    finally:
        stop_process_group(proc)


def ask(base_url: str, key: str):
    client = anthropic.Anthropic(api_key=key, base_url=base_url, max_retries=0)
    png = base64.b64encode(image_bytes((30, 20), (200, 0, 0))).decode()
    return client.messages.create(
        model="claude-local",
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
                    {"type": "text", "text": "Which colour?"},
                ],
            }
        ],
        tools=[{"name": "answer", "input_schema": {"type": "object", "properties": {"colour": {"type": "string"}}}}],
        tool_choice={"type": "tool", "name": "answer"},
    )


def test_the_fake_answers_the_tool_call_and_refuses_another_key(fake):
    base_url, out = fake
    message = ask(base_url, KEY)
    assert [block.type for block in message.content] == ["tool_use"]
    assert message.content[0].input == {"colour": "red"}
    assert (message.usage.input_tokens, message.usage.output_tokens) == (1210, 95)

    with pytest.raises(anthropic.AuthenticationError):
        ask(base_url, "sk-ant-someone-else-000000")

    seen = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
    assert [entry["key_ok"] for entry in seen] == [True, False]
    assert seen[0]["images"][0] | {"bytes": 0} == {
        "type": "image",
        "source_type": "base64",
        "media_type": "image/png",
        "bytes": 0,
        "format": "PNG",
        "size": [30, 20],
    }
    assert seen[0]["input_schema"] == {"type": "object", "properties": {"colour": {"type": "string"}}}
