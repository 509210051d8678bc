"""`clapsep info` and the render side's independence from torch."""

import json


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
