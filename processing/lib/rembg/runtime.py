"""How a rembg session runs: onnxruntime's execution providers and session options.

A worker names its providers in order of preference (REMBG_PROVIDERS). One the installed
onnxruntime lacks is an error, not a quiet run on the CPU, unless a CPU fallback is allowed:
a GPU worker that runs 10-20x slower on its CPU is worse than one that refuses to start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import onnxruntime as ort

from processing.lib.errors import ProviderUnavailable

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession

CPU = "CPUExecutionProvider"


@dataclass(frozen=True)
class OnnxSettings:
    """intra_op_threads 0 lets onnxruntime decide. The memory defaults (one inference at a time,
    CPU arena on, memory pattern off) were chosen by bench/processors_rembg_memory.py and
    bench/rembg_speed.py (docs/benchmarks.md, "Worker memory"), with the same pixels."""

    intra_op_threads: int = 0
    providers: tuple[str, ...] = (CPU,)
    cpu_fallback: bool = False
    mem_pattern: bool = False
    cpu_mem_arena: bool = True
    serial: bool = True  # one inference at a time per session (the process's other threads decode and encode)

    def session_options(self) -> ort.SessionOptions:
        options = ort.SessionOptions()
        if self.intra_op_threads > 0:
            options.intra_op_num_threads = self.intra_op_threads
            options.inter_op_num_threads = 1
        # graph_optimization_level stays ORT_ENABLE_ALL: basic/extended were not faster here and
        # move up to 2 mask levels on 0.03 % of pixels.
        options.enable_mem_pattern = self.mem_pattern
        options.enable_cpu_mem_arena = self.cpu_mem_arena
        return options


def usable_providers(settings: OnnxSettings) -> list[str]:
    """The requested providers this onnxruntime has, in order; ProviderUnavailable for one it
    lacks unless settings.cpu_fallback (then they are skipped and the CPU comes last)."""
    if not settings.providers:
        raise ProviderUnavailable("no execution provider requested: set REMBG_PROVIDERS, e.g. CPUExecutionProvider")
    available = ort.get_available_providers()
    missing = [name for name in settings.providers if name not in available]
    if missing and not settings.cpu_fallback:
        raise ProviderUnavailable(
            f"onnxruntime {ort.__version__} on this machine has no {', '.join(missing)} "
            f"(it has {', '.join(available)}); install the matching onnxruntime build "
            "(requirements/gpu.in for CUDA/TensorRT), change REMBG_PROVIDERS, "
            "or set REMBG_PROVIDER_FALLBACK=cpu to run on the CPU instead"
        )
    usable = [name for name in settings.providers if name in available]
    if settings.cpu_fallback and CPU not in usable:
        usable.append(CPU)
    return usable


def check_running_provider(session: BaseSession, *, settings: OnnxSettings, wanted: list[str]) -> str:
    """The provider the session really runs on. onnxruntime lists a GPU provider whenever its
    shim ships, then quietly runs on the CPU when the CUDA libraries are missing."""
    running = running_provider(session)
    if running != wanted[0] and not settings.cpu_fallback:
        raise ProviderUnavailable(
            f"onnxruntime could not start {wanted[0]} (its libraries are missing or the wrong "
            f"version; see onnxruntime's messages above) and runs on {running}; fix the drivers, "
            "change REMBG_PROVIDERS, or set REMBG_PROVIDER_FALLBACK=cpu"
        )
    return running


def running_provider(session: BaseSession) -> str:
    return str(session.inner_session.get_providers()[0])
