import numpy as np
import pytest
from PIL import Image
from skimage import data as samples

from processing.lib.errors import InvalidImage, InvalidOptions
from processing.lib.imaging.background import remove_background
from tests.support.photos import ASTRONAUT_FACE, LIMITS, decode, jpeg_bytes, rotated_jpeg

# u2netp's mask tops out at 254, not 255.
OPAQUE = 250


def alpha_of(data: bytes) -> np.ndarray:
    img = decode(data)
    assert img.mode == "RGBA"
    return np.asarray(img)[..., 3]


def test_astronaut_is_cut_out(astronaut_jpeg, u2netp_session):
    output = remove_background(astronaut_jpeg, session=u2netp_session, **LIMITS)

    assert (output.content_type, output.width, output.height) == ("image/png", 512, 512)
    alpha = alpha_of(output.data)
    # Her suit reaches the bottom corners; the sky behind her head is background.
    assert alpha[:20, :20].max() < 10 and alpha[:20, -20:].max() < 10
    x, y, w, h = ASTRONAUT_FACE
    assert (alpha[y : y + h, x : x + w] >= OPAQUE).mean() > 0.9


def test_chelsea_is_cut_out(chelsea_jpeg, u2netp_session):
    alpha = alpha_of(remove_background(chelsea_jpeg, session=u2netp_session, **LIMITS).data)

    assert alpha.shape == (300, 451)
    assert alpha[:15, :15].max() < 10 and alpha[:15, -15:].max() < 10 and alpha[-15:, -15:].max() < 10
    centre = alpha[100:200, 150:300]
    assert (centre >= OPAQUE).mean() > 0.9


def test_webp_cut_out_keeps_transparency(chelsea_jpeg, u2netp_session):
    output = remove_background(chelsea_jpeg, session=u2netp_session, format="webp", **LIMITS)

    assert output.content_type == "image/webp"
    assert decode(output.data).format == "WEBP"
    assert alpha_of(output.data)[:15, :15].max() < 10


def test_background_colour_fills_the_background(chelsea_jpeg, u2netp_session):
    output = remove_background(chelsea_jpeg, session=u2netp_session, bgcolor=(0, 255, 0, 255), **LIMITS)

    pixels = np.asarray(decode(output.data))
    assert (pixels[..., 3] == 255).all()
    assert tuple(pixels[5, 5]) == (0, 255, 0, 255)


def test_only_mask_gives_the_grey_mask(chelsea_jpeg, u2netp_session):
    mask = decode(remove_background(chelsea_jpeg, session=u2netp_session, only_mask=True, **LIMITS).data)

    assert mask.mode == "L" and mask.size == (451, 300)
    values = np.asarray(mask)
    assert values[:15, :15].max() < 10 and values[100:200, 150:300].mean() > 240


def test_post_processed_mask_is_binary(chelsea_jpeg, u2netp_session):
    mask = decode(
        remove_background(chelsea_jpeg, session=u2netp_session, only_mask=True, post_process_mask=True, **LIMITS).data
    )

    assert set(np.unique(np.asarray(mask))) <= {0, 255}


def test_alpha_matting_runs(u2netp_session):
    # Matting costs seconds at full size; half size keeps the test quick.
    small = jpeg_bytes(Image.fromarray(samples.chelsea()).resize((225, 150)))

    alpha = alpha_of(remove_background(small, session=u2netp_session, alpha_matting=True, **LIMITS).data)

    assert alpha.shape == (150, 225)
    assert alpha[:8, :8].max() < 10 and (alpha[50:100, 75:150] >= OPAQUE).mean() > 0.9


def test_exif_orientation_is_applied_once(u2netp_session):
    output = remove_background(rotated_jpeg(90, 60), session=u2netp_session, **LIMITS)

    assert decode(output.data).size == (60, 90)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"format": "JPEG"}, "needs transparency"),
        ({"bgcolor": (255, 255, 255)}, "bgcolor"),
        ({"bgcolor": (0, 0, 0, 300)}, "bgcolor"),
        ({"alpha_matting_foreground_threshold": 256}, "foreground_threshold"),
        ({"alpha_matting_erode_size": -1}, "erode_size"),
    ],
)
def test_bad_parameters_are_refused_before_any_work(params, message):
    # A None session would crash rembg: InvalidOptions proves nothing ran.
    with pytest.raises(InvalidOptions, match=message):
        remove_background(b"not even an image", session=None, **params, **LIMITS)


def test_not_an_image_is_refused_before_the_model_runs():
    with pytest.raises(InvalidImage):
        remove_background(b"plain text", session=None, **LIMITS)
