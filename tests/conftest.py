"""Shared fixtures. Model fixtures import torch lazily so torch-free test runs still collect."""

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing in the test suite may reach a hub
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
# A meta-path finder that makes `import torch` fail, as on a machine without the [train] extra.
_BLOCK_TORCH = """
import sys
class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError("No module named 'torch' (blocked by test)")
sys.meta_path.insert(0, _NoTorch())
"""

CAPTIONS = [
    "a dog barks",
    "the sound of a dog barking",
    "a man speaks",
    "a woman talks quietly",
    "children laughing",
    "rain falls on a roof",
    "wind blowing",
    "a car engine idles",
    "traffic noise in a city",
    "a siren wails",
    "birds chirping",
    "footsteps on gravel",
    "a door slams",
    "glass breaking",
    "water running from a tap",
    "applause from a crowd",
    "a piano melody",
    "an acoustic guitar strums",
    "drums and bass",
    "a phone rings",
]


@pytest.fixture(scope="session")
def run_without_torch() -> Callable[..., subprocess.CompletedProcess]:
    """`run_without_torch(code, *args)`: `python -c code args...` in the repository root with
    `import torch` failing; `sys` is imported; the completed process is returned."""

    def run(code: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", _BLOCK_TORCH + textwrap.dedent(code), *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def mini_tokenizer():
    from clapsep.model.tokenizer import train_bpe_tokenizer

    return train_bpe_tokenizer(CAPTIONS * 20, vocab_size=1024)


@pytest.fixture(scope="session")
def mini_model(mini_tokenizer):
    import torch

    from clapsep.model.separator import build_model

    torch.manual_seed(0)
    model = build_model("mini").eval()
    model.tokenizer = mini_tokenizer
    return model


@pytest.fixture(scope="session")
def official_model():
    import torch

    from clapsep.model.separator import build_model

    torch.manual_seed(0)
    return build_model("official").eval()


@pytest.fixture(scope="session")
def mini_package(tmp_path_factory) -> Path:
    """A real model package exported from the `mini` configuration (untrained, fixed seed).

    Exported once per test session; `CLAPSEP_TEST_PACKAGE` points the tests at another one.
    """
    given = os.environ.get("CLAPSEP_TEST_PACKAGE")
    if given:
        return Path(given)
    from clapsep.export.package import ensure_untrained_package

    return ensure_untrained_package("mini", tmp_path_factory.getbasetemp() / "mini-package")


@pytest.fixture(scope="session")
def package(mini_package: Path) -> Path:
    """The model package front-end tests render with."""
    return mini_package


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: Path) -> Path:
    """A fresh user data dir with the test package installed as the only model (the CLI
    tests' `home`; the bridge and panel tests have their own)."""
    monkeypatch.setenv("CLAPSEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLAPSEP_MODEL_DIR", str(tmp_path / "models"))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mini").symlink_to(package)
    return tmp_path
