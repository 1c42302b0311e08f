"""Reads Server-Sent Events the way a browser's EventSource does: `event:` and `data:` lines up
to a blank line; comment lines (`:`) are kept apart so tests can see heartbeats."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass
class Event:
    name: str
    data: dict


def parse(lines: Iterable[str]) -> Iterator[Event]:
    name, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield Event(name, json.loads("\n".join(data)))
            name, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :].strip())


def events_of(body: bytes) -> list[Event]:
    return list(parse(body.decode().split("\n")))
