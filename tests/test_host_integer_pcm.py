"""Integer PCM sources are read on libsndfile's scale (code / 2**(bits-1)), so the stems
`clapsep render` writes sum to the source as libsndfile, DAWs and editors read it.

pedalboard divides 8-, 16- and 24-bit codes by 2**(bits-1) - 1; without the correction in
`host.audio_io` the stems of a 16-bit source would sum to it times 32768/32767.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from clapsep.host.audio_io import Section, SourceReader
from clapsep.host.cli import main

sf = pytest.importorskip("soundfile")

RATE = 16000
# (container, libsndfile subtype, bits); 8-bit WAV is unsigned, 8-bit FLAC/AIFF signed
INTEGER_PCM = [
    ("wav", "PCM_U8", 8),
    ("wav", "PCM_16", 16),
    ("wav", "PCM_24", 24),
    ("wav", "PCM_32", 32),
    ("flac", "PCM_S8", 8),
    ("flac", "PCM_16", 16),
    ("flac", "PCM_24", 24),
    ("aiff", "PCM_S8", 8),
    ("aiff", "PCM_16", 16),
    ("aiff", "PCM_24", 24),
    ("aiff", "PCM_32", 32),
]
FLOAT_PCM = [("wav", "FLOAT", 32), ("wav", "DOUBLE", 64)]


def write_source(path: Path, subtype: str, bits: int, frames: int, channels: int) -> Path:
    """Random codes over the whole range, the two extreme codes first, written as exact
    integers (libsndfile shifts 32-bit containers down to the subtype)."""
    rng = np.random.default_rng(bits)
    if subtype in ("FLOAT", "DOUBLE"):
        x = rng.uniform(-1, 1, (frames, channels))
        x[0], x[1] = -1.0, 1.0
        sf.write(path, x.astype(np.float32 if subtype == "FLOAT" else np.float64), RATE, subtype)
        return path
    full = 1 << (bits - 1)
    codes = rng.integers(-full, full, (frames, channels), dtype=np.int64)
    codes[0], codes[1] = -full, full - 1
    sf.write(path, (codes << (32 - bits)).astype(np.int32), RATE, subtype)
    return path


def libsndfile_read(path: Path, dtype: str = "float64") -> np.ndarray:
    data, rate = sf.read(path, dtype=dtype, always_2d=True)
    assert rate == RATE
    return data.T


@pytest.mark.parametrize(("ext", "subtype", "bits"), INTEGER_PCM + FLOAT_PCM)
def test_sources_read_block_by_block_exactly_as_libsndfile_decodes_them(
    tmp_path: Path, ext: str, subtype: str, bits: int
) -> None:
    path = write_source(tmp_path / f"src.{ext}", subtype, bits, 20011, 2)
    expected = libsndfile_read(path, "float32")
    with SourceReader(path) as reader:
        got = np.concatenate(list(reader.blocks(4097)), axis=1)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    if subtype.startswith("PCM"):  # the extreme codes (1 - 2**-31 is 1.0 in float32)
        assert got[0, 0] == -1.0 and got[0, 1] == np.float32(1 - 2.0 ** (1 - bits))
    with SourceReader(path, Section(1000, 13000, unit="samples")) as reader:
        part = np.concatenate(list(reader.blocks(3001)), axis=1)
    np.testing.assert_array_equal(part, expected[:, 1000:13000])


@pytest.mark.parametrize(("ext", "subtype", "bits"), INTEGER_PCM + FLOAT_PCM)
def test_rendered_stems_sum_to_the_source_as_libsndfile_reads_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    package: Path,
    ext: str,
    subtype: str,
    bits: int,
) -> None:
    monkeypatch.setenv("CLAPSEP_DATA_DIR", str(tmp_path / "data"))
    source = write_source(tmp_path / f"take.{ext}", subtype, bits, RATE // 2 + 7, 2)
    (tmp_path / "out").mkdir()
    code = main(
        [
            "render",
            str(source),
            "--query",
            "a person speaking",
            "--model",
            str(package),
            "--device",
            "cpu",
            "--no-cache",
            "--out",
            str(tmp_path / "out"),
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    paths = {o["stem"]: o["path"] for o in json.loads(out)["outputs"]}
    assert sf.info(paths["target"]).subtype == "FLOAT"
    target, residual = (libsndfile_read(paths[stem]) for stem in ("target", "residual"))
    x = libsndfile_read(source, "float32").astype(np.float64)  # as a float32 client gets it
    assert target.shape == residual.shape == x.shape
    assert np.abs(target).max() > 1e-3  # the model put something in the target
    # Only the float32 rounding of `residual = x - target` (half an ulp, |residual| < 2) is
    # left; pedalboard's scale would leave 7.9e-3 (8-bit), 3.1e-5 (16) and 1.5e-7 (24).
    assert np.abs(residual).max() < 2
    assert np.abs(target + residual - x).max() <= 2.0**-24
