"""Pre/post effect chains from preset JSON, streamed around the model sample-exactly.

A chain is data (`EffectSpec`s) until a render builds it, so presets, cache keys and
worker processes can carry it. An effect is a built-in pedalboard class by name with
keyword parameters (`{"effect": "HighpassFilter", "params": {"cutoff_frequency_hz": 80}}`)
or a VST3/AU plugin file (`{"plugin": "/path/De-esser.vst3", "params": {...}}`).

Streaming: pedalboard with `reset=False` compensates an effect's latency by returning
fewer samples than it was given until its delay line is full. `StreamingChain` feeds
zeros after the last block until exactly the input's frame count has come out, so a
chain never shifts or lengthens a stem (checked with the MP3 and GSM effects, which have
latency). The model itself cannot sit inside a pedalboard chain, hence two chains.
"""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pedalboard

from clapsep.errors import UserError

_NOT_EFFECTS = {
    "Plugin",
    "Pedalboard",
    "Chain",
    "Mix",
    "PluginContainer",
    "ExternalPlugin",
    "VST3Plugin",
    "AudioUnitPlugin",
}
_FLUSH_FRAMES = 8192
_MAX_TAIL_SECONDS = 30
_MIN_BLOCK = (
    64  # pedalboard guesses the layout from the shape: never hand it fewer frames than channels
)


@cache
def builtin_effects() -> tuple[str, ...]:
    """Names of pedalboard's built-in effects usable in a chain."""
    return tuple(
        sorted(
            name
            for name, obj in vars(pedalboard).items()
            if isinstance(obj, type)
            and issubclass(obj, pedalboard.Plugin)
            and name not in _NOT_EFFECTS
            and not name.startswith("_")
        )
    )


@dataclass(frozen=True)
class EffectSpec:
    """One effect: a built-in `effect` name or a `plugin` file, with parameter values."""

    effect: str | None = None
    plugin: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    plugin_name: str | None = None  # picks one plugin out of a multi-plugin bundle

    def __post_init__(self) -> None:
        if (self.effect is None) == (self.plugin is None):
            raise UserError(
                "an effect needs exactly one of 'effect' (built-in name) or 'plugin' (file)"
            )
        if self.effect is not None and self.effect not in builtin_effects():
            raise UserError(
                f"unknown effect {self.effect!r}; built-in effects: {', '.join(builtin_effects())}"
            )
        if not isinstance(self.params, Mapping):
            raise UserError(f"params of {self.label} must be an object of name: value")

    @property
    def label(self) -> str:
        return self.effect or Path(self.plugin or "").name

    @classmethod
    def from_json(cls, data: Any) -> "EffectSpec":
        if not isinstance(data, dict) or set(data) - {"effect", "plugin", "params", "plugin_name"}:
            raise UserError(
                "an effect must be an object with effect|plugin, params and plugin_name, "
                f"got {data!r}"
            )
        return cls(
            data.get("effect"),
            data.get("plugin"),
            dict(data.get("params") or {}),
            data.get("plugin_name"),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"effect": self.effect} if self.effect else {"plugin": self.plugin}
        if self.plugin_name:
            out["plugin_name"] = self.plugin_name
        out["params"] = dict(self.params)
        return out

    def fingerprint(self) -> str:
        """What identifies this effect's sound: for plugins also the file's size and mtime."""
        text = repr(sorted(self.to_json().items(), key=lambda kv: kv[0]))
        if self.plugin:
            stat = Path(self.plugin).stat() if Path(self.plugin).exists() else None
            text += f"|{stat.st_size}:{stat.st_mtime_ns}" if stat else "|missing"
        return hashlib.sha256(text.encode()).hexdigest()

    def build(self) -> pedalboard.Plugin:
        try:
            if self.effect:
                return getattr(pedalboard, self.effect)(**self.params)
            if not Path(self.plugin or "").exists():
                raise UserError(f"plugin not found: {self.plugin}")
            return pedalboard.load_plugin(
                self.plugin, parameter_values=dict(self.params), plugin_name=self.plugin_name
            )
        except UserError:
            raise
        except (TypeError, ValueError, ImportError, RuntimeError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise UserError(f"cannot set up {self.label}: {reason}") from None


def parse_chain(data: Any) -> tuple[EffectSpec, ...]:
    """A chain from its JSON list (None or [] is no chain)."""
    if data is None:
        return ()
    if not isinstance(data, list):
        raise UserError(f"a chain must be a list of effects, got {type(data).__name__}")
    return tuple(EffectSpec.from_json(item) for item in data)


def chain_fingerprint(chain: Sequence[EffectSpec]) -> str:
    return ",".join(spec.fingerprint() for spec in chain)


class StreamingChain:
    """Push (channels, n) blocks through a chain; outputs total exactly `frames`.

    An empty chain passes blocks through untouched. Effects keep their state between
    blocks (`reset=False`); latency is absorbed by flushing zeros in `finish()`.
    """

    def __init__(
        self, chain: Sequence[EffectSpec], sample_rate: int, channels: int, frames: int
    ) -> None:
        self.board = pedalboard.Pedalboard([spec.build() for spec in chain]) if chain else None
        self.sample_rate, self.channels, self.frames = sample_rate, channels, frames
        self.emitted = 0
        self._held = np.zeros((channels, 0), dtype=np.float32)

    def push(self, block: np.ndarray) -> np.ndarray:
        if self.board is None:
            return self._take(block)
        self._held = np.concatenate([self._held, block], axis=1)
        if self._held.shape[1] < max(_MIN_BLOCK, self.channels + 1):
            return self._take(self._held[:, :0])
        held, self._held = self._held, self._held[:, :0]
        return self._take(self._process(held))

    def finish(self) -> np.ndarray:
        """The rest of the output: held frames, then the effects' tails cut at `frames`."""
        parts, flushed = [], 0
        pending, self._held = self._held, self._held[:, :0]
        while self.emitted < self.frames:
            if flushed > _MAX_TAIL_SECONDS * self.sample_rate:
                raise UserError(
                    f"an effect in the chain held back its output for over {_MAX_TAIL_SECONDS} s"
                )
            source = np.concatenate(
                [pending, np.zeros((self.channels, _FLUSH_FRAMES), np.float32)], axis=1
            )
            pending, flushed = pending[:, :0], flushed + _FLUSH_FRAMES
            parts.append(self._take(self._process(source) if self.board else source))
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.channels, 0), np.float32)

    def _process(self, block: np.ndarray) -> np.ndarray:
        assert self.board is not None
        out = self.board.process(
            np.ascontiguousarray(block, dtype=np.float32), self.sample_rate, reset=False
        )
        if out.ndim != 2 or out.shape[0] != self.channels:
            raise UserError(
                f"an effect changed the channel count from {self.channels} to {out.shape[0]}"
            )
        return out

    def _take(self, block: np.ndarray) -> np.ndarray:
        block = block[:, : max(0, self.frames - self.emitted)]
        self.emitted += block.shape[1]
        return block
