"""`clapsep export`: a model package from the project's weights (or an untrained model)."""

import argparse
import time
from pathlib import Path

from clapsep.errors import UserError


def _run_export(args: argparse.Namespace) -> int:
    from clapsep.export.package import check_out_dir, load_source, write_package
    from clapsep.export.parity import check_package
    from clapsep.package_format import NOISE_GRAPH

    started = time.perf_counter()
    check_out_dir(Path(args.out), args.overwrite)
    source = load_source(
        args.config,
        Path(args.weights) if args.weights else None,
        Path(args.tokenizer) if args.tokenizer else None,
    )
    if source.noise is not None:
        print(
            f"exporting the {len(source.noise.heads.proj)} noise heads "
            f"as off-query noise ({NOISE_GRAPH})"
        )
    if not source.trained:
        print(
            f"note: no --weights given: exporting an UNTRAINED {args.config} model "
            "(for benchmarks and tests; it does not separate anything)"
        )
    out = write_package(
        source,
        Path(args.out),
        name=args.name,
        package_version=args.package_version,
        fp16=not args.no_fp16,
        overwrite=args.overwrite,
        compact=args.compact,
    )
    print(f"wrote {out} in {time.perf_counter() - started:.0f} s")
    if args.check:
        report = check_package(source.model, out, source.noise)
        noise = (
            f", off-query noise SNR {report['noise_snr_db']:.1f} dB"
            if "noise_snr_db" in report
            else ""
        )
        print(
            "parity (torch vs onnxruntime CPU): separator SNR "
            f"{report['separator_snr_db']:.1f} dB{noise}, "
            f"text cosine {report['text_cosine']:.6f}, audio cosine {report['audio_cosine']:.6f}"
        )
        if not report["passed"]:
            raise UserError("exported graphs do not match the torch model (see the numbers above)")
    return 0


def _run_recover(args: argparse.Namespace) -> int:
    from clapsep.export.package import check_out_dir
    from clapsep.export.parity import check_package
    from clapsep.export.recover import recover_model
    from clapsep.model.checkpoints import save_model_dir

    out = Path(args.out)
    check_out_dir(out, args.overwrite)
    model, recovery = recover_model(Path(args.package))
    report = check_package(model, Path(args.package))
    print(
        f"recovered {sum(recovery.recovered.values()):,} weight elements in "
        f"{len(recovery.recovered)} tensors; "
        f"parity with the package: separator SNR {report['separator_snr_db']:.1f} dB, "
        f"text cosine {report['text_cosine']:.6f}, audio cosine {report['audio_cosine']:.6f}"
    )
    if recovery.missing:
        print(
            f"not in the package's graphs (kept from a fresh model): {', '.join(recovery.missing)}"
        )
    if not report["passed"]:
        raise UserError(
            "the recovered model does not reproduce the package (see the numbers above)"
        )
    provenance = {
        "stage": "recovered from a model package",
        "package": str(args.package),
        "parity": {k: round(float(v), 6) for k, v in report.items() if k != "passed"},
        "not_recovered": recovery.missing,
    }
    save_model_dir(out, model.config, model.state_dict(), model.tokenizer.to_str(), provenance)
    print(f"wrote {out}")
    return 0


def register_recover(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "recover-weights",
        help="a trainable model directory from a model package "
        "(to fine-tune a shipped model; needs [train])",
    )
    p.add_argument("package", help="model package folder (its manifest names the configuration)")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(run=_run_recover)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export", help="export a model package of ONNX graphs (needs [train])"
    )
    p.add_argument(
        "--config",
        required=True,
        choices=("official", "mini", "bundled"),
        help="model configuration",
    )
    p.add_argument("--weights", help="model directory or state-dict file; without it: untrained")
    p.add_argument("--tokenizer", help="tokenizer.json (when --weights is a bare state-dict file)")
    p.add_argument("--out", required=True, help="package folder to write")
    p.add_argument("--name", help="package name (default clapsep-CONFIG)")
    p.add_argument("--package-version", default="0.1.0", help="version recorded in the manifest")
    p.add_argument("--no-fp16", action="store_true", help="skip the fp16 separator for GPUs")
    p.add_argument(
        "--compact",
        action="store_true",
        help="store weights as float16 and the text token table as int8 (~40 %% of the size)",
    )
    p.add_argument(
        "--check", action="store_true", help="compare torch and onnxruntime after export"
    )
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(run=_run_export)
