"""Reading sources in blocks and writing stems atomically, with real files on disk."""

from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.errors import UserError
from clapsep.host.audio_io import AtomicWavWriter, Section, SourceReader


def signal(rate: int, frames: int, channels: int, seed: int = 0) -> np.ndarray:
    """Tones, a chirp and a little noise, a different mix per channel, peak < 0.8."""
    t = np.arange(frames) / rate
    rng = np.random.default_rng(seed)
    rows = [
        0.3 * np.sin(2 * np.pi * (220 * (c + 1)) * t)
        + 0.2 * np.sin(2 * np.pi * (100 + 400 * t) * t)
        + 0.05 * rng.standard_normal(frames)
        for c in range(channels)
    ]
    return np.stack(rows).astype(np.float32)


def write(path: Path, x: np.ndarray, rate: int, **kwargs: object) -> Path:
    with AudioFile(str(path), "w", rate, x.shape[0], **kwargs) as f:
        f.write(x)
    return path


def read_all(reader: SourceReader, block: int = 4097) -> np.ndarray:
    return np.concatenate(list(reader.blocks(block)), axis=1)


@pytest.mark.parametrize(
    ("ext", "rate", "channels", "atol"),
    [
        ("wav", 44100, 2, 1e-7),
        ("flac", 48000, 1, 1e-4),
        ("aiff", 22050, 2, 1e-4),
        ("ogg", 48000, 2, None),
        ("mp3", 44100, 1, None),
        ("wav", 96000, 8, 1e-7),
    ],
)
def test_every_format_reads_in_blocks(
    tmp_path: Path, ext: str, rate: int, channels: int, atol: float | None
) -> None:
    x = signal(rate, rate // 2 + 3, channels)
    kwargs = {"bit_depth": 32} if ext == "wav" else {}
    path = write(tmp_path / f"mix.{ext}", x, rate, **kwargs)
    with SourceReader(path) as reader:
        y = read_all(reader)
        assert (reader.sample_rate, reader.channels) == (rate, channels)
        assert y.shape == (channels, reader.frames) and y.dtype == np.float32
    if atol is not None:  # lossless: the same samples back
        np.testing.assert_allclose(y, x, atol=atol, rtol=0)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (Section(0.5, 1.25), (24000, 60000)),
        (Section(1000, 1001, unit="samples"), (1000, 1001)),
        (Section(2.0), (96000, 100003)),
    ],
)
def test_sections_read_exactly_the_asked_frames(
    tmp_path: Path, section: Section, expected: tuple[int, int]
) -> None:
    x = signal(48000, 100003, 2)
    path = write(tmp_path / "mix.wav", x, 48000, bit_depth=32)
    with SourceReader(path, section) as reader:
        assert (reader.first, reader.first + reader.frames) == expected
        np.testing.assert_array_equal(read_all(reader), x[:, expected[0] : expected[1]])


@pytest.mark.parametrize(
    "section", [Section(1.0, 0.5), Section(0, 3.0), Section(-1, 1), Section(5.0)]
)
def test_sections_outside_the_file_are_refused(tmp_path: Path, section: Section) -> None:
    path = write(tmp_path / "mix.wav", signal(48000, 96000, 1), 48000)
    with pytest.raises(UserError, match="section"):
        SourceReader(path, section)


def test_unreadable_sources_give_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("these are meeting notes, not audio\n" * 20)
    (tmp_path / "empty.wav").write_bytes(b"")
    write(tmp_path / "silent.wav", np.zeros((1, 0), np.float32), 48000)
    cases = {
        "notes.wav": "cannot read",
        "empty.wav": "cannot read",
        "silent.wav": "no audio frames",
        "missing.wav": "no such file",
    }
    for name, message in cases.items():
        with pytest.raises(UserError, match=message) as info:
            SourceReader(tmp_path / name)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("ext", ["wav", "aiff"])
def test_truncated_files_are_refused_rather_than_padded_with_silence(
    tmp_path: Path, ext: str
) -> None:
    whole = write(tmp_path / f"whole.{ext}", signal(44100, 44100, 2), 44100)
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(UserError, match="truncated"):
        SourceReader(cut)


def test_non_finite_samples_are_refused_with_their_position(tmp_path: Path) -> None:
    x = signal(48000, 48000, 2)
    x[1, 36000] = np.nan
    x[0, 40000] = np.inf
    path = write(tmp_path / "broken.wav", x, 48000, bit_depth=32)
    with SourceReader(path) as reader, pytest.raises(UserError, match=r"frame 36000, 0\.750 s"):
        read_all(reader)


def test_paths_with_spaces_and_non_ascii_characters(tmp_path: Path) -> None:
    folder = tmp_path / "Bänd Mix — take 2"
    folder.mkdir()
    x = signal(22050, 5001, 2)
    path = write(folder / "Ünïcode voix ♪.wav", x, 22050, bit_depth=32)
    with SourceReader(path) as reader:
        np.testing.assert_array_equal(read_all(reader), x)
    with AtomicWavWriter(folder / "sortie é.wav", 22050, 2) as writer:
        writer.write(x)
        assert writer.commit() == folder / "sortie é.wav"


@pytest.mark.parametrize(
    ("bit_depth", "dtype", "atol"), [(32, "float32", 0), (24, "int24", 2**-22)]
)
def test_writer_round_trips_24_bit_and_float(
    tmp_path: Path, bit_depth: int, dtype: str, atol: float
) -> None:
    x = signal(48000, 12345, 2)
    dest = tmp_path / "stem.wav"
    with AtomicWavWriter(dest, 48000, 2, bit_depth=bit_depth) as writer:
        writer.write(x[:, :5000])
        writer.write(x[:, 5000:])
        assert not dest.exists()  # nothing under the final name before the commit
        writer.commit()
    with AudioFile(str(dest)) as f:
        assert (f.file_dtype, f.frames, f.samplerate) == (dtype, 12345, 48000)
        np.testing.assert_allclose(f.read(f.frames), x, atol=atol, rtol=0)
    assert [p.name for p in tmp_path.iterdir()] == ["stem.wav"]


def test_writer_never_overwrites_unless_asked(tmp_path: Path) -> None:
    dest = tmp_path / "stem.wav"
    dest.write_bytes(b"keep me")
    with pytest.raises(UserError, match="already exists"):
        AtomicWavWriter(dest, 48000, 1)
    assert dest.read_bytes() == b"keep me"
    with AtomicWavWriter(dest, 48000, 1, overwrite=True) as writer:
        writer.write(signal(48000, 100, 1))
        writer.commit()
    with AudioFile(str(dest)) as f:
        assert f.frames == 100
    assert len(list(tmp_path.iterdir())) == 1


def test_a_file_appearing_during_the_render_is_not_clobbered(tmp_path: Path) -> None:
    dest = tmp_path / "stem.wav"
    writer = AtomicWavWriter(dest, 48000, 1)
    writer.write(signal(48000, 100, 1))
    dest.write_bytes(b"someone else's")
    with pytest.raises(UserError, match="already exists"):
        writer.commit()
    assert dest.read_bytes() == b"someone else's"
    assert len(list(tmp_path.iterdir())) == 1


def test_an_error_while_writing_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), AtomicWavWriter(tmp_path / "stem.wav", 48000, 1) as writer:
        writer.write(signal(48000, 100, 1))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_missing_output_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        AtomicWavWriter(tmp_path / "nope" / "stem.wav", 48000, 1)
