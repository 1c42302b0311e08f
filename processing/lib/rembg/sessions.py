"""rembg model sessions, built once per process and kept in a small LRU cache.

Sessions are only built from model files already on disk (`manage.py fetch_models` puts
them there): a job must never start a download.
"""

import functools
import inspect
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

import rembg
from rembg.sessions import sessions_class
from rembg.sessions.base import BaseSession

from processing.lib.errors import InvalidOptions, ModelMissing
from processing.lib.rembg.runtime import OnnxSettings, check_running_provider, running_provider, usable_providers

FETCH_HINT = "run `python manage.py fetch_models`"

_FILE_NAME_ASSIGNMENT = re.compile(r'^\s*(fname\w*)\s*=\s*f?"([^"]+)"\s*$', re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_MD5 = re.compile(r"md5:([0-9a-f]{32})")

# (model name, home, onnxruntime settings) -> session, least recently used first.
_sessions: "OrderedDict[tuple[str, str, OnnxSettings], BaseSession]" = OrderedDict()
# One lock for lookups and builds: two threads asking for the same model get one session,
# and the cache never holds more than max_sessions models at once.
_lock = threading.Lock()


def get_session(model_name: str, *, home: str, max_sessions: int = 2, onnx: OnnxSettings | None = None) -> BaseSession:
    """The session for model_name, built on first use from the files under home.

    Raises InvalidOptions for a model that is not available, ModelMissing when its file is
    not installed (or cannot be loaded) and ProviderUnavailable when it cannot run on the
    execution provider onnx asks for.
    """
    onnx = onnx or OnnxSettings()
    if max_sessions < 1:
        raise ValueError("max_sessions must be at least 1")
    if onnx.intra_op_threads < 0:
        raise ValueError("intra_op_threads must be 0 (onnxruntime decides) or more")
    session_class = _session_class(model_name)
    home = os.path.abspath(os.path.expanduser(os.fspath(home)))
    key = (model_name, home, onnx)

    with _lock:
        session = _sessions.get(key)
        if session is not None:
            _sessions.move_to_end(key)
            return session
        # rembg reads its model directory from the environment.
        os.environ["REMBG_HOME"] = home
        _require_model_files(model_name, session_class=session_class, home=home)
        # Make room first, so a worker never holds max_sessions + 1 models while building.
        while len(_sessions) >= max_sessions:
            _sessions.popitem(last=False)
        session = _build_session(model_name, onnx=onnx, home=home)
        _sessions[key] = session
        return session


def clear_sessions() -> None:
    with _lock:
        _sessions.clear()


def providers_in_use() -> list[str]:
    """The execution providers the cached sessions really run on (what a worker reports)."""
    with _lock:
        return sorted({running_provider(session) for session in _sessions.values()})


def available_models() -> list[str]:
    """Models that run locally from a downloadable file: no credentials, no custom model_path."""
    return [cls.name() for cls in sessions_class if _is_available(cls)]


def model_files(model_name: str) -> list[str]:
    """File names rembg looks for in <home>/models/<model_name>/, main file first."""
    session_class = _session_class(model_name)
    source = _download_source(session_class)
    files: dict[str, str] = {}
    for variable, template in _FILE_NAME_ASSIGNMENT.findall(source):
        # Later assignments to the same variable are variants (SAM's quantised files).
        if variable in files:
            continue
        file_name = _fill_template(template, session_class=session_class, source=source)
        if file_name is None:
            return [f"{model_name}.onnx"]
        files[variable] = file_name
    return list(files.values()) or [f"{model_name}.onnx"]


def model_file_path(model_name: str, home: str) -> Path:
    """Where the model's main file belongs: <home>/models/<model_name>/<file>."""
    return Path(home) / "models" / model_name / model_files(model_name)[0]


def expected_md5(model_name: str, *, file_name: str | None = None) -> str | None:
    """rembg's own md5 for the model's main file (or for file_name), None when it has none."""
    session_class = _session_class(model_name)
    if file_name is None:
        if len(model_files(model_name)) == 1:
            found = _MD5.findall(_download_source(session_class))
            return found[0] if len(found) == 1 else None
        file_name = model_files(model_name)[0]
    # Multi-file models keep a table of "file name": "md5:..." in their module.
    module_source = _module_source(session_class)
    match = re.search(rf'"{re.escape(file_name)}"\s*:\s*"md5:([0-9a-f]{{32}})"', module_source)
    return match.group(1) if match else None


def _is_available(session_class: type[BaseSession]) -> bool:
    if not session_class.is_local() or session_class.requires_credentials():
        return False
    return not (session_class.name().endswith("_custom") or "model_path" in _download_source(session_class))


def _session_class(model_name: str) -> type[BaseSession]:
    for session_class in sessions_class:
        if session_class.name() == model_name and _is_available(session_class):
            return session_class
    raise InvalidOptions(f"unknown background model {model_name!r}; available: {', '.join(available_models())}")


def _require_model_files(model_name: str, *, session_class: type[BaseSession], home: str) -> None:
    missing = [name for name in model_files(model_name) if session_class.resolve_existing(name) is None]
    if missing:
        message = f"rembg model '{model_name}' is not installed in {home}; {FETCH_HINT}"
        if os.environ.get("U2NET_HOME"):
            message += f" (note: U2NET_HOME={os.environ['U2NET_HOME']} is set and rembg looks there instead)"
        raise ModelMissing(message)


def _build_session(model_name: str, *, onnx: OnnxSettings, home: str) -> BaseSession:
    providers = usable_providers(onnx)
    try:
        session = rembg.new_session(model_name, sess_opts=onnx.session_options(), providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable models
        raise ModelMissing(
            f"rembg model '{model_name}' in {home} could not be loaded ({exc}); {FETCH_HINT} again"
        ) from exc
    check_running_provider(session, settings=onnx, wanted=providers)
    session._darkroom_lock = threading.Lock() if onnx.serial else None  # read by imaging.masks
    return session


def _fill_template(template: str, *, session_class: type[BaseSession], source: str) -> str | None:
    """Resolve f-string placeholders like {cls.name(...)} or {model_name}; None if one is unknown."""
    values = []
    for expression in _PLACEHOLDER.findall(template):
        if expression.startswith("cls.name("):
            values.append(session_class.name())
            continue
        # e.g. model_name = kwargs.get("sam_model", "sam_vit_b_01ec64")
        default = re.search(rf'\b{re.escape(expression)}\s*=\s*kwargs\.get\(\s*"\w+"\s*,\s*"([^"]+)"\s*\)', source)
        if default is None:
            return None
        values.append(default.group(1))
    parts = iter(values)
    return _PLACEHOLDER.sub(lambda _: next(parts), template)


@functools.cache
def _download_source(session_class: type[BaseSession]) -> str:
    try:
        return inspect.getsource(session_class.download_models)
    except (OSError, TypeError):
        return ""


@functools.cache
def _module_source(session_class: type[BaseSession]) -> str:
    try:
        return inspect.getsource(inspect.getmodule(session_class))
    except (OSError, TypeError):
        return ""


def vitmatte_variants() -> list[str]:
    from rembg.matting import VARIANTS

    return sorted(VARIANTS)


def vitmatte_file_path(variant: str, home: str) -> Path:
    """Where rembg looks for a ViTMatte variant: <home>/models/vitmatte/<file>."""
    from rembg.matting import VARIANTS

    return Path(home) / "models" / "vitmatte" / VARIANTS[variant]["fname"]


def require_vitmatte(variant: str, *, home: str) -> None:
    """ModelMissing unless the variant's file is installed: rembg would otherwise download it
    (110-380 MB) in the middle of a job."""
    os.environ["REMBG_HOME"] = os.path.abspath(os.path.expanduser(os.fspath(home)))
    path = vitmatte_file_path(variant, os.environ["REMBG_HOME"])
    if not path.is_file():
        raise ModelMissing(f"ViTMatte model {variant!r} is not installed in {home}; {FETCH_HINT}")
