"""`clapsep convert-official`: the authors' release -> this project's model directory."""

import argparse
from pathlib import Path

from clapsep.errors import UserError


def _run_convert(args: argparse.Namespace) -> int:
    from clapsep.model.checkpoints import CheckpointError, save_model_dir
    from clapsep.model.convert import convert
    from clapsep.model.separator import build_model
    from clapsep.model.tokenizer import roberta_tokenizer

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.overwrite:
        raise UserError(f"{out} exists and is not empty (use --overwrite)")
    tok_dir = Path(args.tokenizer_dir)
    try:
        tokenizer = roberta_tokenizer(tok_dir / "vocab.json", tok_dir / "merges.txt")
        model = build_model("official")
        conversion = convert(model, Path(args.clap), Path(args.checkpoint))
    except (CheckpointError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
    provenance = {
        "source": "CLAPSep release (Ma et al., arXiv 2402.17455) + LAION-CLAP",
        "clap_checkpoint": Path(args.clap).name,
        "clapsep_checkpoint": Path(args.checkpoint).name,
        "dropped_keys": conversion.dropped,
    }
    save_model_dir(out, model.config, model.state_dict(), tokenizer.to_str(), provenance)
    print(
        f"converted: {len(conversion.state)} tensors, "
        f"{len(conversion.dropped)} keys dropped with a reason -> {out}"
    )
    return 0


def register_convert(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "convert-official", help="convert the authors' CLAPSep release (needs [train])"
    )
    p.add_argument("--clap", required=True, help="music_audioset_epoch_15_esc_90.14.pt")
    p.add_argument("--checkpoint", required=True, help="CLAPSep best_model.ckpt")
    p.add_argument(
        "--tokenizer-dir", required=True, help="folder with roberta-base vocab.json and merges.txt"
    )
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(run=_run_convert)
