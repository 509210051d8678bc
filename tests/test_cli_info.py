"""`clapsep info` and the render side's independence from torch."""

import ctypes
import json
import os
import tomllib
from pathlib import Path

import onnxruntime as ort
import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def test_info_json_works_without_torch(run_without_torch):
    proc = run_without_torch(
        "from clapsep.host.cli import main\n"
        "code = main(['info', '--json'])\n"
        "assert 'torch' not in sys.modules\n"
        "sys.exit(code)\n",
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert "CPUExecutionProvider" in info["onnxruntime_providers"]
    assert info["versions"]["clapsep-studio"]
    assert info["default_model_dir"]


def test_info_prints_a_readable_summary(capsys):
    from clapsep.host.cli import main

    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "onnxruntime providers:" in out and "default model dir:" in out


def test_a_usage_error_is_one_line_and_exit_status_2(capsys):
    from clapsep.host.cli import main

    assert main(["info", "--no-such-flag"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err


def test_convert_official_reports_a_missing_file_as_usage_error(tmp_path, capsys):
    from clapsep.host.cli import main

    code = main(
        [
            "convert-official",
            "--clap",
            str(tmp_path / "none.pt"),
            "--checkpoint",
            str(tmp_path / "none.ckpt"),
            "--tokenizer-dir",
            str(tmp_path),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


def test_a_command_without_its_extra_names_the_extra_to_install(run_without_torch):
    """A render-only install has no PyQt6: `clapsep ui` says which extra brings it, in one line."""
    proc = run_without_torch(
        "sys.modules['PyQt6'] = None; sys.modules['PyQt6.QtWidgets'] = None\n"
        "from clapsep.host.cli import main\n"
        "sys.exit(main(['ui']))\n",
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: this command needs PyQt6.QtWidgets, from the [ui] extra: "
        "pip install 'clapsep-studio[ui]'"
    )


def _absent_driver() -> str | None:
    """The NVIDIA driver library's name when this machine lacks it, else None."""
    from clapsep.host.runtime import sessions

    try:
        ctypes.CDLL(sessions._DRIVER)
    except OSError:
        return sessions._DRIVER
    return None


def test_info_json_says_why_cuda_is_not_used(run_without_torch):
    proc = run_without_torch(
        "from clapsep.host.cli import main\nsys.exit(main(['info', '--json']))\n", timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "Failed to load" not in proc.stderr
    cuda = json.loads(proc.stdout)["gpu"]["cuda"]
    assert set(cuda) == {"usable", "why_not", "fix"}
    driver = _absent_driver()
    if driver:  # this machine: no NVIDIA driver at all
        assert cuda == {
            "usable": False,
            "why_not": f"no NVIDIA driver found: {driver} is missing",
            "fix": "install the NVIDIA driver, 580 or newer (CUDA 13)",
        }
    elif not cuda["usable"]:
        assert cuda["why_not"] and cuda["fix"]


@pytest.fixture
def driver_found(monkeypatch: pytest.MonkeyPatch):
    """A machine whose NVIDIA driver works: only the libraries decide (the probe is re-run)."""
    from clapsep.host.runtime import sessions

    monkeypatch.setattr(sessions, "_driver_problem", lambda: None)
    monkeypatch.setattr(ort, "preload_dlls", lambda: None)
    sessions.gpu_problem.cache_clear()
    yield sessions
    sessions.gpu_problem.cache_clear()


@pytest.mark.parametrize(
    "absent, cuda_why, tensorrt_why",
    [
        (
            ("libcublasLt.so.13", "libcudnn.so.9", "libnvinfer.so.10"),
            "CUDA 13 / cuDNN 9 libraries missing: libcublasLt.so.13, libcudnn.so.9",
            "CUDA 13 / cuDNN 9 libraries missing: libcublasLt.so.13, libcudnn.so.9",
        ),
        (
            ("libnvinfer.so.10", "libnvonnxparser.so.10"),
            None,
            "TensorRT 10 libraries missing: libnvinfer.so.10, libnvonnxparser.so.10",
        ),
    ],
)
def test_info_names_the_missing_gpu_libraries_and_how_to_get_them(
    driver_found, monkeypatch, capsys, absent, cuda_why, tensorrt_why
):
    if os.name != "posix" or "TensorrtExecutionProvider" not in ort.get_available_providers():
        pytest.skip("library names are those of onnxruntime-gpu on Linux")
    monkeypatch.setattr(driver_found, "_loads", lambda name: name not in absent)
    from clapsep.host.cli import main

    assert main(["info", "--json"]) == 0
    gpu = json.loads(capsys.readouterr().out)["gpu"]
    assert (gpu["cuda"]["usable"], gpu["cuda"]["why_not"]) == (cuda_why is None, cuda_why)
    assert gpu["tensorrt"]["why_not"] == tensorrt_why
    if cuda_why:
        assert "pip install 'clapsep-studio[gpu]'" in gpu["cuda"]["fix"]
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"tensorrt: not usable, {tensorrt_why}\n  to get it: " in out
    assert ("cuda: usable\n" in out) == (cuda_why is None)


def test_the_gpu_extra_pulls_the_cuda_13_and_cudnn_9_wheels():
    """The fix `clapsep info` gives for missing libraries names an extra that brings them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    gpu = [Requirement(r) for r in project["optional-dependencies"]["gpu"]]
    runtime = next(r for r in gpu if r.name == "onnxruntime-gpu")
    assert runtime.extras == {"cuda", "cudnn"}
    base = next(Requirement(r) for r in project["dependencies"] if r.startswith("onnxruntime-gpu"))
    assert (runtime.specifier, runtime.marker) == (base.specifier, base.marker)
    assert "nvidia-cublas" in {r.name for r in gpu}
