"""Encoder/decoder time per batch of windows, per CPU backend and precision, and where it goes.

`python -m bench.backends --package DIR [--batch 4] [--profile]`

DIR is a format-2 package exported without `--compact` (float32 initializers, which
dynamic quantization needs). Side by side in one process, on a batch of full windows of
the example clip at the package rate: onnxruntime fp32 (the shipped path), onnxruntime
with dynamic int8 MatMul/Gemm (`onnxruntime.quantization.quantize_dynamic`), and, when
the optional `openvino` package is importable, OpenVINO's CPU plugin at f32 and bf16
(AMX on CPUs that have it). Each variant's output is compared with onnxruntime fp32 as
an SNR: the precision gate's second measure. `--profile` adds onnxruntime's per-op-type
share of each graph's time. Prints a table and writes `bench/results/backends.json`.
"""

import argparse
import collections
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.workers import ROOT, write_report

EXAMPLE = ROOT / "examples" / "street" / "mixture.wav"
Runner = tuple[Callable[[], dict[str, np.ndarray]], Callable[[dict], np.ndarray]]


def _inputs(package: Path, batch: int) -> tuple[np.ndarray, np.ndarray, int]:
    from pedalboard.io import AudioFile

    manifest = json.loads((package / "manifest.json").read_text())
    rate, window = manifest["sample_rate"], manifest["window_samples"]
    with AudioFile(str(EXAMPLE)).resampled_to(rate) as f:
        clip = f.read(f.frames)
    mixture = np.stack([np.resize(clip[i % len(clip)], window) for i in range(batch)])
    rng = np.random.default_rng(0)
    condition = rng.standard_normal((batch, manifest["condition_dim"])).astype(np.float32)
    condition /= np.linalg.norm(condition, axis=1, keepdims=True)
    return mixture.astype(np.float32), condition, rate


def _ort_session(path: Path, profile: str = "") -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    if profile:
        options.enable_profiling = True
        options.profile_file_prefix = f"{profile}_{path.stem}"
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _onnxruntime(encoder: Any, decoder: Any, x: np.ndarray, c: np.ndarray) -> Runner:
    """Runners over two onnxruntime sessions (or graph paths to open)."""
    enc = _ort_session(encoder) if isinstance(encoder, Path) else encoder
    dec = _ort_session(decoder) if isinstance(decoder, Path) else decoder
    names = [o.name for o in enc.get_outputs()]

    def run_encoder() -> dict[str, np.ndarray]:
        return dict(zip(names, enc.run(None, {"mixture": x}), strict=True))

    return run_encoder, lambda f: dec.run(None, {**f, "mixture": x, "condition": c})[0]


def _openvino(encoder: Path, decoder: Path, x: np.ndarray, c: np.ndarray, hint: str) -> Runner:
    import openvino as ov

    core = ov.Core()
    config = {"INFERENCE_PRECISION_HINT": hint, "INFERENCE_NUM_THREADS": os.cpu_count() or 1}
    enc = core.compile_model(str(encoder), "CPU", config)
    dec = core.compile_model(str(decoder), "CPU", config)
    names = [o.get_any_name() for o in enc.outputs]

    def run_encoder() -> dict[str, np.ndarray]:
        result = enc({"mixture": x})
        return {name: result[out] for name, out in zip(names, enc.outputs, strict=True)}

    return run_encoder, lambda f: dec({**f, "mixture": x, "condition": c})[dec.outputs[0]]


def _best_of(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    result = fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def _op_shares(session: Any) -> dict[str, float]:
    events = json.loads(Path(session.end_profiling()).read_text())
    by_type: collections.Counter[str] = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            by_type[event["args"]["op_name"]] += event["dur"]
    total = sum(by_type.values()) or 1
    return {op: round(100 * us / total, 1) for op, us in by_type.most_common(8)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.backends", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--package", required=True, type=Path)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="onnxruntime op-type shares")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "backends.json"))
    args = parser.parse_args(argv)
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from clapsep.signals import snr_db

    x, c, rate = _inputs(args.package, args.batch)
    encoder, decoder = args.package / "encoder.onnx", args.package / "decoder.onnx"
    work = Path(tempfile.mkdtemp(prefix="clapsep-bench-backends-"))
    for graph in (encoder, decoder):
        quantize_dynamic(
            graph, work / graph.name, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"]
        )
    variants = {
        "onnxruntime fp32": lambda: _onnxruntime(encoder, decoder, x, c),
        "onnxruntime int8 (dynamic)": lambda: _onnxruntime(
            work / encoder.name, work / decoder.name, x, c
        ),
    }
    try:
        import openvino  # noqa: F401

        for hint in ("f32", "bf16"):
            variants[f"openvino {hint}"] = lambda h=hint: _openvino(encoder, decoder, x, c, h)
    except ImportError:
        print("openvino is not installed: its rows are skipped", file=sys.stderr)
    audio_seconds = x.size / rate
    rows, reference = [], None
    for name, make in variants.items():
        run_encoder, run_decoder = make()
        encode_s, features = _best_of(run_encoder)
        decode_s, separated = _best_of(lambda f=features, d=run_decoder: d(f))
        first = reference is None
        reference = separated if first else reference
        rows.append(
            {
                "variant": name,
                "encode_s": round(encode_s, 4),
                "decode_s": round(decode_s, 4),
                "rtf": round((encode_s + decode_s) / audio_seconds, 5),
                "snr_vs_fp32_db": None if first else round(snr_db(reference, separated), 1),
            }
        )
    report: dict[str, Any] = {
        "package": str(args.package),
        "batch": args.batch,
        "audio_seconds": round(audio_seconds, 2),
        "rows": rows,
        "machine": {"cpu_cores": os.cpu_count(), "platform": platform.platform()},
    }
    if args.profile:
        enc, dec = (_ort_session(g, str(work / "profile")) for g in (encoder, decoder))
        run_encoder, run_decoder = _onnxruntime(enc, dec, x, c)
        for _ in range(3):
            run_decoder(run_encoder())
        report["op_type_share_percent"] = {"encoder": _op_shares(enc), "decoder": _op_shares(dec)}
    head = f"{'variant':<28} {'encode s':>9} {'decode s':>9} {'RTF':>8} {'SNR vs fp32':>12}"
    print(f"batch {args.batch} x {x.shape[1]} samples at {rate} Hz\n{head}\n" + "-" * len(head))
    for r in rows:
        snr = r["snr_vs_fp32_db"]
        snr_text = "reference" if snr is None else f"{snr} dB"
        print(
            f"{r['variant']:<28} {r['encode_s']:>9} {r['decode_s']:>9} {r['rtf']:>8} {snr_text:>12}"
        )
    for graph, shares in report.get("op_type_share_percent", {}).items():
        print(f"{graph}: " + ", ".join(f"{op} {share} %" for op, share in shares.items()))
    write_report(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
