"""`clapsep models`: list, verify, default and pull (downloads from a local HTTP server)."""

import hashlib
import http.server
import json
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from clapsep.errors import UserError
from clapsep.host.cli import main
from clapsep.host.cli.models import CLAP_FILE, CLAPSEP_FILE, download
from clapsep.host.runtime.package import load_package
from clapsep.package_format import DECODER_GRAPH, sha256_file


@pytest.fixture
def model_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CLAPSEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLAPSEP_MODEL_DIR", str(tmp_path / "models"))
    (tmp_path / "models").mkdir()
    return tmp_path / "models"


def install(package: Path, model_dir: Path, name: str) -> Path:
    return Path(shutil.copytree(package, model_dir / name))


def listing(capsys, *extra: str) -> tuple[int, dict[str, dict]]:
    capsys.readouterr()
    code = main(["models", "list", "--json", *extra])
    rows = json.loads(capsys.readouterr().out)["packages"]
    return code, {row["name"]: row for row in rows}


def test_list_shows_packages_and_marks_the_default(mini_package, model_dir, capsys):
    install(mini_package, model_dir, "alpha")
    install(mini_package, model_dir, "beta")
    assert main(["models", "default", "beta"]) == 0
    assert (model_dir / "default").read_text().strip() == "beta"
    assert [
        p.name for p in model_dir.iterdir() if p.name.startswith(".")
    ] == []  # no temp file left
    capsys.readouterr()
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    beta = next(line for line in lines if " beta " in line)
    alpha = next(line for line in lines if " alpha " in line)
    assert beta.startswith("*") and not alpha.startswith("*")
    assert "mini" in beta and str(model_dir / "beta") in beta


def test_list_json(mini_package, model_dir, capsys):
    install(mini_package, model_dir, "only")
    _, rows = listing(capsys)
    row = rows["only"]
    assert row["default"] is True  # the only installed package is the default
    assert (row["configuration"], row["trained"], row["status"]) == ("mini", False, "sizes OK")
    assert row["version"] == load_package(mini_package, verify=False).version
    assert row["size_mb"] > 0 and row["path"] == str(model_dir / "only")


def test_verify_detects_a_flipped_byte(mini_package, model_dir, capsys):
    source_digest = sha256_file(mini_package / DECODER_GRAPH)
    install(mini_package, model_dir, "good")
    bad = install(mini_package, model_dir, "bad")
    with open(bad / DECODER_GRAPH, "r+b") as f:  # same size: only the hash can tell
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    _, rows = listing(capsys)  # (the exit code also covers the checkout's bundled package)
    assert rows["bad"]["status"] == "sizes OK"  # without --verify sizes only
    code, rows = listing(capsys, "--verify")
    assert code != 0
    assert rows["good"]["status"] == "OK"
    assert rows["bad"]["status"] == "bad" and DECODER_GRAPH in rows["bad"]["problem"]
    assert main(["models", "--verify"]) != 0
    assert "bad: bad:" in capsys.readouterr().out
    assert (
        sha256_file(mini_package / DECODER_GRAPH) == source_digest
    )  # the session package is untouched
    load_package(mini_package)


