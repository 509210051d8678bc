"""Train the bundled model's small CLAP: an HTS-AT audio tower aligned to frozen MiniLM text.

Symmetric InfoNCE between clip embeddings and caption embeddings with a learned
temperature (CLAP's `logit_scale_a`), batches of distinct labels, band-limiting and
gain augmentation, SpecAugment and drop-path inside HTS-AT. Resumable: the run folder
holds `last.pt` (weights, optimiser, step and every RNG state) written atomically.
"""

import csv
import math
import random
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from clapsep.files import replacing
from clapsep.model.checkpoints import load_checkpoint
from clapsep.model.clap import ClapQueryEncoder, fit_query_audio
from clapsep.model.configs import get_config
from clapsep.model.corpus.vocabulary import caption as label_caption
from clapsep.model.data.catalog import Clip
from clapsep.model.minilm import load_minilm_weights, mean_pool, minilm_tokenizer
from clapsep.model.pretrain.clips import band_limit, by_label, corpus_splits, load_clip
from clapsep.model.spectral import Resample32To48

BANDWIDTHS_HZ = (4000.0, 5512.5, 8000.0, 11025.0)


@dataclass
class PretrainConfig:
    corpus: Path
    run_dir: Path
    model_config: str = "bundled"
    batch_size: int = 24
    crop_seconds: float = 10.0
    lr: float = 3e-4
    weight_decay: float = 0.01
    steps: int = 20000
    warmup_steps: int = 200
    checkpoint_every: int = 25
    validate_every: int = 200
    val_clips: int = 240
    bandlimit_prob: float = 0.5
    seed: int = 0
    threads: int = 2


