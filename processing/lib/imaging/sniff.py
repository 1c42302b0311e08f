"""What an image's leading bytes say it is, without decoding anything: bytes in, a content type
out. It needs neither Pillow nor numpy (processing.lib.imaging.inspect, which decodes, needs
both), so checking an upload's or a fetched URL's type imports only this."""

import struct

# The types Darkroom reads (processing.lib.imaging.inspect decodes exactly these).
ALLOWED_CONTENT_TYPES = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/bmp",
    "image/tiff",
    "image/heic",  # iPhones' default (HEIF with HEVC), through pillow-heif
    "image/avif",  # HEIF with AV1, read by Pillow itself
}
# How an error message names them to a person.
ACCEPTED_NAMES = "JPEG, PNG, WebP, HEIC, AVIF, GIF, BMP or TIFF"

_BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
# An ISO base media file opens with its ftyp box: size, "ftyp", major brand, minor version, then
# the compatible brands. A HEIF may name AVIF only among those (major brand "mif1").
_FTYP_MAX = 64


def sniff_content_type(data: bytes) -> str | None:
    """The image type the leading bytes announce, without decoding anything."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:2] == b"BM" and len(head) >= 18 and struct.unpack("<I", head[14:18])[0] in _BMP_HEADER_SIZES:
        return "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[4:8] == b"ftyp":
        brands = _ftyp_brands(data)
        if brands & _AVIF_BRANDS:
            return "image/avif"
        if brands & _HEIF_BRANDS:
            return "image/heic"
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"):
        return "image/jxl"
    if head[:4] == b"\x00\x00\x01\x00":
        return "image/x-icon"
    if head[:4] == b"8BPS":
        return "image/vnd.adobe.photoshop"
    if _looks_like_svg(data[:1024]):
        return "image/svg+xml"
    return None


def _ftyp_brands(data: bytes) -> set[bytes]:
    """The major and compatible brands of the ftyp box at the start of data."""
    size = struct.unpack(">I", data[:4])[0]
    box = data[: min(max(size, 16), _FTYP_MAX)]
    return {box[8:12]} | {box[offset : offset + 4] for offset in range(16, len(box) - 3, 4)}


def _looks_like_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text)
