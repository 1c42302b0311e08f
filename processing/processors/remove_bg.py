from django.conf import settings
from rest_framework import serializers

from .base import Processor


class RemoveBgParams(serializers.Serializer):
    model = serializers.CharField(required=False)
    alpha_matting = serializers.BooleanField(default=False)
    alpha_matting_foreground_threshold = serializers.IntegerField(min_value=0, max_value=255, default=240)
    alpha_matting_background_threshold = serializers.IntegerField(min_value=0, max_value=255, default=10)
    alpha_matting_erode_size = serializers.IntegerField(min_value=0, max_value=100, default=10)
    only_mask = serializers.BooleanField(default=False)
    post_process_mask = serializers.BooleanField(default=False)
    bgcolor = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=255),
        min_length=4,
        max_length=4,
        required=False,
    )
    format = serializers.ChoiceField(choices=["png", "webp"], default="png")

    def validate_model(self, value):
        if value not in settings.REMBG_ALLOWED_MODELS:
            raise serializers.ValidationError(f"model must be one of {settings.REMBG_ALLOWED_MODELS}")
        return value


def run(data, params, *, limits, progress):
    # Imported here so web processes never load OpenCV, rembg or onnxruntime.
    from processing.imaging.background import remove_background
    from processing.rembg_sessions import get_session

    session = get_session(
        params.get("model") or settings.REMBG_MODEL,
        home=settings.REMBG_HOME,
        max_sessions=settings.REMBG_MAX_SESSIONS,
        intra_op_threads=settings.ONNX_INTRA_OP_THREADS,
    )
    return remove_background(
        data,
        session=session,
        alpha_matting=params["alpha_matting"],
        alpha_matting_foreground_threshold=params["alpha_matting_foreground_threshold"],
        alpha_matting_background_threshold=params["alpha_matting_background_threshold"],
        alpha_matting_erode_size=params["alpha_matting_erode_size"],
        only_mask=params["only_mask"],
        post_process_mask=params["post_process_mask"],
        bgcolor=tuple(params["bgcolor"]) if params.get("bgcolor") else None,
        format=params["format"],
        max_bytes=limits.max_bytes,
        max_pixels=limits.max_pixels,
    )


PROCESSOR = Processor(kind="remove_bg", queue="remove_bg", params=RemoveBgParams, run=run)
