"""The one place a `TrainConfig` becomes objects: model, tokenizer, data, objective, optimiser.

Constructors elsewhere take plain objects, so tests build any part without a config.
"""

from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer
from torch import nn
from torch.utils.data import DataLoader, Dataset

from clapsep.model.checkpoints import TOKENIZER_FILE, load_model_dir, read_model_config
from clapsep.model.configs import get_config
from clapsep.model.data.audio import ClipStore
from clapsep.model.data.catalog import Clip, read_caption_csv, read_labelled, split_clips
from clapsep.model.data.datasets import NaturalMixtures, StepBatches, SupervisedMixtures
from clapsep.model.minilm import minilm_tokenizer
from clapsep.model.noise import NoiseHeads
from clapsep.model.separator import CLAPSep, build_model
from clapsep.model.tokenizer import train_bpe_tokenizer
from clapsep.model.training.bimodal import BiModalObjective
from clapsep.model.training.config import TrainConfig
from clapsep.model.training.nit import NITObjective
from clapsep.model.training.objectives import PlainObjective, SemiObjective
from clapsep.model.training.queries import QueryBuilder


@dataclass
class Catalogues:
    train: list[Clip]
    val: list[Clip]
    weak: list[Clip]

    def captions(self) -> list[str]:
        return [c for clip in self.train + self.val + self.weak for c in clip.captions]


def read_catalogues(config: TrainConfig) -> Catalogues:
    data = config.data
    train: list[Clip] = []
    val: list[Clip] = []
    weak: list[Clip] = []
    if data.supervised:
        root = Path(data.root) if data.root else None
        if data.supervised_kind == "captions":
            clips = read_caption_csv(Path(data.supervised), root)
        else:
            clips = read_labelled(Path(data.supervised), data.template, root)
        train, val = split_clips(clips, data.val_fraction)
    if data.weak:
        weak = read_caption_csv(Path(data.weak), Path(data.root) if data.root else None)
    if not train and not weak:
        raise ValueError("the configuration names no training clips")
    return Catalogues(train, val, weak)


def ensure_tokenizer(config: TrainConfig, run_dir: Path, captions: list[str]) -> Path:
    """The run's `tokenizer.json`, written once: `model.tokenizer`, the `init` model's, or a
    BPE trained on the captions (MiniLM's own for a `minilm` text tower). A resumed run and
    the exported model read this file."""
    saved = run_dir / TOKENIZER_FILE
    if saved.is_file():
        return saved
    section = config.model
    init_tokenizer = Path(section.init) / TOKENIZER_FILE if section.init else None
    if section.tokenizer:
        text = Path(section.tokenizer).read_text()
    elif init_tokenizer is not None and init_tokenizer.is_file():
        text = init_tokenizer.read_text()
    else:
        text_cfg = (
            read_model_config(Path(section.init)) if section.init else get_config(section.name)
        ).text
        if text_cfg.kind == "minilm":
            text = minilm_tokenizer(text_cfg.max_length).to_str()
        else:
            text = train_bpe_tokenizer(captions, vocab_size=text_cfg.vocab_size).to_str()
    run_dir.mkdir(parents=True, exist_ok=True)
    saved.write_text(text)
    return saved


def build_separator(config: TrainConfig, run_dir: Path) -> CLAPSep:
    """The model to train: from `model.init`, or freshly initialised from `run.seed`."""
    if config.model.init:
        model = load_model_dir(Path(config.model.init))
    else:
        torch.manual_seed(config.run.seed)
        model = build_model(config.model.name)
    model.tokenizer = Tokenizer.from_file(str(run_dir / TOKENIZER_FILE))
    return model.train()


def build_objective(config: TrainConfig, model: CLAPSep) -> nn.Module:
    q, obj = config.query, config.objective
    queries = QueryBuilder(model, q.valence, q.audio_queries, q.speeds)

    def supervised(kind: str) -> nn.Module:
        if kind == "nit":
            return NITObjective(
                model, queries, NoiseHeads.for_model(model), obj.nit.activity, obj.nit.weight
            )
        return PlainObjective(model, queries)

    def weak() -> nn.Module:
        b = obj.bimodal
        return BiModalObjective(model, queries, b.phrases, b.contrastive, b.reconstruction)

    if obj.mode == "bimodal":
        return weak()
    if obj.mode == "semi":
        return SemiObjective(supervised(obj.supervised), weak(), obj.weights)
    return supervised(obj.mode)


def build_optimisation(
    config: TrainConfig, objective: nn.Module
) -> tuple[torch.optim.Optimizer, object]:
    o = config.optim
    params = [p for p in objective.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max", factor=o.plateau_factor, patience=o.plateau_patience, min_lr=o.min_lr
    )
    return optimizer, scheduler


@dataclass
class Data:
    train: Dataset | None  # supervised mixtures
    weak: Dataset | None
    val: SupervisedMixtures | None


def build_data(config: TrainConfig, catalogues: Catalogues) -> Data:
    data, seed = config.data, config.run.seed
    longest = data.mix.crop_seconds * 4  # a random crop never needs more of a long file than this
    store = ClipStore(data.cache_mb, max_seconds=max(longest, 30.0))
    if data.preload:
        store.preload([c.path for c in catalogues.train + catalogues.val + catalogues.weak])
    train = (
        SupervisedMixtures(catalogues.train, store, data.mix, seed) if catalogues.train else None
    )
    weak = NaturalMixtures(catalogues.weak, store, data.mix, seed) if catalogues.weak else None
    val = None
    if len(catalogues.val) >= 2:
        val = SupervisedMixtures(catalogues.val, store, data.mix, seed, validation=True)
    return Data(train, weak, val)


def batches(dataset: Dataset, config: TrainConfig, start: int, rank: int, world: int) -> DataLoader:
    sampler = StepBatches(len(dataset), config.run.batch_size, config.run.seed, start, rank, world)
    workers = config.data.num_workers
    # Items draw from their own seeds; a private generator keeps the loader from drawing its
    # base seed from torch's global RNG, which would shift a resumed run's random state.
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        persistent_workers=workers > 0,
        generator=torch.Generator().manual_seed(config.run.seed),
    )
