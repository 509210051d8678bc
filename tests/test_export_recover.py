"""`clapsep recover-weights`: a shipped package back into a trainable torch model."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.torch

BUNDLED = Path(__file__).resolve().parents[1] / "models" / "clapsep-bundled"


def test_bundled_package_recovers_into_a_model_that_reproduces_it():
    from clapsep.export.parity import check_package
    from clapsep.export.recover import recover_model

    model, recovery = recover_model(BUNDLED)
    report = check_package(model, BUNDLED)
    assert report["passed"], report
    assert report["separator_snr_db"] > 60.0
    # only heads no inference graph uses stay fresh
    unused = ("logit_scale", "tscam_conv", ".head.", "_transform.", "audio_branch.htsat.norm.")
    assert recovery.missing and all(any(part in key for part in unused) for key in recovery.missing)


def test_recover_weights_command_writes_a_model_directory_training_can_start_from(tmp_path, capsys):
    from clapsep.host.cli import main
    from clapsep.model.checkpoints import load_model_dir

    out = tmp_path / "bundled-0.1"
    assert main(["recover-weights", str(BUNDLED), "--out", str(out)]) == 0
    assert "separator SNR" in capsys.readouterr().out
    model = load_model_dir(out)
    assert model.config.name == "bundled" and model.tokenizer is not None
    assert (
        main(["recover-weights", str(BUNDLED), "--out", str(out)]) == 2
    )  # never overwrites unasked
    assert "--overwrite" in capsys.readouterr().err


def test_encoder_decoder_package_recovers_its_separator(mini_package: Path):
    """A format-2 package: the separator's weights come back from the encoder and decoder."""
    import numpy as np

    from clapsep.export.parity import SNR_THRESHOLD_DB, separator_parity
    from clapsep.export.recover import recover_model
    from clapsep.host.runtime import Separator, load_package

    model, recovery = recover_model(mini_package)
    condition = np.random.default_rng(0).standard_normal(1024).astype(np.float32)
    condition /= np.linalg.norm(condition)
    separator = Separator(load_package(mini_package), device="cpu")
    assert separator_parity(model, separator, condition) > SNR_THRESHOLD_DB
    # Besides the heads no graph uses, only the untrained model's zero attention biases stay
    # fresh: the exporter folds them away, and a fresh model's are zero too.
    unused = (".head.", "tscam_conv", "audio_branch.htsat.norm.", "self_attn.out_proj.bias")
    separator_missing = [k for k in recovery.missing if k.startswith(("audio_branch.", "decoder"))]
    assert all(any(part in key for part in unused) for key in separator_missing)
