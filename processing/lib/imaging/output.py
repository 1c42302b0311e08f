import json
from dataclasses import dataclass
from typing import Any

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "application/json": "json"}
JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class ImageOutput:
    """A job's result: encoded image bytes (or a JSON document) and what a client needs to know.

    A JSON result (an outside AI endpoint's labels) has no size: width and height are None.
    `usage` is what an outside AI service counted for it (tokens, model, calls), else None.
    """

    data: bytes
    content_type: str
    width: int | None
    height: int | None
    usage: dict[str, Any] | None = None

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self.content_type]

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def json_output(document: Any) -> ImageOutput:
    """A JSON-serialisable document as a result."""
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return ImageOutput(data=data, content_type=JSON_CONTENT_TYPE, width=None, height=None)
