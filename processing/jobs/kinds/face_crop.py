from typing import Any

from rest_framework import serializers

from processing.jobs.kinds.base import IMAGE_FORMATS, Limits, Processor, Progress
from processing.lib.imaging.bounds import ASPECT_MAX, ASPECT_MIN, FACE_MARGIN_MAX, QUALITY_MAX, QUALITY_MIN
from processing.lib.imaging.output import ImageOutput


class FaceCropParams(serializers.Serializer):
    margin = serializers.FloatField(min_value=0, max_value=FACE_MARGIN_MAX, default=0.4)
    aspect = serializers.FloatField(min_value=ASPECT_MIN, max_value=ASPECT_MAX, required=False, allow_null=True)
    which = serializers.ChoiceField(choices=["largest", "all"], default="largest")
    square_pad = serializers.BooleanField(default=False)
    format = serializers.ChoiceField(choices=IMAGE_FORMATS, default="png")
    quality = serializers.IntegerField(min_value=QUALITY_MIN, max_value=QUALITY_MAX, default=90)


def run(data: bytes, params: dict[str, Any], *, limits: Limits, progress: Progress) -> ImageOutput:
    # Imported here so web processes never load OpenCV, rembg or onnxruntime.
    from processing.lib.imaging.faces import face_crop

    return face_crop(
        data,
        margin=params["margin"],
        aspect=params.get("aspect"),
        which=params["which"],
        square_pad=params["square_pad"],
        format=params["format"],
        quality=params["quality"],
        max_bytes=limits.max_bytes,
        max_pixels=limits.max_pixels,
    )


PROCESSOR = Processor(kind="face_crop", queue="face_crop", params=FaceCropParams, run=run)
