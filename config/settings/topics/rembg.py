"""Background removal: rembg's models, onnxruntime's sessions, local or remote servers."""

import environ

from config.env import BASE_DIR, env

# --- rembg models.
REMBG_HOME = env("REMBG_HOME", default=str(BASE_DIR / "var" / "rembg"))
REMBG_MODEL = env("REMBG_MODEL", default="u2netp")
# Models a job may ask for; each must be present in REMBG_HOME (manage.py fetch_models).
REMBG_ALLOWED_MODELS = env.list("REMBG_ALLOWED_MODELS", default=[REMBG_MODEL])
# ViTMatte edge-refinement variants a job may ask for (rembg's small-distinctions-646, …); each
# must be installed by fetch_models first (110-380 MB each), so none is offered by default.
REMBG_VITMATTE_MODELS = env.list("REMBG_VITMATTE_MODELS", default=[])
REMBG_MAX_SESSIONS = env.int("REMBG_MAX_SESSIONS", default=2)
# onnxruntime threads per session; 0 gives one inference at a time every core (with
# ONNX_SERIAL_INFERENCE), else shares the cores out between the worker's threads.
ONNX_INTRA_OP_THREADS = env.int("ONNX_INTRA_OP_THREADS", default=0)
# Chosen by bench/processors_rembg_memory.py and bench/rembg_speed.py (docs/benchmarks.md,
# "Worker memory"): one inference at a time per process with the CPU arena on and the memory
# pattern off keeps a 2-thread worker near 600-700 MiB (one run's buffers, kept between runs)
# and is faster than the arena off (buffers given back, faulted in again each run: ~330 MiB
# with jemalloc, 25-30 % slower). Both concurrent with the arena: fastest, ~1.1 GiB.
ONNX_SERIAL_INFERENCE = env.bool("ONNX_SERIAL_INFERENCE", default=True)
ONNX_MEM_PATTERN = env.bool("ONNX_MEM_PATTERN", default=False)
ONNX_CPU_MEM_ARENA = env.bool("ONNX_CPU_MEM_ARENA", default=True)
# Execution providers a worker's rembg sessions run on, in order of preference (e.g.
# CUDAExecutionProvider,CPUExecutionProvider). One the installed onnxruntime lacks stops the
# worker at start-up, unless REMBG_PROVIDER_FALLBACK=cpu lets it run on the CPU instead.
REMBG_PROVIDERS = env.list("REMBG_PROVIDERS", default=["CPUExecutionProvider"])
REMBG_PROVIDER_FALLBACK = env("REMBG_PROVIDER_FALLBACK", default="")
if REMBG_PROVIDER_FALLBACK not in ("", "cpu"):
    raise environ.ImproperlyConfigured("REMBG_PROVIDER_FALLBACK must be empty (refuse) or cpu")
# local: rembg runs in the worker. remote: on the `rembg s` servers in REMBG_URLS, in turn;
# a failing server is skipped for REMBG_URL_RETRY_S, then health-checked before it gets work.
REMBG_BACKEND = env("REMBG_BACKEND", default="local")
REMBG_URLS = env.list("REMBG_URLS", default=[])
REMBG_URL_RETRY_S = env.float("REMBG_URL_RETRY_S", default=30)
REMBG_REMOTE_TIMEOUT_S = env.float("REMBG_REMOTE_TIMEOUT_S", default=120)
if REMBG_BACKEND not in ("local", "remote") or (REMBG_BACKEND == "remote" and not REMBG_URLS):
    raise environ.ImproperlyConfigured("REMBG_BACKEND must be local, or remote with REMBG_URLS set")
