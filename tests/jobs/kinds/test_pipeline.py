"""Kinds chained as one job: remove the background, crop to the subject, then a small WebP."""

import numpy as np
import pytest
from PIL import Image
from skimage import data as samples

from processing.jobs.kinds import InputLimits, get_processor
from processing.lib.errors import InvalidOptions
from tests.support.photos import LIMITS, decode, encoded, jpeg_bytes

PIPELINE = get_processor("pipeline")
TRANSFORM = get_processor("transform")


def subject_on_transparency() -> bytes:
    """A 200x100 transparent canvas with an opaque 40x30 block at (120, 50)."""
    img = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    img.paste((10, 200, 10, 255), (120, 50, 160, 80))
    return encoded(img, "PNG")


def test_crop_to_the_subject_cuts_the_transparent_borders():
    params = TRANSFORM.clean_params({"trim": True})
    output = TRANSFORM.run(subject_on_transparency(), params, limits=InputLimits(**LIMITS), progress=None)
    trimmed = decode(output.data)
    assert trimmed.size == (40, 30) == (output.width, output.height)
    assert np.asarray(trimmed)[:, :, 3].min() == 255

    padded = TRANSFORM.run(
        subject_on_transparency(),
        TRANSFORM.clean_params({"trim": True, "trim_padding": 5}),
        limits=InputLimits(**LIMITS),
        progress=None,
    )
    assert (padded.width, padded.height) == (50, 40)


def test_an_unchanged_size_transform_only_converts():
    output = TRANSFORM.run(
        subject_on_transparency(),
        TRANSFORM.clean_params({"format": "webp", "quality": 80}),
        limits=InputLimits(**LIMITS),
        progress=None,
    )
    assert output.content_type == "image/webp" and (output.width, output.height) == (200, 100)


def test_each_step_is_validated_by_its_own_processor_before_the_job_exists():
    with pytest.raises(InvalidOptions) as bad_step:
        PIPELINE.clean_params({"steps": [{"kind": "remove_bg"}, {"kind": "transform", "params": {"mode": "fill"}}]})
    assert "steps[1] (transform)" in bad_step.value.message and "width" in bad_step.value.message
    with pytest.raises(InvalidOptions) as unknown:
        PIPELINE.clean_params({"steps": [{"kind": "teleport"}]})
    assert "teleport" in unknown.value.message
    with pytest.raises(InvalidOptions):
        PIPELINE.clean_params({"steps": [{"kind": "pipeline", "params": {"steps": [{"kind": "transform"}]}}]})
    with pytest.raises(InvalidOptions):
        PIPELINE.clean_params({"steps": []})


def test_remove_background_then_crop_to_the_subject_then_a_small_webp(settings, rembg_home):
    settings.REMBG_BACKEND = "local"
    settings.REMBG_HOME = rembg_home
    # The coffee cup sits on a table in a wide photo: cutting it out and trimming changes the shape.
    photo = jpeg_bytes(samples.coffee())
    params = PIPELINE.clean_params(
        {
            "steps": [
                {"kind": "remove_bg", "params": {"model": "u2netp"}},
                {"kind": "transform", "params": {"trim": True}},
                {"kind": "transform", "params": {"width": 96, "height": 96, "format": "webp"}},
            ]
        }
    )
    reported = []
    output = PIPELINE.run(photo, params, limits=InputLimits(**LIMITS), progress=lambda *args: reported.append(args))

    result = decode(output.data)
    assert result.format == "WEBP" and output.content_type == "image/webp"
    assert max(result.size) == 96 and result.mode == "RGBA"
    alpha = np.asarray(result)[:, :, 3]
    # Trimmed: every border row and column touches the subject somewhere.
    assert alpha[0].max() > 0 and alpha[-1].max() > 0 and alpha[:, 0].max() > 0 and alpha[:, -1].max() > 0
    assert [stage for stage, *_ in reported] == ["step 1/3", "step 2/3", "step 3/3"]
    assert [percent for _, percent, *_ in reported] == [20, 40, 60]
