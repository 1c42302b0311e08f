import threading

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as samples

from processing.lib.errors import InvalidOptions, NoFaceFound
from processing.lib.imaging.faces import detect_faces, face_crop
from tests.support.photos import ASTRONAUT_FACE, LIMITS, decode, encoded, jpeg_bytes


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return decode(jpeg_bytes(samples.astronaut())).convert("RGB")


def locate(crop: Image.Image, photo: Image.Image) -> tuple[int, int]:
    """Where a lossless crop sits in the photo it was cut from."""
    scores = cv2.matchTemplate(np.asarray(photo), np.asarray(crop.convert("RGB")), cv2.TM_SQDIFF)
    _, _, best, _ = cv2.minMaxLoc(scores)
    return best


def contains(outer: tuple[int, int, int, int], inner: tuple[int, int, int, int]) -> bool:
    ox, oy, ow, oh = outer
    ix, iy, iw, ih = inner
    return ox <= ix and oy <= iy and ix + iw <= ox + ow and iy + ih <= oy + oh


def test_astronaut_has_exactly_her_face(astronaut):
    faces = detect_faces(astronaut)

    assert len(faces) == 1
    x, y, w, h = faces[0]
    # By eye the face spans about x 160-270, y 40-190.
    assert 165 <= x <= 190 and 55 <= y <= 80 and 85 <= w <= 105 and 85 <= h <= 105


@pytest.mark.parametrize("photo", ["chelsea", "coffee"])
def test_no_faces_in_the_cat_or_the_coffee(photo):
    assert detect_faces(Image.fromarray(getattr(samples, photo)())) == []


def test_boxes_are_in_the_original_coordinates_of_a_large_photo(astronaut):
    big = astronaut.resize((2048, 2048))

    [(x, y, w, h)] = detect_faces(big)

    fx, fy, fw, _ = ASTRONAUT_FACE
    assert abs(x - 4 * fx) <= 24 and abs(y - 4 * fy) <= 24 and abs(w - 4 * fw) <= 32


def test_faces_come_largest_first(astronaut):
    pair = Image.new("RGB", (768, 512))
    pair.paste(astronaut.resize((256, 256)), (0, 128))
    pair.paste(astronaut, (256, 0))

    faces = detect_faces(pair)

    assert len(faces) == 2
    assert faces[0][2] > faces[1][2]
    assert faces[0][0] > 256 > faces[1][0]


def test_detection_from_many_threads_at_once(astronaut):
    results, barrier = [], threading.Barrier(4)

    def detect():
        barrier.wait()
        results.append(detect_faces(astronaut))

    threads = [threading.Thread(target=detect) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [results[0]] * 4 and len(results[0]) == 1


def test_face_crop_contains_the_face_and_is_smaller(astronaut_jpeg, astronaut):
    output = face_crop(astronaut_jpeg, margin=0.4, format="PNG", **LIMITS)

    crop = decode(output.data)
    assert crop.format == "PNG" and crop.size == (output.width, output.height)
    assert crop.width < 512 and crop.height < 512
    x, y = locate(crop, astronaut)
    assert contains((x, y, crop.width, crop.height), ASTRONAUT_FACE)
    # Margin 0.4 on each side of a ~95 px face.
    assert 150 <= crop.width <= 190


def test_face_crop_to_an_aspect(astronaut_jpeg):
    crop = decode(face_crop(astronaut_jpeg, aspect=0.75, format="JPEG", **LIMITS).data)

    assert crop.format == "JPEG"
    assert abs(crop.width / crop.height - 0.75) < 0.02


def test_face_crop_never_leaves_the_image(astronaut_jpeg, astronaut):
    crop = decode(face_crop(astronaut_jpeg, margin=3.0, aspect=2.0, **LIMITS).data)

    assert crop.size == (512, 256)
    assert locate(crop, astronaut)[0] == 0


@pytest.mark.parametrize(("format", "band"), [("PNG", (0, 0, 0, 0)), ("WEBP", (0, 0, 0, 0)), ("JPEG", (255, 255, 255))])
def test_square_pad_for_avatars(astronaut_jpeg, format, band):
    output = face_crop(astronaut_jpeg, aspect=2.0, square_pad=True, format=format, **LIMITS)

    avatar = decode(output.data)
    assert avatar.width == avatar.height
    top_left = avatar.getpixel((0, 0))
    if format == "JPEG":
        assert all(channel > 245 for channel in top_left)
    else:
        assert avatar.mode == "RGBA" and top_left[3] == 0
        assert avatar.getpixel((avatar.width // 2, avatar.height // 2))[3] == 255


def test_which_all_crops_around_every_face(astronaut):
    pair = Image.new("RGB", (1024, 512))
    pair.paste(astronaut, (0, 0))
    pair.paste(astronaut, (512, 0))
    data = encoded(pair, "PNG")

    largest = decode(face_crop(data, margin=0.2, which="largest", **LIMITS).data)
    both = decode(face_crop(data, margin=0.2, which="all", **LIMITS).data)

    # The same face twice, 512 px apart: the union is one face crop plus that distance.
    assert abs(both.width - (512 + largest.width)) <= 4 and abs(both.height - largest.height) <= 4
    x, y = locate(both, pair)
    fx, fy, fw, fh = ASTRONAUT_FACE
    assert contains((x, y, both.width, both.height), (fx, fy, 512 + fw, fh))


@pytest.mark.parametrize("photo", ["coffee_jpeg", "chelsea_jpeg"])
def test_no_face_is_a_clear_error(photo, request):
    with pytest.raises(NoFaceFound, match="no face was found in the image"):
        face_crop(request.getfixturevalue(photo), **LIMITS)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"margin": -0.1}, "margin"),
        ({"margin": 11}, "margin"),
        ({"aspect": 0}, "aspect"),
        ({"which": "smallest"}, "which"),
        ({"format": "tiff"}, "unsupported output format"),
    ],
)
def test_bad_crop_parameters_are_refused(astronaut_jpeg, params, message):
    with pytest.raises(InvalidOptions, match=message):
        face_crop(astronaut_jpeg, **params, **LIMITS)
