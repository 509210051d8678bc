"""onnxruntime sessions: provider choice, options for fixed windows, and the `Separator`.

Asking onnxruntime for CUDA when it cannot be used prints red lines (some on stdout) and
gives a CPU session, so the driver and libraries are checked first, quietly, and a GPU
provider is asked for only when they are there; every session is still checked with
`get_providers()` and the provider really in use is reported with a sentence saying why
a GPU was not used. Options suit this workload: a few large fixed-size windows (heuristic
cuDNN search, no per-shape re-tuning), few CPU cores shared with audio I/O (one intra-op
pool sized to the cores we may use, no spinning), and IOBinding on GPUs so the repeated
condition stays on the device.
"""

import contextlib
import ctypes
import functools
import io
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import onnxruntime as ort

from clapsep.errors import UserError
from clapsep.files import write_json_atomic
from clapsep.host.runtime.openvino_cpu import OPENVINO_CPU, OpenVinoSession, bf16_problem
from clapsep.host.runtime.package import ModelPackage
from clapsep.package_format import (
    CONDITION_INPUT,
    DECODER_FP16_GRAPH,
    DECODER_GRAPH,
    ENCODER_FP16_GRAPH,
    ENCODER_GRAPH,
    MIXTURE_INPUT,
    NOISE_OUTPUT,
    SEPARATED_OUTPUT,
    SEPARATOR_FP16_GRAPH,
    SEPARATOR_GRAPH,
)
from clapsep.paths import user_data_dir
from clapsep.signals import realistic_signal, snr_db

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
DEVICES = {"auto": (TENSORRT, CUDA), "tensorrt": (TENSORRT, CUDA), "cuda": (CUDA,), "cpu": ()}
PRECISIONS = ("auto", "fp32", "bf16")  # fp16 is the GPU graphs' own, chosen with the device
BF16_GATE_DB = 30.0  # bf16 output against fp32 on the gate's signal, for `auto` to pick bf16
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


_NAMES = {CPU: "CPU", CUDA: "CUDA", TENSORRT: "TensorRT"}
# What onnxruntime-gpu 1.31 (a CUDA 13 build) needs before a GPU provider can start: the
# driver, the libraries the CUDA provider links (`readelf -d libonnxruntime_providers_cuda.so`)
# plus cuDNN 9 for its convolutions (names as `onnxruntime.preload_dlls` loads them from the
# nvidia-* wheels), and for TensorRT the TensorRT 10 libraries its provider links.
_DRIVER = {"posix": "libcuda.so.1", "nt": "nvcuda.dll"}[os.name]
_LIBRARIES = {
    "posix": {
        CUDA: (
            "libcudart.so.13",
            "libcublasLt.so.13",
            "libcublas.so.13",
            "libcurand.so.10",
            "libcudnn.so.9",
        ),
        TENSORRT: ("libnvinfer.so.10", "libnvonnxparser.so.10"),
    },
    "nt": {
        CUDA: (
            "cudart64_13.dll",
            "cublasLt64_13.dll",
            "cublas64_13.dll",
            "curand64_10.dll",
            "cudnn64_9.dll",
        ),
        TENSORRT: ("nvinfer_10.dll", "nvonnxparser_10.dll"),
    },
}[os.name]
_DRIVER_FIX = "install the NVIDIA driver, 580 or newer (CUDA 13)"
_LIBRARY_FIXES = {
    CUDA: (
        "CUDA 13 / cuDNN 9",
        "pip install 'clapsep-studio[gpu]' (the CUDA 13 and cuDNN 9 wheels)",
    ),
    TENSORRT: (
        "TensorRT 10",
        "put TensorRT 10 for CUDA 13 on the library path, or use --device cuda",
    ),
}
_STDOUT_LOCK = threading.Lock()
_LIBC = ctypes.CDLL(None) if os.name == "posix" else None


class GpuProblem(NamedTuple):
    """Why a GPU provider cannot run here, and what would make it run."""

    reason: str
    fix: str


def _loads(library: str) -> bool:
    """Whether the dynamic loader finds `library` (by name, as onnxruntime's provider will)."""
    try:
        ctypes.CDLL(library, winmode=0)  # winmode 0: Windows searches PATH, as LoadLibrary does
    except OSError:
        return False
    return True


