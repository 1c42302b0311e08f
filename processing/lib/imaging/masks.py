"""The model's mask for an image: exactly session.predict(img)[0], with less work where we can.

For sessions whose predict() is, statement for statement, rembg's U2netpSession.predict
(u2netp, u2net_human_seg, silueta; checked at run time, so a rembg upgrade that changes one
falls back by itself), the input tensor is built with a 256-entry lookup table per channel
instead of rembg's float64 arrays and extra RGB copy. The table holds the very same float64
expressions cast to float32, so the model sees bit-identical input and the mask is identical.
"""

import ast
import contextlib
import functools
import inspect
import textwrap

import numpy as np
from PIL import Image
from rembg.sessions.base import BaseSession
from rembg.sessions.u2netp import U2netpSession

# What U2netpSession.predict passes to BaseSession.normalize.
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)
_MODEL_SIZE = (320, 320)


def predict_mask(session: BaseSession, img: Image.Image) -> Image.Image:
    if not _predicts_like_u2netp(type(session)):
        with _one_at_a_time(session):
            return session.predict(img)[0]
    small = (img if img.mode == "RGB" else img.convert("RGB")).resize(_MODEL_SIZE, Image.Resampling.LANCZOS)
    feed = {_input_name(session): _normalised(np.asarray(small))}
    with _one_at_a_time(session):
        pred = session.inner_session.run(None, feed)[0][:, 0, :, :]
    high, low = np.max(pred), np.min(pred)
    pred = np.squeeze((pred - low) / (high - low))
    mask = Image.fromarray((pred * 255).astype("uint8"), mode="L")
    return mask.resize(img.size, Image.Resampling.LANCZOS)


def _one_at_a_time(session: BaseSession) -> contextlib.AbstractContextManager[object]:
    """The session's lock when it runs one inference at a time (OnnxSettings.serial): then one
    run's buffers are alive at once, and its threads are all the cores."""
    lock = getattr(session, "_darkroom_lock", None)
    return lock if lock is not None else contextlib.nullcontext()


def _normalised(pixels: np.ndarray) -> np.ndarray:
    """BaseSession.normalize's float64 arithmetic, done once per byte value instead of per pixel."""
    divisor = max(np.max(pixels), 1e-6)  # the same Python max() as rembg
    values = np.arange(256, dtype=np.uint8) / divisor
    tensor = np.empty((1, 3, *pixels.shape[:2]), dtype=np.float32)
    for channel in range(3):
        table = ((values - _MEAN[channel]) / _STD[channel]).astype(np.float32)
        np.take(table, pixels[:, :, channel], out=tensor[0, channel])
    return tensor


def _input_name(session: BaseSession) -> str:
    name = getattr(session, "_darkroom_input_name", None)
    if name is None:
        name = session._darkroom_input_name = session.inner_session.get_inputs()[0].name
    return name


@functools.cache
def _predicts_like_u2netp(session_class: type[BaseSession]) -> bool:
    try:
        return _predict_body(session_class) == _predict_body(U2netpSession)
    except (OSError, TypeError, SyntaxError):
        return False


def _predict_body(session_class: type[BaseSession]) -> str:
    function = ast.parse(textwrap.dedent(inspect.getsource(session_class.predict))).body[0]
    if not isinstance(function, ast.FunctionDef):
        raise TypeError(f"{session_class.__name__}.predict is not a plain function")
    statements = function.body
    if statements and isinstance(statements[0], ast.Expr) and isinstance(statements[0].value, ast.Constant):
        statements = statements[1:]  # the docstring names the model
    return ast.dump(ast.Module(body=statements, type_ignores=[]))
