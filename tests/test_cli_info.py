"""`clapsep info` and the render side's independence from torch."""

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RENDER_PACKAGES = ("host", "plugin_bridge", "ui")


def test_info_json_works_without_torch(run_without_torch):
    proc = run_without_torch(
        "from host.cli import main\n"
        "code = main(['info', '--json'])\n"
        "assert 'torch' not in sys.modules\n"
        "sys.exit(code)\n", timeout=120)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert "CPUExecutionProvider" in info["onnxruntime_providers"]
    assert info["versions"]["clapsep-studio"]
    assert info["default_model_dir"]


def test_info_prints_a_readable_summary(capsys):
    from host.cli import main

    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "onnxruntime providers:" in out and "default model dir:" in out


def test_a_usage_error_is_one_line_and_exit_status_2(capsys):
    from host.cli import main

    assert main(["info", "--no-such-flag"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err


def test_convert_official_reports_a_missing_file_as_usage_error(tmp_path, capsys):
    from host.cli import main

    code = main(["convert-official", "--clap", str(tmp_path / "none.pt"), "--checkpoint",
                 str(tmp_path / "none.ckpt"), "--tokenizer-dir", str(tmp_path), "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


def test_render_side_packages_never_import_torch():
    offenders = []
    for package in RENDER_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(n == "torch" or n.startswith(("torch.", "model", "export")) for n in names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_nothing_imports_ui():
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in ("ui", "tests", ".venv", "venv"):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ui":
                offenders.append(str(path))
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "ui" for a in node.names):
                offenders.append(str(path))
    assert offenders == []
