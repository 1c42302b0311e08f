"""A ZIP streamed from storage as it is written: no temporary file, one chunk in memory.

Under ASGI, Django turns a sync iterator into a list before sending anything, so the whole ZIP
would be built in memory first; there the same stream is handed over as an async iterator,
each chunk made in a thread (storage reads block)."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator, Iterable, Iterator

from asgiref.sync import sync_to_async
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


async def astream_zip(entries: Iterable[tuple[str, str]]) -> AsyncIterator[bytes]:
    """stream_zip for ASGI: the first bytes leave before the last file is opened."""
    chunks = stream_zip(entries)
    take = sync_to_async(next, thread_sensitive=False)
    try:
        while (chunk := await take(chunks, None)) is not None:
            if chunk:
                yield chunk
    finally:  # the client went away: close the files the generator holds open
        await sync_to_async(chunks.close, thread_sensitive=False)()
