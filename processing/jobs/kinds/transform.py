from typing import Any

from rest_framework import serializers

from processing.jobs.kinds.base import IMAGE_FORMATS, KindParams, Limits, Processor, Progress, RequiredWhen
from processing.lib.imaging.bounds import QUALITY_MAX, QUALITY_MIN, TRIM_PADDING_MAX
from processing.lib.imaging.output import ImageOutput


class TransformParams(KindParams):
    width = serializers.IntegerField(min_value=1, max_value=10_000, required=False, allow_null=True)
    height = serializers.IntegerField(min_value=1, max_value=10_000, required=False, allow_null=True)
    mode = serializers.ChoiceField(choices=["fit", "fill", "exact", "thumbnail"], default="fit")
    format = serializers.ChoiceField(choices=IMAGE_FORMATS, default="png")
    quality = serializers.IntegerField(min_value=QUALITY_MIN, max_value=QUALITY_MAX, default=90)
    strip_metadata = serializers.BooleanField(default=True)
    # Crop to the subject: cut fully transparent borders (after a remove_bg step), before resizing.
    trim = serializers.BooleanField(default=False)
    trim_padding = serializers.IntegerField(min_value=0, max_value=TRIM_PADDING_MAX, default=0)
    upscale = serializers.BooleanField(default=False)

    required_when = (
        RequiredWhen("mode", ("fill", "exact"), ("width", "height")),
        RequiredWhen("mode", ("thumbnail",), ("width",)),  # the longest side
    )


def run(data: bytes, params: dict[str, Any], *, limits: Limits, progress: Progress) -> ImageOutput:
    # Imported here so web processes never load OpenCV, rembg or onnxruntime.
    from processing.lib.imaging.transform import transform

    return transform(
        data,
        width=params.get("width"),
        height=params.get("height"),
        mode=params["mode"],
        format=params["format"],
        quality=params["quality"],
        strip_metadata=params["strip_metadata"],
        trim=params.get("trim", False),
        trim_padding=params.get("trim_padding", 0),
        upscale=params.get("upscale", False),
        max_bytes=limits.max_bytes,
        max_pixels=limits.max_pixels,
    )


PROCESSOR = Processor(kind="transform", queue="transform", params=TransformParams, run=run)
