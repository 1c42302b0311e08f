"""A ZIP streamed from storage as it is written: no temporary file, one chunk in memory."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator

from django.core.files.storage import default_storage

CHUNK = 256 * 1024


class _Pipe:
    """A write-only, non-seekable file: zipfile then writes data descriptors instead of seeking."""

    def __init__(self):
        self.buffer = bytearray()
        self.position = 0

    def write(self, data: bytes) -> int:
        self.buffer += data
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def stream_zip(entries: Iterable[tuple[str, str]]) -> Iterator[bytes]:
    """Yield a ZIP of (name in archive, storage name) entries. Images are already compressed."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for arcname, storage_name in entries:
            with default_storage.open(storage_name, "rb") as source, archive.open(arcname, "w") as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    yield pipe.take()
            yield pipe.take()
    yield pipe.take()