class Pretrainer:
    def __init__(self, cfg: PretrainConfig) -> None:
        self.cfg = cfg
        torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)  # before building: the initial weights are part of the run
        np.random.seed(cfg.seed)
        model_cfg = get_config(cfg.model_config)
        self.encoder = ClapQueryEncoder(model_cfg.audio, model_cfg.text, model_cfg.embedding_dim)
        load_minilm_weights(self.encoder.text_branch)
        self.tokenizer = minilm_tokenizer(model_cfg.text.max_length)
        self.resample = Resample32To48()
        self.trainable = [
            p for n, p in self.encoder.named_parameters() if not n.startswith("text_branch.")
        ]
        for p in self.trainable:
            p.requires_grad_(True)
        self.optimizer = torch.optim.AdamW(self.trainable, lr=cfg.lr, weight_decay=cfg.weight_decay)
        splits = corpus_splits(cfg.corpus)
        self.train_groups = by_label(splits["train"])
        val = splits["val"]
        random.Random(cfg.seed).shuffle(val)
        self.val = [c for c in val if c.label in self.train_groups][: cfg.val_clips]
        self.step = 0
        self.best_accuracy = -1.0
        self.rng = random.Random(cfg.seed)
        self._stop = False

    # -- batches -------------------------------------------------------------------------
    def text_embeddings(self, captions: list[str]) -> torch.Tensor:
        ids, mask = self.encoder.tokenize(self.tokenizer, captions)
        with torch.no_grad():
            hidden = self.encoder.text_branch(input_ids=ids, attention_mask=mask).last_hidden_state
            pooled = mean_pool(hidden, mask)
        return F.normalize(self.encoder.text_projection(pooled), dim=-1)

    def audio_embeddings(self, waves32: torch.Tensor) -> torch.Tensor:
        wave48 = fit_query_audio(self.resample(waves32))
        latent = self.encoder.audio_branch({"waveform": wave48}, device=wave48.device)["embedding"]
        return F.normalize(self.encoder.audio_projection(latent), dim=-1)

    def sample_batch(self) -> tuple[torch.Tensor, list[str]]:
        samples = int(self.cfg.crop_seconds * 32000)
        labels = self.rng.sample(
            list(self.train_groups), min(self.cfg.batch_size, len(self.train_groups))
        )
        waves, captions = [], []
        for label in labels:
            clip: Clip = self.rng.choice(self.train_groups[label])
            wave = torch.from_numpy(load_clip(clip.path, samples, self.rng))
            if self.rng.random() < self.cfg.bandlimit_prob:
                wave = band_limit(wave, self.rng.choice(BANDWIDTHS_HZ))
            waves.append(wave * 10 ** (self.rng.uniform(-12, 6) / 20))
            captions.append(
                clip.captions[0] if self.rng.random() < 0.5 else label_caption(label, self.rng)
            )
        return torch.stack(waves), captions

    # -- training ------------------------------------------------------------------------
    def lr_at(self, step: int) -> float:
        if step < self.cfg.warmup_steps:
            return self.cfg.lr * (step + 1) / self.cfg.warmup_steps
        progress = (step - self.cfg.warmup_steps) / max(1, self.cfg.steps - self.cfg.warmup_steps)
        return self.cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    def train_step(self) -> float:
        self.encoder.audio_branch.train()
        waves, captions = self.sample_batch()
        audio = self.audio_embeddings(waves)
        text = self.text_embeddings(captions)
        scale = self.encoder.logit_scale_a.clamp(max=math.log(100)).exp()
        logits = scale * audio @ text.T
        target = torch.arange(len(captions))
        loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_at(self.step)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.trainable, 5.0)
        self.optimizer.step()
        self.step += 1
        return float(loss.detach())

    @torch.no_grad()
    def validate(self) -> float:
        """Zero-shot top-1 accuracy on held-out clips against one prompt set per training label."""
        self.encoder.audio_branch.eval()
        labels = list(self.train_groups)
        prompts = [label_caption(label, random.Random(0)) for label in labels]
        text = self.text_embeddings(prompts)
        samples = int(self.cfg.crop_seconds * 32000)
        correct = 0
        for start in range(0, len(self.val), 16):
            chunk = self.val[start : start + 16]
            waves = torch.stack([torch.from_numpy(load_clip(c.path, samples, None)) for c in chunk])
            predicted = (self.audio_embeddings(waves) @ text.T).argmax(dim=-1)
            correct += sum(labels[int(i)] == c.label for i, c in zip(predicted, chunk, strict=True))
        return correct / max(1, len(self.val))

    # -- checkpoints ---------------------------------------------------------------------
    def state(self) -> dict:
        weights = {
            k: v for k, v in self.encoder.state_dict().items() if not k.startswith("text_branch.")
        }
        return {
            "weights": weights,
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "best_accuracy": self.best_accuracy,
            "config": {k: str(v) for k, v in asdict(self.cfg).items()},
            "rng_python": self.rng.getstate(),
            "rng_torch": torch.get_rng_state(),
            "rng_numpy": np.random.get_state(),
        }

    def save(self, name: str) -> None:
        with replacing(self.cfg.run_dir / name) as temp:
            torch.save(self.state(), temp)

    def resume(self) -> bool:
        path = self.cfg.run_dir / "last.pt"
        if not path.is_file():
            return False
        state = load_checkpoint(path)
        self.encoder.load_state_dict(state["weights"], strict=False)
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.best_accuracy = state["step"], state["best_accuracy"]
        self.rng.setstate(state["rng_python"])
        torch.set_rng_state(state["rng_torch"])
        np.random.set_state(state["rng_numpy"])
        return True

    def run(self, log=print) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: setattr(self, "_stop", True))
        if self.resume():
            log(f"resumed at step {self.step}")
        log_path = self.cfg.run_dir / "log.csv"
        self.cfg.run_dir.mkdir(parents=True, exist_ok=True)
        new_log = not log_path.exists()
        with log_path.open("a", newline="") as f:
            writer = csv.writer(f)
            if new_log:
                writer.writerow(["step", "loss", "lr", "val_accuracy", "seconds"])
            while self.step < self.cfg.steps and not self._stop:
                started = time.time()
                loss = self.train_step()
                accuracy = ""
                if self.step % self.cfg.validate_every == 0:
                    accuracy = self.validate()
                    if accuracy > self.best_accuracy:
                        self.best_accuracy = accuracy
                        self.save("best.pt")
                writer.writerow(
                    [
                        self.step,
                        f"{loss:.4f}",
                        f"{self.lr_at(self.step):.2e}",
                        accuracy,
                        f"{time.time() - started:.2f}",
                    ]
                )
                f.flush()
                log(
                    f"step {self.step} loss {loss:.4f}"
                    + (f" val_acc {accuracy:.3f}" if accuracy != "" else "")
                )
                if self.step % self.cfg.checkpoint_every == 0:
                    self.save("last.pt")
            self.save("last.pt")
