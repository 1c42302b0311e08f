"""Bounds of the image operations' options, in one light module: the pure functions check them,
and the job kinds' parameter serializers (on the request path, without OpenCV) state the same."""

FACE_MARGIN_MAX = 3.0  # margin on each side, as a fraction of the face's size
ASPECT_MIN, ASPECT_MAX = 0.1, 10.0  # width / height
QUALITY_MIN, QUALITY_MAX = 1, 100  # lossy encoders' quality
TRIM_PADDING_MAX = 10_000  # pixels kept around the subject after trimming
CHANNEL_MAX = 255  # an 8-bit value: a colour channel, an alpha matting threshold
ERODE_SIZE_MAX = 100  # alpha matting's erosion, in pixels
# Alpha matting's closed-form solve on at most this many pixels (processing.lib.imaging.background).
MATTING_MAX_PIXELS = 1024 * 1024
# Decontaminate's foreground estimate on at most this many pixels: a 12 MP photo is exact.
DECONTAMINATE_MAX_PIXELS = 16_000_000
# A cut-out is only useful with transparency, so no JPEG.
CUTOUT_FORMATS = ("png", "webp")
