"""onnxruntime sessions: provider choice, options for fixed windows, and the `Separator`.

Asking onnxruntime for CUDA when it cannot be used silently gives a CPU session, so
every session is checked with `get_providers()` and the provider really in use is
reported with a sentence saying why a GPU was not used. Options suit this workload:
a few large fixed-size windows (heuristic cuDNN search, no per-shape re-tuning), few
CPU cores shared with audio I/O (one intra-op pool sized to the cores we may use, no
spinning), and IOBinding on GPUs so the repeated condition stays on the device.
"""

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort

from clapsep.errors import UserError
from clapsep.host.runtime.package import ModelPackage
from clapsep.package_format import NOISE_OUTPUT, SEPARATOR_FP16_GRAPH, SEPARATOR_GRAPH
from clapsep.paths import user_data_dir

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
DEVICES = {"auto": (TENSORRT, CUDA), "tensorrt": (TENSORRT, CUDA), "cuda": (CUDA,), "cpu": ()}
OPTIMIZATION_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def session_options(threads: int | None = None, optimization: str = "all") -> ort.SessionOptions:
    """One intra-op pool, sequential execution, no busy-waiting between windows."""
    if optimization not in OPTIMIZATION_LEVELS:
        raise UserError(
            f"unknown graph optimisation level {optimization!r}; "
            f"known: {', '.join(OPTIMIZATION_LEVELS)}"
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or usable_cores()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = OPTIMIZATION_LEVELS[optimization]
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # provider fall-backs are explained in `provider_note`
    return options


def _provider_options(provider: str, fp16: bool) -> dict[str, str]:
    if provider == CUDA:
        return {
            "cudnn_conv_algo_search": "HEURISTIC",
            "do_copy_in_default_stream": "1",
            "arena_extend_strategy": "kSameAsRequested",
        }
    if provider == TENSORRT:
        cache = user_data_dir() / "tensorrt-cache"
        return {
            "trt_fp16_enable": "1" if fp16 else "0",
            "trt_engine_cache_enable": "1",
            "trt_engine_cache_path": str(cache),
        }
    return {}


def _gpu_present() -> bool:
    return shutil.which("nvidia-smi") is not None or Path("/dev/nvidiactl").exists()


def _why_no_gpu(missing: list[str]) -> str:
    if missing and CUDA in missing:
        return "this onnxruntime build has no CUDA provider (install onnxruntime-gpu)"
    if not _gpu_present():
        return "no NVIDIA GPU or driver found"
    return "the CUDA provider failed to load (CUDA 13 / cuDNN 9 libraries missing or GPU busy)"


def _describe(device: str, asked: list[str], missing: list[str], used: str) -> str:
    if device == "cpu":
        return "running on CPU (requested)"
    if used != CPU:
        note = f"running on {used.removesuffix('ExecutionProvider')}"
        return note + (
            " (TensorRT could not be used)" if TENSORRT in asked and used != TENSORRT else ""
        )
    if device == "auto" and not _gpu_present():
        return "running on CPU (no NVIDIA GPU or driver found)"
    what = {"auto": "a GPU", "cuda": "CUDA", "tensorrt": "TensorRT"}[device]
    return f"{what} requested but unavailable: {_why_no_gpu(missing)}; running on CPU"


def open_session(
    graph: Path,
    device: str = "auto",
    threads: int | None = None,
    fp16: bool = False,
    optimization: str = "all",
) -> tuple[ort.InferenceSession, str, str]:
    """A session for `graph` with the best usable provider: (session, provider used, note)."""
    if device not in DEVICES:
        raise UserError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    available = ort.get_available_providers()
    # Without a GPU, "auto" skips loading CUDA libraries only to fall back to the CPU.
    wanted = list(DEVICES[device]) if device != "auto" or _gpu_present() else []
    asked = [p for p in wanted if p in available]
    missing = [p for p in wanted if p not in available]
    if asked:
        ort.set_default_logger_severity(3)  # a failed GPU provider is explained in the note instead
        with contextlib.suppress(Exception):  # a missing library is reported by the fall-back note
            ort.preload_dlls()  # finds pip-installed CUDA/cuDNN libraries
    providers = [*asked, CPU]
    try:
        session = ort.InferenceSession(
            str(graph),
            sess_options=session_options(threads, optimization),
            providers=providers,
            provider_options=[_provider_options(p, fp16) for p in providers],
        )
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/InvalidProtobuf types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"cannot open {graph.name}: {first}") from None
    used = session.get_providers()[0]
    return session, used, _describe(device, providers, missing, used)


def gpu_provider_available(device: str) -> bool:
    """Whether a GPU and a GPU provider for `device` exist (not yet that they work together)."""
    return _gpu_present() and any(
        p in ort.get_available_providers() for p in DEVICES.get(device, ())
    )


def _batched(entry: dict) -> bool:
    """Whether a graph takes a batch of windows (packages before the batch axis take one)."""
    return entry.get("inputs", {}).get("mixture", [1])[0] != 1


def _run_windows(
    run: Callable[[np.ndarray, np.ndarray], np.ndarray],
    batched: bool,
    mixture: np.ndarray,
    condition: np.ndarray,
) -> np.ndarray:
    """One run for a graph with a batch axis, else one run per window."""
    if batched:
        return run(mixture, condition)
    return np.concatenate(
        [run(mixture[i : i + 1], condition[i : i + 1]) for i in range(len(mixture))]
    )