def test_default_refuses_names_that_are_not_packages(mini_package, model_dir, capsys):
    install(mini_package, model_dir, "real")
    (model_dir / "not-a-package").mkdir()
    for name in ("nope", "not-a-package", "../real"):
        assert main(["models", "default", name]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and "\n" not in err and "real" in err
    assert not (model_dir / "default").exists()


# ---------------------------------------------------------------- downloads


class _Files(http.server.BaseHTTPRequestHandler):
    """Serves `server.files`, honours `Range: bytes=N-`, and cuts a body short when asked."""

    def do_GET(self) -> None:
        server = self.server
        body = server.files.get(self.path)
        server.requests.append((self.path, self.headers.get("Range")))
        if body is None:
            self.send_error(404)
            return
        start, status = 0, 200
        ranged = self.headers.get("Range")
        if ranged:
            start, status = int(ranged.removeprefix("bytes=").split("-")[0]), 206
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        cut = server.cut_after.pop(self.path, None)
        self.wfile.write(body[start : start + cut] if cut is not None else body[start:])
        self.wfile.flush()
        self.close_connection = True  # after a cut, the client sees a closed connection mid-body

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    httpd.files, httpd.requests, httpd.cut_after = {}, [], {}
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_an_interrupted_download_resumes_from_the_part_file(server, tmp_path):
    payload = os.urandom(300_000)
    server.files["/release/big.pt"] = payload
    server.cut_after["/release/big.pt"] = 100_000
    dest = tmp_path / "downloads" / "big.pt"
    with pytest.raises(UserError, match="interrupted"):
        download(f"{server.base}/release/big.pt", dest, sha(payload), progress=False)
    part = dest.with_name("big.pt.part")
    assert part.stat().st_size == 100_000 and not dest.exists()
    assert download(f"{server.base}/release/big.pt", dest, sha(payload), progress=True) == dest
    assert server.requests == [("/release/big.pt", None), ("/release/big.pt", "bytes=100000-")]
    assert dest.read_bytes() == payload and not part.exists()


def test_a_wrong_checksum_is_refused_and_the_file_not_kept(server, tmp_path):
    server.files["/x.ckpt"] = os.urandom(50_000)
    dest = tmp_path / "x.ckpt"
    with pytest.raises(UserError, match="checksum mismatch"):
        download(f"{server.base}/x.ckpt", dest, "0" * 64, progress=False)
    assert list(tmp_path.iterdir()) == []  # neither the final file nor a .part to resume from


@pytest.fixture
def tokenizer_dir(tmp_path) -> Path:
    folder = tmp_path / "roberta"
    folder.mkdir()
    (folder / "vocab.json").write_text("{}")
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return folder


def test_pull_without_a_checksum_is_refused_before_downloading(
    server, model_dir, tokenizer_dir, capsys
):
    code = main(
        ["models", "pull", "official", "--from", server.base, "--tokenizer-dir", str(tokenizer_dir)]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "--sha256-clap" in err and "\n" not in err
    assert server.requests == []


def test_pull_with_a_wrong_checksum_keeps_no_download(server, model_dir, tokenizer_dir, capsys):
    clap, clapsep = os.urandom(40_000), os.urandom(20_000)
    server.files.update({f"/m/{CLAP_FILE}": clap, f"/m/{CLAPSEP_FILE}": clapsep})
    code = main(
        [
            "models",
            "pull",
            "official",
            "--from",
            f"{server.base}/m/",
            "--tokenizer-dir",
            str(tokenizer_dir),
            "--sha256-clap",
            sha(clap),
            "--sha256-clapsep",
            "f" * 64,
        ]
    )
    assert code == 2
    assert "checksum mismatch" in capsys.readouterr().err
    downloads = model_dir.parent / "data" / "downloads"
    assert sorted(p.name for p in downloads.iterdir()) == [
        CLAP_FILE
    ]  # the good one stays for next time
    assert not (model_dir / "clapsep-official").exists()


def test_pull_from_a_folder_checks_checksums_before_converting(model_dir, tmp_path, capsys):
    release = tmp_path / "release"
    release.mkdir()
    (release / CLAP_FILE).write_bytes(b"not a checkpoint")
    (release / CLAPSEP_FILE).write_bytes(b"not a checkpoint either")
    (release / "vocab.json").write_text("{}")
    (release / "merges.txt").write_text("#version: 0.2\n")
    code = main(
        [
            "models",
            "pull",
            "official",
            "--from",
            str(release),
            "--sha256-clap",
            sha(b"not a checkpoint"),
            "--sha256-clapsep",
            "a" * 64,
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "checksum mismatch" in err and CLAPSEP_FILE in err
    assert (
        release / CLAPSEP_FILE
    ).read_bytes() == b"not a checkpoint either"  # the user's files stay
    assert not (model_dir / "clapsep-official").exists()


def test_pull_without_a_connection_says_it_cannot_connect_naming_the_host(
    model_dir, tokenizer_dir, capsys
):
    with socket.socket() as s:  # a port nothing listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(
        [
            "models",
            "pull",
            "official",
            "--from",
            f"http://127.0.0.1:{port}/m/",
            "--tokenizer-dir",
            str(tokenizer_dir),
            "--sha256-clap",
            "a" * 64,
            "--sha256-clapsep",
            "b" * 64,
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: cannot connect to ")
    assert f"127.0.0.1:{port}" in err and "interrupted" not in err
    assert not list((model_dir.parent / "data" / "downloads").glob("*.part"))
