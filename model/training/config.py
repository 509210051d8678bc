"""An experiment's configuration: a YAML or TOML file read into one dataclass tree.

Sections mirror what they configure (model, data, query, objective, optim, run);
`model.training.setup` is the one place that turns them into objects. Unknown keys are
errors; relative paths are relative to the working directory (the shipped examples
assume the repository root).
"""

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from clapsep.model.data.catalog import DEFAULT_TEMPLATE
from clapsep.model.data.mixing import MixConfig


class ConfigError(ValueError):
    """A config file that cannot be read into a `TrainConfig`."""


@dataclass(frozen=True)
class ModelSection:
    name: str = "mini"  # a configuration of model.configs
    init: str | None = None  # model directory to start from (e.g. the converted release)
    tokenizer: str | None = (
        None  # tokenizer.json; without it and `init`: a BPE trained on the captions
    )


@dataclass(frozen=True)
class DataSection:
    supervised: str | None = (
        None  # single-source clips: clips.csv, a label/file tree, or a caption CSV
    )
    supervised_kind: str = "labelled"  # labelled | captions
    weak: str | None = None  # caption CSV of natural mixtures (bi-modal / semi modes)
    root: str | None = None  # audio root for CSV paths (default: the CSV's folder)
    template: str = DEFAULT_TEMPLATE
    mix: MixConfig = field(default_factory=MixConfig)
    val_fraction: float = 0.05  # used when the table has no split column
    val_items: int = 64
    cache_mb: float = 2048.0
    preload: bool = True
    num_workers: int = 0


@dataclass(frozen=True)
class QuerySection:
    valence: tuple[float, float, float] = (0.25, 0.25, 0.5)  # positive only / negative only / both
    audio_queries: bool = True
    speeds: tuple[float, ...] = (0.9, 1.1)


@dataclass(frozen=True)
class NITSection:
    activity: float = 0.25
    weight: float = 0.1


@dataclass(frozen=True)
class BiModalSection:
    phrases: int = 2
    contrastive: float = 0.5
    reconstruction: float = 5.0


@dataclass(frozen=True)
class ObjectiveSection:
    mode: str = "plain"  # plain | nit | bimodal | semi
    supervised: str = "plain"  # the supervised half of `semi`: plain | nit
    weights: tuple[float, float] = (1.0, 1.0)  # semi: supervised, weak
    nit: NITSection = field(default_factory=NITSection)
    bimodal: BiModalSection = field(default_factory=BiModalSection)


@dataclass(frozen=True)
class OptimSection:
    lr: float = 1e-4
    weight_decay: float = 0.01
    grad_clip: float = 5.0
    plateau_factor: float = 0.3
    plateau_patience: int = 5  # validations without SI-SDRi improvement
    min_lr: float = 5e-6


@dataclass(frozen=True)
class RunSection:
    out: str = "runs/experiment"
    batch_size: int = 4
    max_steps: int = 1000
    val_every: int = 200
    checkpoint_every: int = 100
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    bf16: bool = True  # autocast on GPU only
    threads: int | None = None  # torch CPU threads per process
    logs: tuple[str, ...] = ("csv",)  # csv and/or tensorboard
    progress: bool = True


@dataclass(frozen=True)
class TrainConfig:
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    query: QuerySection = field(default_factory=QuerySection)
    objective: ObjectiveSection = field(default_factory=ObjectiveSection)
    optim: OptimSection = field(default_factory=OptimSection)
    run: RunSection = field(default_factory=RunSection)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


MODES = ("plain", "nit", "bimodal", "semi")


def _build(cls: type, values: Any, where: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a table, got {values!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(names))}"
        )
    kwargs = {}
    for key, value in values.items():
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            kwargs[key] = _build(hint, value, f"{where}.{key}")
        elif isinstance(value, list) and typing.get_origin(hint) in (
            tuple,
            types.UnionType,
            typing.Union,
        ):
            kwargs[key] = tuple(value)
        else:
            kwargs[key] = value
    return cls(**kwargs)


def config_from_dict(values: dict[str, Any]) -> TrainConfig:
    """A checked `TrainConfig` from nested dicts (a parsed YAML/TOML file)."""
    config = _build(TrainConfig, values, "config")
    if config.objective.mode not in MODES:
        raise ConfigError(
            f"objective.mode must be one of {', '.join(MODES)}, got {config.objective.mode!r}"
        )
    if config.objective.supervised not in ("plain", "nit"):
        raise ConfigError("objective.supervised must be plain or nit")
    needs_weak = config.objective.mode in ("bimodal", "semi")
    if needs_weak and not config.data.weak:
        raise ConfigError(
            f"objective.mode {config.objective.mode} needs data.weak (captioned natural mixtures)"
        )
    if config.objective.mode != "bimodal" and not config.data.supervised:
        raise ConfigError(f"objective.mode {config.objective.mode} needs data.supervised")
    return config


def load_config(path: Path) -> TrainConfig:
    """Read a `.yaml`/`.yml` or `.toml` experiment file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        values = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {str(exc).splitlines()[0]}") from None
    return config_from_dict(values or {})
