"""Datasets of training items, each a pure function of (seed, epoch, index).

`SupervisedMixtures` mixes a target clip with interferer clips of another family, drawn
with a label temperature so that a corpus dominated by one label (speech) still teaches
the rare ones;
`NaturalMixtures` serves captioned real-world mixtures for weak supervision (the
mixture of mixtures is formed in the batch by the objective). `StepBatches` says which
items make up global step k, so a resumed run continues with exactly the next batch
and workers need no random state of their own.
"""

from collections import defaultdict
from collections.abc import Iterator

import numpy as np
from torch.utils.data import Dataset, Sampler

from clapsep.model.data import acoustics
from clapsep.model.data.audio import ClipStore
from clapsep.model.data.catalog import Clip
from clapsep.model.data.mixing import MixConfig, augment, colored_noise, mix, random_crop

SPEECH = "speech"  # the corpus category of every voice label

ItemKey = tuple[int, int]  # (epoch, index); validation items use epoch -1


class SupervisedMixtures(Dataset):
    """Target + interferer(s) at a drawn SNR, with both sides' captions and clean audio."""

    def __init__(
        self,
        clips: list[Clip],
        store: ClipStore,
        config: MixConfig,
        seed: int,
        validation: bool = False,
    ) -> None:
        if len(clips) < 2:
            raise ValueError("supervised mixtures need at least two clips")
        self.clips, self.store, self.config, self.seed = clips, store, config, seed
        self.validation = validation
        by_family: dict[str, list[Clip]] = defaultdict(list)
        for clip in clips:
            by_family[clip.family].append(clip)
        self.families = sorted(by_family)
        self.by_family = [by_family[f] for f in self.families]
        weights = (
            np.array([len(c) for c in self.by_family], dtype=float) ** config.label_temperature
        )
        self.family_weights = weights / weights.sum()
        self.speech_families = np.array(
            [members[0].category == SPEECH for members in self.by_family]
        )
        self.rooms = acoustics.RoomBank(seed)

    @property
    def tempered(self) -> bool:
        """Validation keeps the table's balance, so its scores stay comparable across a run."""
        return self.config.label_temperature != 1.0 and not self.validation

    def __len__(self) -> int:
        return len(self.clips)

    def _rng(self, key: ItemKey | int) -> np.random.Generator:
        epoch, index = (-1, key) if isinstance(key, int) else key
        return np.random.default_rng([self.seed, epoch + 1, index, 1 if self.validation else 0])

    def _draw(
        self, rng: np.random.Generator, excluding: str | None = None, speech: bool | None = None
    ) -> Clip:
        """A clip of a tempered family draw; `speech` True / False keeps only voice / non-voice
        families."""
        weights = self.family_weights.copy()
        if excluding is not None:
            weights[self.families.index(excluding)] = 0.0
        if speech is not None:
            weights[self.speech_families != speech] = 0.0
        if weights.sum() == 0.0:
            raise ValueError(f"no clip of another label than {excluding!r} to mix with")
        family = self.by_family[int(rng.choice(len(weights), p=weights / weights.sum()))]
        return family[int(rng.integers(len(family)))]

    def _source(self, clip: Clip, rng: np.random.Generator) -> np.ndarray:
        """A crop of the clip, augmented; voices also arrive through rooms, phones and faders."""
        wave = augment(
            random_crop(self.store.get(clip.path), self.config.crop_samples, rng), self.config, rng
        )
        if clip.category == SPEECH and self.config.dialogue.active and not self.validation:
            wave = acoustics.apply(wave, self.config.dialogue, self.rooms, rng)
        return wave

    def _dialogue_item(self, rng: np.random.Generator) -> bool:
        """Whether this training item is speech against everything else (drawn first, per item)."""
        cfg = self.config
        return (
            not self.validation
            and cfg.speech_share > 0
            and bool(self.speech_families.any())
            and bool((~self.speech_families).any())
            and rng.random() < cfg.speech_share
        )

    def __getitem__(self, key: ItemKey | int) -> dict:
        rng = self._rng(key)
        index = key if isinstance(key, int) else key[1]
        cfg = self.config
        dialogue = self._dialogue_item(rng)
        if dialogue:
            target_clip = self._draw(rng, speech=True)
        else:
            target_clip = self._draw(rng) if self.tempered else self.clips[index]
        length = cfg.crop_samples
        target = self._source(target_clip, rng)
        if not self.validation and cfg.noise_prob > 0 and rng.random() < cfg.noise_prob:
            noise, negative = colored_noise(length, rng)
        else:
            count = (
                int(rng.integers(cfg.speech_interferers[0], cfg.speech_interferers[1] + 1))
                if dialogue
                else cfg.interferers
            )
            others = [
                self._draw(rng, excluding=target_clip.family, speech=False if dialogue else None)
                for _ in range(count)
            ]
            noise = sum(self._source(c, rng) for c in others)
            negative = " and ".join(c.captions[int(rng.integers(len(c.captions)))] for c in others)
        snr = float(rng.uniform(*cfg.speech_snr_range)) if dialogue else cfg.draw_snr(rng)
        mixture, target, noise = mix(target, noise, snr)
        return {
            "mixture": mixture,
            "target": target,
            "noise": noise,
            "positive": target_clip.captions[int(rng.integers(len(target_clip.captions)))],
            "negative": negative,
        }


class NaturalMixtures(Dataset):
    """Crops of captioned real-world recordings (weak supervision: no clean sources)."""

    def __init__(self, clips: list[Clip], store: ClipStore, config: MixConfig, seed: int) -> None:
        self.clips, self.store, self.config, self.seed = clips, store, config, seed

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, key: ItemKey) -> dict:
        epoch, index = key
        rng = np.random.default_rng([self.seed, epoch + 1, index, 2])
        clip = self.clips[index]
        wave = augment(
            random_crop(self.store.get(clip.path), self.config.crop_samples, rng), self.config, rng
        )
        return {"mixture": wave, "caption": clip.captions[int(rng.integers(len(clip.captions)))]}


class StepBatches(Sampler):
    """Endless batches of (epoch, index) keys from global step `start` on, one rank's share.

    Each epoch is a seeded permutation cut into global batches of `batch_size * world`;
    rank r takes its slice, so the world together sees every item once per epoch.
    """

    def __init__(
        self, size: int, batch_size: int, seed: int, start: int = 0, rank: int = 0, world: int = 1
    ) -> None:
        self.per_epoch = size // (batch_size * world)
        if self.per_epoch == 0:
            raise ValueError(
                f"{size} items cannot fill one batch of {batch_size} x {world} processes"
            )
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.start, self.rank, self.world = start, rank, world

    def __iter__(self) -> Iterator[list[ItemKey]]:
        step = self.start
        while True:
            epoch, b = divmod(step, self.per_epoch)
            order = np.random.default_rng([self.seed, epoch]).permutation(self.size)
            first = (b * self.world + self.rank) * self.batch_size
            yield [(epoch, int(i)) for i in order[first : first + self.batch_size]]
            step += 1
