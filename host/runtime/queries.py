"""Queries -> the condition vector, with the package's CLAP encoders and no torch.

The rule equals `model/condition.py`: one side (positive: keep, negative: remove) is a
text, several audio shots averaged, or `a * e_audio + (1 - a) * e_text`; the condition
is `normalize(concat(pos or zeros, neg or zeros))`. Audio shots are read with
pedalboard, averaged to mono, resampled to the query rate and repeat-padded or
centre-cropped to 10 s exactly like `model.clap.fit_query_audio`. Text is tokenised with
the package's `tokenizer.json` (padding and truncation are stored in it). A span of a file
(`AudioSpan`: "this sound, here" in the clip being rendered) is one more shot.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from clapsep.errors import UserError
from clapsep.host.runtime.cache import EmbeddingCache
from clapsep.host.runtime.package import ModelPackage
from clapsep.host.runtime.sessions import open_session
from clapsep.package_format import (
    AUDIO_GRAPH,
    AUDIO_OUTPUT,
    TEXT_GRAPH,
    TEXT_OUTPUT,
    TOKENIZER_FILE,
)

DEFAULT_AUDIO_WEIGHT = 0.5


@dataclass(frozen=True)
class AudioSpan:
    """Seconds `start`..`end` of an audio file, as an example shot."""

    path: Path
    start: float
    end: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        if not 0 <= self.start < self.end:
            raise UserError(
                f"a span needs 0 <= START < END seconds, got {self.start:g}:{self.end:g}"
            )


@dataclass(frozen=True)
class QuerySpec:
    """One side of a query: a text, audio example files and spans, or both (mixed by
    `audio_weight`)."""

    text: str | None = None
    audio_files: tuple[Path, ...] = ()
    audio_weight: float = DEFAULT_AUDIO_WEIGHT
    audio_spans: tuple[AudioSpan, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "audio_files", tuple(Path(p) for p in self.audio_files))
        if not self.text and not self.audio_files and not self.audio_spans:
            raise UserError("a query needs a text, an audio example, or both")
        if not 0.0 <= self.audio_weight <= 1.0:
            raise UserError(f"the audio weight must be between 0 and 1, got {self.audio_weight}")


def fit_query_audio(wave: np.ndarray, samples: int) -> np.ndarray:
    """CLAP's repeat-pad (whole repeats, then zeros) or centre crop to `samples`."""
    length = wave.shape[-1]
    if length == 0:
        raise UserError("empty audio query")
    if length < samples:
        repeated = np.tile(wave, samples // length)
        return np.pad(repeated, (0, samples - repeated.shape[-1]))
    start = (length - samples) // 2
    return wave[start : start + samples]


def read_query_audio(path: Path, rate: int, span: tuple[float, float] | None = None) -> np.ndarray:
    """A mono float32 signal at `rate` (channels averaged, as librosa's `to_mono`): the whole
    file, or seconds `span` of it."""
    from pedalboard.io import AudioFile

    try:
        with AudioFile(str(path)) as source, source.resampled_to(rate) as resampled:
            if span is None:
                audio = resampled.read(resampled.frames)
            else:
                seconds = source.frames / source.samplerate
                if span[1] > seconds + 1e-9:
                    raise UserError(
                        f"span {span[0]:g}:{span[1]:g} s ends past the end of {path} "
                        f"({seconds:.3f} s)"
                    )
                resampled.seek(round(span[0] * rate))
                audio = resampled.read(max(1, round((span[1] - span[0]) * rate)))
    except (OSError, ValueError, RuntimeError) as exc:
        raise UserError(f"cannot read audio query {path}: {exc}") from None
    return np.asarray(audio, dtype=np.float32).mean(axis=0)


def mix_modalities(
    text: np.ndarray | None, audio: np.ndarray | None, audio_weight: float
) -> np.ndarray:
    if audio is None:
        return text
    if text is None:
        return audio
    return audio_weight * audio + (1.0 - audio_weight) * text


def condition_embedding(positive: np.ndarray | None, negative: np.ndarray | None) -> np.ndarray:
    """`normalize(concat(pos, neg))` with zeros for a missing side."""
    if positive is None and negative is None:
        raise UserError("a condition needs a positive or a negative query")
    zeros = np.zeros_like(positive if positive is not None else negative)
    joined = np.concatenate(
        [positive if positive is not None else zeros, negative if negative is not None else zeros]
    ).astype(np.float32)
    return joined / max(float(np.linalg.norm(joined)), 1e-12)


class QueryEncoder:
    """Encodes `QuerySpec`s with the package's text and audio graphs (opened on first use)."""

    def __init__(
        self, package: ModelPackage, device: str = "auto", cache_dir: Path | None = None
    ) -> None:
        self.package = package
        # A one-off query is not worth a TensorRT engine build: the encoders use CUDA or CPU.
        self._device = "cuda" if device in ("auto", "tensorrt") else device
        self._cache = EmbeddingCache(package.digest, cache_dir)
        self._sessions: dict[str, object] = {}
        self._tokenizer: Tokenizer | None = None
        self.provider_notes: dict[str, str] = {}

    def _session(self, graph: str):
        if graph not in self._sessions:
            session, _, note = open_session(self.package.file(graph), self._device)
            self._sessions[graph], self.provider_notes[graph] = session, note
        return self._sessions[graph]

    def text_embedding(self, text: str) -> np.ndarray:
        key = self._cache.key("text", text.encode())
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self._tokenizer is None:
            self._tokenizer = Tokenizer.from_file(str(self.package.file(TOKENIZER_FILE)))
        encoding = self._tokenizer.encode(text)
        feeds = {
            "input_ids": np.asarray([encoding.ids], dtype=np.int64),
            "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
        }
        value = self._session(TEXT_GRAPH).run([TEXT_OUTPUT], feeds)[0][0]
        self._cache.put(key, value)
        return value

    def audio_embedding(self, path: Path) -> np.ndarray:
        """One shot's embedding, cached by the file's bytes."""
        if not Path(path).is_file():
            raise UserError(f"audio query file not found: {path}")
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read audio query {path}: {exc.strerror or exc}") from None
        key = self._cache.key("audio", content)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        wave = read_query_audio(path, self.package.query_sample_rate)
        value = self._wave_embedding(wave)
        self._cache.put(key, value)
        return value

    def span_embedding(self, span: AudioSpan) -> np.ndarray:
        """A span's embedding, cached by its decoded samples."""
        if not span.path.is_file():
            raise UserError(f"audio file of the span not found: {span.path}")
        wave = read_query_audio(span.path, self.package.query_sample_rate, (span.start, span.end))
        key = self._cache.key("audio-span", wave.tobytes())
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        value = self._wave_embedding(wave)
        self._cache.put(key, value)
        return value

    def _wave_embedding(self, wave: np.ndarray) -> np.ndarray:
        fitted = fit_query_audio(wave, self.package.query_samples)[None].astype(np.float32)
        return self._session(AUDIO_GRAPH).run([AUDIO_OUTPUT], {"audio": fitted})[0][0]

    def side_embedding(self, spec: QuerySpec) -> np.ndarray:
        text = self.text_embedding(spec.text) if spec.text else None
        shots = [self.audio_embedding(p) for p in spec.audio_files]
        shots += [self.span_embedding(span) for span in spec.audio_spans]
        audio = np.mean(shots, axis=0) if shots else None
        return mix_modalities(text, audio, spec.audio_weight)

    def condition(self, positive: QuerySpec | None, negative: QuerySpec | None) -> np.ndarray:
        """The [condition_dim] float32 condition for a positive and/or negative query."""
        pos = self.side_embedding(positive) if positive is not None else None
        neg = self.side_embedding(negative) if negative is not None else None
        return condition_embedding(pos, neg)
