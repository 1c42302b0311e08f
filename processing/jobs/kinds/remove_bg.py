"""Background removal: every option of `rembg s`, run here (REMBG_BACKEND=local) or on a pool
of `rembg s` servers (REMBG_BACKEND=remote, REMBG_URLS)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import serializers

from processing.jobs.kinds.base import KindParams, Limits, OfferedChoiceField, OfferedSwitch, Processor, Progress
from processing.lib.imaging.bounds import CHANNEL_MAX, CUTOUT_FORMATS, ERODE_SIZE_MAX
from processing.lib.imaging.output import ImageOutput

if TYPE_CHECKING:  # rembg and onnxruntime load only where a job runs
    from rembg.sessions.base import BaseSession

    from processing.lib.rembg.runtime import OnnxSettings


def allowed_models() -> list[str]:
    """REMBG_ALLOWED_MODELS, where "*" means the installed rembg's whole catalogue."""
    allowed = list(settings.REMBG_ALLOWED_MODELS)
    if "*" in allowed:
        # Only then: importing rembg loads onnxruntime, which web processes otherwise never do.
        from processing.lib.rembg.sessions import available_models

        allowed = available_models()
    return allowed


class RemoveBgParams(KindParams):
    model = OfferedChoiceField(offered=allowed_models, required=False)
    alpha_matting = serializers.BooleanField(default=False)
    alpha_matting_foreground_threshold = serializers.IntegerField(min_value=0, max_value=CHANNEL_MAX, default=240)
    alpha_matting_background_threshold = serializers.IntegerField(min_value=0, max_value=CHANNEL_MAX, default=10)
    alpha_matting_erode_size = serializers.IntegerField(min_value=0, max_value=ERODE_SIZE_MAX, default=10)
    only_mask = serializers.BooleanField(default=False)
    post_process_mask = serializers.BooleanField(default=False)
    decontaminate = serializers.BooleanField(default=False)
    # Edge refinement with ViTMatte (rembg's `vm`), with one of REMBG_VITMATTE_MODELS.
    vitmatte = OfferedSwitch(
        offered=lambda: bool(settings.REMBG_VITMATTE_MODELS),
        unavailable="no vitmatte_model is installed here (REMBG_VITMATTE_MODELS)",
        default=False,
    )
    vitmatte_model = OfferedChoiceField(offered=lambda: settings.REMBG_VITMATTE_MODELS, required=False)
    bgcolor = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=CHANNEL_MAX),
        min_length=4,
        max_length=4,
        required=False,
    )
    format = serializers.ChoiceField(choices=CUTOUT_FORMATS, default="png")
    # WebP only (PNG always is lossless): false trades exact colours for ~4x fewer bytes.
    lossless = serializers.BooleanField(default=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs.get("vitmatte"):  # the switch is on only where a variant is installed
            attrs.setdefault("vitmatte_model", settings.REMBG_VITMATTE_MODELS[0])
        else:
            attrs.pop("vitmatte_model", None)
        return attrs


def onnx_threads_per_session() -> int:
    """ONNX_INTRA_OP_THREADS, or (when 0) the cores shared out between the worker's threads, so
    DRAMATIQ_THREADS concurrent inferences never ask for more threads than there are cores."""
    if settings.ONNX_INTRA_OP_THREADS > 0:
        return int(settings.ONNX_INTRA_OP_THREADS)
    if settings.ONNX_SERIAL_INFERENCE:  # one inference at a time: it gets every core
        return os.cpu_count() or 1
    return max(1, (os.cpu_count() or 1) // max(1, int(settings.DRAMATIQ_THREADS)))


def onnx_settings() -> OnnxSettings:
    """How this process's rembg sessions run (threads, providers, memory), from the settings."""
    from processing.lib.rembg.runtime import OnnxSettings

    return OnnxSettings(
        intra_op_threads=onnx_threads_per_session(),
        providers=tuple(settings.REMBG_PROVIDERS),
        cpu_fallback=settings.REMBG_PROVIDER_FALLBACK == "cpu",
        mem_pattern=settings.ONNX_MEM_PATTERN,
        cpu_mem_arena=settings.ONNX_CPU_MEM_ARENA,
        serial=settings.ONNX_SERIAL_INFERENCE,
    )


def local_session(model_name: str | None = None) -> BaseSession:
    """The cached session for model_name (default REMBG_MODEL), as this worker runs it."""
    from processing.lib.rembg.sessions import get_session

    return get_session(
        model_name or settings.REMBG_MODEL,
        home=settings.REMBG_HOME,
        max_sessions=settings.REMBG_MAX_SESSIONS,
        onnx=onnx_settings(),
    )


def run(data: bytes, params: dict[str, Any], *, limits: Limits, progress: Progress) -> ImageOutput:
    # Imported here so web processes never load OpenCV, rembg or onnxruntime.
    from processing.lib.imaging.inspect import load_image

    if settings.REMBG_BACKEND == "remote":
        load_image(data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)  # refuse bad input before sending
        return _run_remote(data, params, limits=limits)
    return _run_local(data, params, limits=limits)


def _run_local(data: bytes, params: dict[str, Any], *, limits: Limits) -> ImageOutput:
    from processing.lib.imaging.background import remove_background
    from processing.lib.rembg.sessions import require_vitmatte

    if params.get("vitmatte"):
        require_vitmatte(params["vitmatte_model"], home=settings.REMBG_HOME)

    return remove_background(
        data,
        session=local_session(params.get("model")),
        alpha_matting=params["alpha_matting"],
        alpha_matting_foreground_threshold=params["alpha_matting_foreground_threshold"],
        alpha_matting_background_threshold=params["alpha_matting_background_threshold"],
        alpha_matting_erode_size=params["alpha_matting_erode_size"],
        only_mask=params["only_mask"],
        post_process_mask=params["post_process_mask"],
        decontaminate=params.get("decontaminate", False),
        vitmatte_model=params.get("vitmatte_model") if params.get("vitmatte") else None,
        bgcolor=tuple(params["bgcolor"]) if params.get("bgcolor") else None,
        format=params["format"],
        lossless=params["lossless"],
        max_bytes=limits.max_bytes,
        max_pixels=limits.max_pixels,
    )


def _run_remote(data: bytes, params: dict[str, Any], *, limits: Limits) -> ImageOutput:
    from processing.lib.imaging.encode import encode
    from processing.lib.imaging.inspect import load_image
    from processing.lib.rembg.remote import remove_remote, servers_for

    form = {
        "model": params.get("model") or settings.REMBG_MODEL,
        "a": _flag(params["alpha_matting"]),
        "af": str(params["alpha_matting_foreground_threshold"]),
        "ab": str(params["alpha_matting_background_threshold"]),
        "ae": str(params["alpha_matting_erode_size"]),
        "om": _flag(params["only_mask"]),
        "ppm": _flag(params["post_process_mask"]),
        "dc": _flag(params.get("decontaminate", False)),
        "vm": _flag(params.get("vitmatte", False)),
    }
    # rembg s reads bgcolor from the query string even on a POST.
    query = {"bgc": ",".join(map(str, params["bgcolor"]))} if params.get("bgcolor") else {}
    servers = servers_for(tuple(settings.REMBG_URLS), settings.REMBG_URL_RETRY_S)
    png = remove_remote(
        data,
        servers=servers,
        form=form,
        query=query,
        timeout_s=settings.REMBG_REMOTE_TIMEOUT_S,
        max_bytes=limits.max_bytes * 4,  # a lossless cut-out may be larger than the photo sent
    )
    cutout = load_image(png, max_bytes=max(limits.max_bytes, len(png)), max_pixels=limits.max_pixels)
    return encode(cutout, format=params["format"], lossless=params.get("lossless", True))


def _flag(value: bool) -> str:
    return "true" if value else "false"


PROCESSOR = Processor(kind="remove_bg", queue="remove_bg", params=RemoveBgParams, run=run)