def _driver_problem() -> GpuProblem | None:
    """Ask the driver itself, which prints nothing, whether it runs CUDA 13 on some GPU."""
    try:
        driver = ctypes.CDLL(_DRIVER, winmode=0)
    except OSError:
        return GpuProblem(f"no NVIDIA driver found: {_DRIVER} is missing", _DRIVER_FIX)
    count, version = ctypes.c_int(0), ctypes.c_int(0)
    error = driver.cuInit(0) or driver.cuDeviceGetCount(ctypes.byref(count))
    if error or count.value == 0:
        return GpuProblem(
            f"the NVIDIA driver finds no usable GPU (CUDA error {error})",
            "check nvidia-smi and CUDA_VISIBLE_DEVICES",
        )
    driver.cuDriverGetVersion(ctypes.byref(version))
    if version.value < 13000:
        runs = f"{version.value // 1000}.{version.value % 1000 // 10}"
        return GpuProblem(
            f"the NVIDIA driver runs CUDA {runs}, onnxruntime-gpu 1.31 needs CUDA 13", _DRIVER_FIX
        )
    return None


def _libraries_problem(provider: str) -> GpuProblem | None:
    """The libraries of `provider` the loader cannot find, named, with what brings them."""
    missing = [name for name in _LIBRARIES[provider] if not _loads(name)]
    if not missing:
        return None
    what, fix = _LIBRARY_FIXES[provider]
    return GpuProblem(f"{what} libraries missing: {', '.join(missing)}", fix)


@functools.cache
def gpu_problem(provider: str) -> GpuProblem | None:
    """Why `provider` cannot run here (None: it can), found before onnxruntime tries: a failed
    try prints red lines (some to stdout, into `--json` output) and falls back to the CPU."""
    if provider not in ort.get_available_providers():
        return GpuProblem(
            f"this onnxruntime build has no {_NAMES[provider]} provider",
            "pip uninstall onnxruntime, then pip install 'clapsep-studio[gpu]' "
            "(Linux or Windows, x86-64)",
        )
    if provider == TENSORRT:
        return gpu_problem(CUDA) or _libraries_problem(TENSORRT)
    problem = _driver_problem()
    if problem is not None:
        return problem
    # Loads the nvidia-* wheels' libraries so the provider finds them; it prints what it
    # misses, which `_libraries_problem` names instead.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
        ort.preload_dlls()
    return _libraries_problem(CUDA)


