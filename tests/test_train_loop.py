"""Training end to end on generated audio with a tiny model: every mode lowers the loss,
resume repeats the next step exactly, and a 2-process gloo DDP run works."""

import csv
import os
import socket
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from clapsep.model.configs import CONFIGS, DecoderConfig, HTSATConfig, ModelConfig, TextConfig  # noqa: E402
from clapsep.model.data.synthetic import FAMILIES, write_synthetic_corpus  # noqa: E402
from clapsep.model.training.config import config_from_dict  # noqa: E402
from clapsep.model.training.trainer import train  # noqa: E402

# Structure of `mini` (same grids and window), narrower still, so a CPU step takes ~0.5 s.
TINY = ModelConfig(
    name="tiny",
    audio=HTSATConfig(embed_dim=16, depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8), class_num=8),
    text=TextConfig(
        vocab_size=512,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    ),
    decoder=DecoderConfig(
        embed_dim=16, num_heads=(1, 2, 4, 8), d_attn=64, n_masker_layer=1, masker_heads=2
    ),
    embedding_dim=64,
)


@pytest.fixture(autouse=True)
def tiny_config(monkeypatch):
    monkeypatch.setitem(CONFIGS, "tiny", TINY)
    torch.set_num_threads(2)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two training clips (a tone, a noise) and two natural mixtures of other families: every
    batch holds the same items, so a few steps must fit them (mixing and queries stay random)."""
    import numpy as np
    import soundfile as sf

    from clapsep.model.data.synthetic import synth

    folder = tmp_path_factory.mktemp("corpus")
    write_synthetic_corpus(folder, per_family=2, seconds=1.0, families=("tone", "noise"))
    rng = np.random.default_rng(0)
    rows = ["file_name,caption"]
    for n, (a, b) in enumerate((("chirp", "tone"), ("clicks", "noise"))):
        sf.write(folder / f"natural-{n}.wav", synth(a, 1.0, rng) + synth(b, 1.0, rng), 32000)
        rows.append(f"natural-{n}.wav,{FAMILIES[a]} and {FAMILIES[b]}")
    (folder / "mixtures.csv").write_text("\n".join(rows) + "\n")
    return folder


def make_config(corpus, out, mode="plain", steps=4, lr=1e-3, batch_size=2):
    return config_from_dict(
        {
            "model": {"name": "tiny"},
            "data": {
                "supervised": str(corpus / "clips.csv"),
                "weak": str(corpus / "mixtures.csv"),
                "mix": {"crop_seconds": 1.0},
                "val_items": 2,
            },
            "objective": {"mode": mode},
            "optim": {"lr": lr},
            "run": {
                "out": str(out),
                "batch_size": batch_size,
                "max_steps": steps,
                "val_every": 1000,
                "checkpoint_every": 1000,
                "progress": False,
            },
        }
    )


def losses(run_dir):
    with (run_dir / "metrics.csv").open() as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


def probe_loss(config, batch, trained):
    """The objective on one fixed batch with fixed randomness, before or after training."""
    from clapsep.model.checkpoints import load_checkpoint
    from clapsep.model.training.setup import build_objective, build_separator

    objective = build_objective(config, build_separator(config, Path(config.run.out)))
    if trained:
        objective.load_state_dict(
            load_checkpoint(Path(config.run.out) / "last.pt")["tuned"], strict=False
        )
    torch.manual_seed(0)
    with torch.no_grad():
        return objective(batch, torch.Generator().manual_seed(1))[0].item()


def fixed_batch(config, mode):
    from torch.utils.data import default_collate

    from clapsep.model.training.setup import build_data, read_catalogues

    data = build_data(config, read_catalogues(config))
    sup = default_collate([data.train[(0, i)] for i in range(2)])
    weak = default_collate([data.weak[(0, i)] for i in range(2)])
    return {"plain": sup, "nit": sup, "bimodal": weak, "semi": {"supervised": sup, "weak": weak}}[
        mode
    ]


@pytest.mark.parametrize(
    ("mode", "steps", "lr"),
    [("plain", 6, 1e-3), ("nit", 6, 1e-3), ("bimodal", 6, 1e-3), ("semi", 4, 1e-3)],
)
def test_each_mode_lowers_the_loss(corpus, tmp_path, mode, steps, lr):
    config = make_config(corpus, tmp_path / mode, mode, steps, lr)
    run_dir = train(config)
    curve = losses(run_dir)
    batch = fixed_batch(config, mode)
    before, after = probe_loss(config, batch, False), probe_loss(config, batch, True)
    print(
        f"{mode}: step losses {curve[0]:.3f} -> {curve[-1]:.3f}; "
        f"fixed batch {before:.3f} -> {after:.3f}"
    )
    assert len(curve) == steps and after < before
    assert (run_dir / "model" / "model.safetensors").is_file() and (run_dir / "best").is_dir()
    if mode == "nit":
        assert (run_dir / "model" / "noise_heads.safetensors").is_file()


def test_resume_repeats_the_next_step_exactly(corpus, tmp_path):
    from safetensors.torch import load_file

    from clapsep.host.cli import main

    config_file = tmp_path / "exp.yaml"
    config_file.write_text(
        f"model: {{name: tiny}}\n"
        f"data: {{supervised: {corpus / 'clips.csv'}, mix: {{crop_seconds: 1.0}}, val_items: 2}}\n"
        f"optim: {{lr: 0.001}}\n"
        f"run: {{batch_size: 2, max_steps: 3, val_every: 1000, "
        f"checkpoint_every: 1000, progress: false}}\n"
    )
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert main(["train", str(config_file), "--out", str(straight)]) == 0
    assert (
        main(["train", str(config_file), "--out", str(resumed), "--max-steps", "2"]) == 0
    )  # checkpoints at 2
    assert (
        main(["train", str(config_file), "--out", str(resumed)]) == 0
    )  # resumes from the run folder
    assert losses(resumed) == losses(straight)
    a, b = (
        load_file(straight / "model" / "model.safetensors"),
        load_file(resumed / "model" / "model.safetensors"),
    )
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_carry_file_continues_a_run_in_an_empty_folder_from_its_step(corpus, tmp_path):
    from clapsep.host.cli import main
    from clapsep.model.checkpoints import load_checkpoint

    config_file = tmp_path / "exp.yaml"
    config_file.write_text(
        f"model: {{name: tiny}}\n"
        f"data: {{supervised: {corpus / 'clips.csv'}, mix: {{crop_seconds: 1.0}}, val_items: 2}}\n"
        f"run: {{batch_size: 2, max_steps: 2, val_every: 1000, "
        f"checkpoint_every: 1000, progress: false}}\n"
    )
    first, carry, later = tmp_path / "first", tmp_path / "carry.pt", tmp_path / "later"
    assert main(["train", str(config_file), "--out", str(first)]) == 0
    assert main(["train", str(config_file), "--out", str(first), "--carry", str(carry)]) == 0
    kept = load_checkpoint(carry)
    assert kept["step"] == 2 and kept["optimizer"]["state"] == {}
    assert {v.dtype for v in kept["tuned"].values() if v.is_floating_point()} == {torch.float16}
    assert carry.stat().st_size < (first / "last.pt").stat().st_size / 2
    argv = ["train", str(config_file), "--out", str(later), "--continue-from", str(carry)]
    assert main([*argv, "--max-steps", "3"]) == 0
    with (later / "metrics.csv").open() as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [3]  # went on from step 2
    assert main([*argv, "--max-steps", "3"]) == 0  # its own checkpoint wins from now on
    assert load_checkpoint(later / "last.pt")["step"] == 3


def _ddp_worker(rank, world, port, corpus, out):
    os.environ.update(
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    CONFIGS["tiny"] = TINY
    torch.set_num_threads(1)
    train(make_config(corpus, out, steps=2, batch_size=1))  # 2 clips: one per rank and step


def test_two_process_gloo_ddp(corpus, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(
        _ddp_worker, args=(2, port, corpus, tmp_path / "ddp"), nprocs=2, join=True
    )
    state = torch.load(tmp_path / "ddp" / "last.pt", weights_only=True)
    assert state["step"] == 2 and len(state["rng"]) == 2
    assert (
        len(losses(tmp_path / "ddp")) == 2
        and (tmp_path / "ddp" / "model" / "model.safetensors").is_file()
    )
