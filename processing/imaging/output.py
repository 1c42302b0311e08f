from dataclasses import dataclass


@dataclass(frozen=True)
class ImageOutput:
    """Encoded image bytes and what a client needs to know about them."""

    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}[self.content_type]