def _windows(
    pkg: ModelPackage, mixture: np.ndarray, condition: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Checked float32 windows [B, S] and conditions [B, condition_dim]."""
    mixture = np.ascontiguousarray(mixture, dtype=np.float32)
    condition = np.ascontiguousarray(condition, dtype=np.float32)
    if mixture.ndim != 2 or condition.shape != (mixture.shape[0], pkg.condition_dim):
        raise ValueError(
            f"expected mixture [B, S] and condition [B, {pkg.condition_dim}], "
            f"got {mixture.shape} and {condition.shape}"
        )
    if not pkg.min_window_samples <= mixture.shape[1] <= pkg.window_samples:
        raise ValueError(
            f"a window must hold {pkg.min_window_samples}..{pkg.window_samples} "
            f"samples, got {mixture.shape[1]}"
        )
    return mixture, condition


class Separator:
    """`separated = separator.separate(mixture [B, S], condition [B, C])`, one window per row."""

    def __init__(
        self,
        package: ModelPackage,
        device: str = "auto",
        fp16: bool | None = None,
        threads: int | None = None,
        optimization: str = "all",
    ) -> None:
        if fp16 and not package.has(SEPARATOR_FP16_GRAPH):
            raise UserError(f"model package {package.name} has no fp16 separator")
        want_fp16 = (
            fp16
            if fp16 is not None
            else (gpu_provider_available(device) and package.has(SEPARATOR_FP16_GRAPH))
        )
        graph = SEPARATOR_FP16_GRAPH if want_fp16 else SEPARATOR_GRAPH
        # onnxruntime 1.31's CPU layout pass (level "all") crashes on float16 graphs.
        level = "extended" if want_fp16 and optimization == "all" else optimization
        session, provider, note = open_session(
            package.file(graph), device, threads, want_fp16, level
        )
        if want_fp16 and fp16 is None and provider == CPU:
            # The fp16 graph is meant for GPUs; on the CPU the fp32 one is faster and exact.
            graph, want_fp16 = SEPARATOR_GRAPH, False
            session, provider, note = open_session(
                package.file(graph), device, threads, False, optimization
            )
        self.package = package
        self.fp16 = want_fp16
        self._batched = _batched(package.manifest["separator"])
        self.provider = provider
        self.provider_note = note
        self._session = session
        self._bound_condition: tuple[bytes, ort.OrtValue] | None = None

    def separate(self, mixture: np.ndarray, condition: np.ndarray) -> np.ndarray:
        """[B, S] float32 at the package rate and [B, condition_dim] -> [B, S] float32."""
        mixture, condition = _windows(self.package, mixture, condition)
        run = self._run_host if self.provider == CPU else self._run_bound
        return _run_windows(run, self._batched, mixture, condition)

    def _run_host(self, mixture: np.ndarray, condition: np.ndarray) -> np.ndarray:
        return self._session.run(["separated"], {"mixture": mixture, "condition": condition})[0]

    def _run_bound(self, mixture: np.ndarray, condition: np.ndarray) -> np.ndarray:
        """GPU path: the condition is uploaded once per distinct value, the output lands on the
        host."""
        key = condition.tobytes()
        if self._bound_condition is None or self._bound_condition[0] != key:
            self._bound_condition = (key, ort.OrtValue.ortvalue_from_numpy(condition, "cuda", 0))
        binding = self._session.io_binding()
        binding.bind_ortvalue_input(
            "mixture", ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(mixture), "cuda", 0)
        )
        binding.bind_ortvalue_input("condition", self._bound_condition[1])
        binding.bind_output("separated", "cpu")
        self._session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()[0]


class NoiseEstimator:
    """`noise = estimator.estimate(mixture [B, S], condition [B, C])`: the off-query noise stem.

    Only packages exported from a model trained with noise heads (objective mode `nit`)
    have it (`manifest["noise"]`, see `has_noise`): the sound the model heard as neither
    the query nor its other side. Same windows and conditions as `Separator`; float32.
    """

    def __init__(
        self,
        package: ModelPackage,
        device: str = "auto",
        threads: int | None = None,
        optimization: str = "all",
    ) -> None:
        if not self.has_noise(package):
            raise UserError(
                f"model package {package.name} has no off-query noise graph "
                "(export a model trained with objective mode nit)"
            )
        entry = package.manifest["noise"]
        session, provider, note = open_session(
            package.file(entry["graph"]), device, threads, False, optimization
        )
        self.package = package
        self.provider = provider
        self.provider_note = note
        self._session = session
        self._output = entry.get("outputs", [NOISE_OUTPUT])[0]
        self._batched = _batched(entry)

    @staticmethod
    def has_noise(package: ModelPackage) -> bool:
        entry = package.manifest.get("noise")
        return isinstance(entry, dict) and package.has(str(entry.get("graph")))

    def estimate(self, mixture: np.ndarray, condition: np.ndarray) -> np.ndarray:
        """[B, S] float32 at the package rate and [B, condition_dim] -> [B, S] float32 noise."""
        mixture, condition = _windows(self.package, mixture, condition)
        return _run_windows(self._run, self._batched, mixture, condition)

    def _run(self, mixture: np.ndarray, condition: np.ndarray) -> np.ndarray:
        return self._session.run([self._output], {"mixture": mixture, "condition": condition})[0]