def gpu_provider_available(device: str) -> bool:
    """Whether a GPU provider for `device` can run here (driver and libraries found)."""
    return any(gpu_problem(p) is None for p in DEVICES.get(device, ()))


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send what onnxruntime writes to stdout (Python's or fd 1) to stderr: stdout carries the
    commands' `--json` output. One at a time: fd 1 is the whole process's."""
    with _STDOUT_LOCK:
        if sys.stdout is not None:
            sys.stdout.flush()
        with contextlib.redirect_stdout(sys.stderr):
            try:
                saved = os.dup(1)
            except OSError:  # no fd 1 (a windowed process): nothing can reach it
                yield
                return
            os.dup2(2, 1)
            try:
                yield
            finally:
                if _LIBC is not None:
                    _LIBC.fflush(None)  # C stdio output still buffered goes to stderr too
                os.dup2(saved, 1)
                os.close(saved)


def _describe(device: str, problems: dict[str, GpuProblem | None], used: str) -> str:
    """The provider in use and, when it is not the first one asked for, why."""
    if device == "cpu":
        return "running on CPU (requested)"
    why = {
        p: problem.reason if problem else f"onnxruntime failed to start {_NAMES[p]}, see stderr"
        for p, problem in problems.items()
    }
    first, last = DEVICES[device][0], DEVICES[device][-1]
    note = f"running on {_NAMES[used]}"
    if used == first:
        return note
    if used != CPU:
        return f"{note} ({_NAMES[first]} not used: {why[first]})"
    if device == "auto":
        return f"{note} ({why[last]})"
    return f"{_NAMES[first]} requested but unavailable: {why[last]}; {note}"


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
    problems = {p: gpu_problem(p) for p in DEVICES[device]}
    providers = [*(p for p, problem in problems.items() if problem is None), CPU]
    if len(providers) > 1:
        ort.set_default_logger_severity(3)  # a failed GPU provider is explained in the note instead
    with _stdout_to_stderr():
        try:
            session = ort.InferenceSession(
                str(graph),
                sess_options=session_options(threads, optimization),
                providers=providers,
                provider_options=[_provider_options(p, fp16) for p in providers],
            )
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"cannot open {graph.name}: {first}") from None
    used = session.get_providers()[0]
    return session, used, _describe(device, problems, used)


def _batched(entry: dict) -> bool:
    """Whether a graph takes a batch of windows (packages before the batch axis take one)."""
    return entry.get("inputs", {}).get(MIXTURE_INPUT, [1])[0] != 1


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


def _mixture(pkg: ModelPackage, mixture: np.ndarray) -> np.ndarray:
    """Checked float32 windows [B, S]."""
    mixture = np.ascontiguousarray(mixture, dtype=np.float32)
    if mixture.ndim != 2:
        raise ValueError(f"expected mixture [B, S], got {mixture.shape}")
    if not pkg.min_window_samples <= mixture.shape[1] <= pkg.window_samples:
        raise ValueError(
            f"a window must hold {pkg.min_window_samples}..{pkg.window_samples} "
            f"samples, got {mixture.shape[1]}"
        )
    return mixture


def _conditions(pkg: ModelPackage, condition: np.ndarray, windows: tuple[int, ...]) -> np.ndarray:
    """Checked float32 conditions [B, condition_dim] for windows of shape `windows` [B, S]."""
    condition = np.ascontiguousarray(condition, dtype=np.float32)
    if len(windows) != 2 or condition.shape != (windows[0], pkg.condition_dim):
        raise ValueError(
            f"expected mixture [B, S] and condition [B, {pkg.condition_dim}], "
            f"got {windows} and {condition.shape}"
        )
    return condition


def _windows(
    pkg: ModelPackage, mixture: np.ndarray, condition: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Checked float32 windows [B, S] and conditions [B, condition_dim]."""
    mixture = np.ascontiguousarray(mixture, dtype=np.float32)
    condition = _conditions(pkg, condition, mixture.shape)
    return _mixture(pkg, mixture), condition


def _open_graphs(
    package: ModelPackage,
    names: tuple[str, ...],
    device: str,
    threads: int | None,
    fp16: bool,
    optimization: str,
) -> tuple[list[ort.InferenceSession], str, str]:
    """Sessions for the separator's graphs, with the provider they run on and its note.

    The graphs pass tensors to each other on that provider's device, so all must get the same.
    """
    # onnxruntime 1.31's CPU layout pass (level "all") crashes on float16 graphs.
    level = "extended" if fp16 and optimization == "all" else optimization
    opened = [open_session(package.file(name), device, threads, fp16, level) for name in names]
    used = sorted({provider for _, provider, _ in opened})
    if len(used) > 1:
        raise UserError(
            f"the separator graphs of {package.name} opened on different providers "
            f"({', '.join(used)}); try --device cpu"
        )
    return [session for session, _, _ in opened], opened[0][1], opened[0][2]


@dataclass(frozen=True)
class EncodedWindows:
    """A batch of windows after the query-independent half of the network, to decode under
    any number of conditions; opaque to callers, made by `Separator.encode`.

    For an encoder/decoder package `inputs` holds the decoder's inputs but the condition:
    the mixture (the decoder recomputes its STFT) and the encoder's feature grids, numpy
    arrays on the CPU and OrtValues left on the device on a GPU. A single-graph package has
    no encoder: `inputs` is empty and `decode` runs the whole graph on `mixture`.
    """

    mixture: np.ndarray  # the checked windows [B, S]
    inputs: dict[str, np.ndarray | ort.OrtValue]  # of the sounding rows only
    sounding: np.ndarray  # [B] bool: rows not exactly digital silence


def _silent_out(
    encoded: EncodedWindows, run: Callable[[np.ndarray | slice], np.ndarray]
) -> np.ndarray:
    """`run(sounding condition rows)` scattered into a batch whose silent rows stay zero.

    The separator is a magnitude mask on the mixture's own spectrum: a window of exact
    digital silence separates to exact silence (and so does its residual), so the network
    never runs on one. Stems from DAWs are often mostly silence between takes.
    """
    sounding = encoded.sounding
    if sounding.all():
        return run(slice(None))
    out = np.zeros(encoded.mixture.shape, dtype=np.float32)
    if sounding.any():
        out[sounding] = run(sounding)
    return out


class Separator:
    """`separated = separator.separate(mixture [B, S], condition [B, C])`, one window per row;
    or `encode` the windows once and `decode` them per condition, as the encoder does not
    depend on the query.

    A format-2 package runs its encoder and decoder graphs. A format-1 package has one
    graph: `encode` only checks and holds the windows and `decode` runs the whole graph.
    """

    def __init__(
        self,
        package: ModelPackage,
        device: str = "auto",
        fp16: bool | None = None,
        threads: int | None = None,
        optimization: str = "all",
        precision: str = "fp32",
    ) -> None:
        if precision not in PRECISIONS:
            raise UserError(f"unknown precision {precision!r}; known: {', '.join(PRECISIONS)}")
        if precision == "auto":
            precision = auto_precision(package, device, threads)
        split = package.has(DECODER_GRAPH)
        full = (ENCODER_GRAPH, DECODER_GRAPH) if split else (SEPARATOR_GRAPH,)
        half = (ENCODER_FP16_GRAPH, DECODER_FP16_GRAPH) if split else (SEPARATOR_FP16_GRAPH,)
        has_fp16 = all(package.has(name) for name in half)
        if fp16 and not has_fp16:
            raise UserError(f"model package {package.name} has no fp16 separator")
        want_fp16 = fp16 if fp16 is not None else (gpu_provider_available(device) and has_fp16)
        if precision == "bf16":
            if device not in ("auto", "cpu") or fp16:
                raise UserError("--precision bf16 runs on the CPU: use --device cpu or auto")
            want_fp16 = False
            sessions = [OpenVinoSession(package.file(n), threads or usable_cores()) for n in full]
            provider, note = OPENVINO_CPU, "bf16 on OpenVINO's CPU plugin (--precision bf16)"
        else:
            sessions, provider, note = _open_graphs(
                package, half if want_fp16 else full, device, threads, want_fp16, optimization
            )
        if want_fp16 and fp16 is None and provider == CPU:
            # The fp16 graphs are meant for GPUs; on the CPU the fp32 ones are faster and exact.
            want_fp16 = False
            sessions, provider, note = _open_graphs(
                package, full, device, threads, False, optimization
            )
        self.package = package
        self.fp16 = want_fp16
        self.precision = "fp16" if want_fp16 else precision
        self.provider = provider
        self._on_host = provider in (CPU, OPENVINO_CPU)
        self.provider_note = note
        *encoder, self._session = sessions
        self._encoder = encoder[0] if encoder else None
        entry = package.manifest["separator"]
        self._features = list(entry["encoder"]["outputs"]) if split else []
        self._batched = split or _batched(entry)
        self._bound_condition: tuple[bytes, ort.OrtValue] | None = None

    def separate(self, mixture: np.ndarray, condition: np.ndarray) -> np.ndarray:
        """[B, S] float32 at the package rate and [B, condition_dim] -> [B, S] float32."""
        mixture, condition = _windows(self.package, mixture, condition)
        return self.decode(self.encode(mixture), condition)

    def encode(self, mixture: np.ndarray) -> EncodedWindows:
        """Windows [B, S] float32 at the package rate, through the query-independent encoder."""
        mixture = _mixture(self.package, mixture)
        sounding = np.any(mixture != 0, axis=1)
        rows = mixture if sounding.all() else mixture[sounding]
        if self._encoder is None or not len(rows):
            return EncodedWindows(mixture, {}, sounding)
        if not self._on_host:
            return EncodedWindows(mixture, self._encode_bound(rows), sounding)
        features = self._encoder.run(self._features, {MIXTURE_INPUT: rows})
        inputs = {MIXTURE_INPUT: rows, **dict(zip(self._features, features, strict=True))}
        return EncodedWindows(mixture, inputs, sounding)

    def decode(self, encoded: EncodedWindows, condition: np.ndarray) -> np.ndarray:
        """The encoded windows under [B, condition_dim] conditions -> [B, S] float32."""
        condition = _conditions(self.package, condition, encoded.mixture.shape)
        run = self._run_host if self._on_host else self._run_bound
        if self._encoder is not None:
            return _silent_out(encoded, lambda rows: run(encoded.inputs, condition[rows]))
        return _silent_out(
            encoded,
            lambda rows: _run_windows(
                lambda mixture, conditions: run({MIXTURE_INPUT: mixture}, conditions),
                self._batched,
                encoded.mixture[rows],
                condition[rows],
            ),
        )

    def _encode_bound(self, mixture: np.ndarray) -> dict[str, ort.OrtValue]:
        """GPU path: the mixture goes up once; it and the feature grids stay on the device."""
        on_device = ort.OrtValue.ortvalue_from_numpy(mixture, "cuda", 0)
        binding = self._encoder.io_binding()
        binding.bind_ortvalue_input(MIXTURE_INPUT, on_device)
        for name in self._features:
            binding.bind_output(name, "cuda", 0)
        self._encoder.run_with_iobinding(binding)
        features = dict(zip(self._features, binding.get_outputs(), strict=True))
        return {MIXTURE_INPUT: on_device, **features}

    def _run_host(self, inputs: dict[str, np.ndarray], condition: np.ndarray) -> np.ndarray:
        """The final graph (decoder or single separator) on the CPU."""
        return self._session.run([SEPARATED_OUTPUT], {**inputs, CONDITION_INPUT: condition})[0]

    def _run_bound(
        self, inputs: dict[str, np.ndarray | ort.OrtValue], condition: np.ndarray
    ) -> np.ndarray:
        """GPU path of the final graph: inputs already on the device stay there, the condition
        is uploaded once per distinct value, the output lands on the host."""
        key = condition.tobytes()
        if self._bound_condition is None or self._bound_condition[0] != key:
            self._bound_condition = (key, ort.OrtValue.ortvalue_from_numpy(condition, "cuda", 0))
        binding = self._session.io_binding()
        for name, value in inputs.items():
            if not isinstance(value, ort.OrtValue):
                value = ort.OrtValue.ortvalue_from_numpy(value, "cuda", 0)
            binding.bind_ortvalue_input(name, value)
        binding.bind_ortvalue_input(CONDITION_INPUT, self._bound_condition[1])
        binding.bind_output(SEPARATED_OUTPUT, "cpu")
        self._session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()[0]


def auto_precision(package: ModelPackage, device: str = "auto", threads: int | None = None) -> str:
    """The fastest precision whose gate holds for this package here: bf16 on a CPU that runs
    it when its output stays >= BF16_GATE_DB against fp32, else fp32 (a GPU picks its fp16
    graphs itself). The gate runs once per package and is remembered by its digest."""
    on_gpu = device not in ("auto", "cpu") or (device == "auto" and gpu_provider_available(device))
    if on_gpu or bf16_problem() is not None:
        return "fp32"
    record = user_data_dir() / "precision-gates" / f"{package.digest[:32]}.json"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return "bf16" if json.loads(record.read_text())["bf16_snr_db"] >= BF16_GATE_DB else "fp32"
    mixture, condition = _gate_inputs(package)
    fp32 = Separator(package, "cpu", threads=threads, precision="fp32").separate(mixture, condition)
    bf16 = Separator(package, "cpu", threads=threads, precision="bf16").separate(mixture, condition)
    snr = min(snr_db(a, b) for a, b in zip(fp32, bf16, strict=True))
    with contextlib.suppress(OSError):  # an unwritable data folder only costs a re-run
        write_json_atomic(record, {"package": package.name, "bf16_snr_db": round(snr, 2)})
    return "bf16" if snr >= BF16_GATE_DB else "fp32"


def _gate_inputs(package: ModelPackage) -> tuple[np.ndarray, np.ndarray]:
    """Two 3 s windows of the parity checks' structured signal, under two fixed unit
    conditions."""
    signal = realistic_signal(3.0, package.sample_rate, seed=20261203)
    mixture = np.stack([signal, signal[::-1] * 0.5]).astype(np.float32)
    rng = np.random.default_rng(20261203)
    condition = rng.standard_normal((2, package.condition_dim)).astype(np.float32)
    return mixture, condition / np.linalg.norm(condition, axis=1, keepdims=True)


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
        return self._session.run(
            [self._output], {MIXTURE_INPUT: mixture, CONDITION_INPUT: condition}
        )[0]
