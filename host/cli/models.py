"""`clapsep models`: list, verify, choose and pull model packages.

This module is on the render side and never imports torch, model/ or export/. Only
`pull official` needs the converter and the exporter; it runs them as `clapsep`
child processes after the download is verified, so `clapsep models list` works on a
render-only install.
"""

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from clapsep.errors import UserError
from clapsep.files import publish, write_text_atomic
from clapsep.host.engine import DEFAULT_FILE, default_package, installed_packages
from clapsep.host.runtime.package import load_package
from clapsep.package_format import MANIFEST_FILE, sha256_file
from clapsep.paths import bundled_model_dir, default_model_dir, user_data_dir

# The authors' release. Their README (github.com/Aisaka0v0/CLAPSep, section "Pretrained
# model") points to https://huggingface.co/spaces/AisakaMikoto/CLAPSep/tree/main/model,
# which holds both files; `resolve/main/...` is the Hub's raw-download form of that folder.
OFFICIAL_BASE_URL = "https://huggingface.co/spaces/AisakaMikoto/CLAPSep/resolve/main/model/"
CLAP_FILE = "music_audioset_epoch_15_esc_90.14.pt"  # LAION-CLAP, ~2.2 GB
CLAPSEP_FILE = "best_model.ckpt"  # CLAPSep decoder + LoRA, ~178 MB
# Checksums we would trust without asking. Both are unknown to the project (nobody here has
# downloaded and checked the files), so they stay None and the user must pass --sha256-clap /
# --sha256-clapsep. Never fill these in from anything but a verified download.
PINNED_SHA256: dict[str, str | None] = {
    CLAP_FILE: None,  # unknown to the project
    CLAPSEP_FILE: None,  # unknown to the project
}
OFFICIAL_PACKAGE = "clapsep-official"
TOKENIZER_FILES = ("vocab.json", "merges.txt")


# ---------------------------------------------------------------- list / verify / default


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _current_default(directory: Path) -> tuple[Path | None, str | None]:
    """The default package (resolved) and, when there is none, why."""
    try:
        return default_package(directory).resolve(), None
    except UserError as exc:
        return None, str(exc)


def package_rows(directory: Path, verify: bool = False) -> list[dict[str, Any]]:
    """One record per installed package (plus the bundled one), for the table and --json."""
    paths = installed_packages(directory)
    bundled = bundled_model_dir()
    if (bundled / MANIFEST_FILE).is_file() and bundled.resolve() not in {
        p.resolve() for p in paths
    }:
        paths.append(bundled)
    default, _ = _current_default(directory)
    rows = []
    for path in paths:
        row: dict[str, Any] = {
            "name": path.name,
            "path": str(path),
            "bundled": path == bundled,
            "default": path.resolve() == default,
            "size_mb": round(_size_mb(path), 1),
        }
        try:
            manifest = load_package(path, verify=verify).manifest
            row["status"] = "OK" if verify else "sizes OK"
            row["problem"] = None
        except UserError as exc:
            row["status"], row["problem"] = "bad", str(exc)
            try:
                manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                manifest = {}
        manifest = manifest if isinstance(manifest, dict) else {}
        row.update(
            {
                "package_name": manifest.get("name"),
                "version": manifest.get("version"),
                "configuration": manifest.get("configuration"),
                "trained": manifest.get("trained"),
            }
        )
        rows.append(row)
    return rows


def _yes_no(value: Any) -> str:
    return "?" if value is None else ("yes" if value else "no")


def _run_list(args: argparse.Namespace) -> int:
    directory = default_model_dir()
    rows = package_rows(directory, verify=args.verify)
    bad = [r for r in rows if r["status"] == "bad"]
    _, why_none = _current_default(directory)
    if args.json:
        print(
            json.dumps(
                {"model_dir": str(directory), "packages": rows, "default_problem": why_none},
                indent=2,
            )
        )
        return 2 if bad else 0
    print(f"model dir: {directory}")
    if not rows:
        print("no model packages installed (clapsep models pull official, or clapsep export)")
        return 0
    header = ("", "name", "version", "config", "trained", "MB", "status", "path")
    table = [header] + [
        (
            "*" if r["default"] else "",
            r["name"] + (" (bundled)" if r["bundled"] else ""),
            str(r["version"] or "?"),
            str(r["configuration"] or "?"),
            _yes_no(r["trained"]),
            f"{r['size_mb']:.1f}",
            r["status"],
            r["path"],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        )
    for r in bad:
        print(f"bad: {r['name']}: {r['problem']}")
    if why_none:
        print(f"no default: {why_none}")
    else:
        print("* = default (clapsep models default NAME changes it)")
    return 2 if bad else 0


def write_default(name: str, directory: Path | None = None) -> Path:
    """Write the `default` marker atomically, so a reader never sees half a name."""
    directory = directory or default_model_dir()
    names = [p.name for p in installed_packages(directory)]
    if name not in names:
        have = ", ".join(names) if names else "none"
        raise UserError(
            f"{name!r} is not an installed model package in {directory} (installed: {have})"
        )
    write_text_atomic(directory / DEFAULT_FILE, name + "\n")
    return directory / DEFAULT_FILE


def _run_default(args: argparse.Namespace) -> int:
    marker = write_default(args.name)
    print(f"default model: {args.name} ({marker})")
    return 0


# ---------------------------------------------------------------- downloads


def _progress(name: str, done: int, total: int | None) -> None:
    size = f"{done / 1e6:.1f}" + (
        f" / {total / 1e6:.1f} MB ({100 * done // max(total, 1)} %)" if total else " MB"
    )
    print(f"\r{name}: {size}", end="", file=sys.stderr, flush=True)


def download(url: str, dest: Path, sha256: str, progress: bool = True) -> Path:
    """Fetch `url` to `dest`, resuming a `.part` file with a Range request, then check sha256.

    A file whose checksum does not match is deleted (never resumed from, never kept).
    """
    dest = Path(dest)
    if dest.is_file():
        if sha256_file(dest) == sha256:
            return dest
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    done = offset
    last = 0.0
    try:
        with (
            httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, read=120.0)) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 416 and offset:  # the part is already complete
                pass
            elif response.status_code not in (200, 206):
                raise UserError(f"download of {url} failed: HTTP {response.status_code}")
            else:
                if response.status_code == 200:  # no resume support (or no part): start over
                    offset = done = 0
                elif not response.headers.get("content-range", "").startswith(f"bytes {offset}-"):
                    raise UserError(
                        f"download of {url} failed: the server resumed at the wrong offset"
                    )
                length = response.headers.get("content-length")
                total = offset + int(length) if length is not None else None
                with open(part, "ab" if offset else "wb") as f:
                    for (
                        chunk
                    ) in response.iter_bytes():  # as it arrives: an interruption keeps all of it
                        f.write(chunk)
                        done += len(chunk)
                        if progress and time.monotonic() - last > 0.5:
                            _progress(dest.name, done, total)
                            last = time.monotonic()
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # no connection: no resume
        if progress:
            print(file=sys.stderr)
        raise UserError(_no_connection(exc, url, dest.name)) from None
    except httpx.HTTPError as exc:
        if progress:
            print(file=sys.stderr)
        raise UserError(
            f"download of {dest.name} interrupted after {done} bytes ({type(exc).__name__}); "
            "run the command again to resume"
        ) from None
    if progress:
        _progress(dest.name, done, None)
        print(file=sys.stderr)
    _check_sha256(part, sha256, dest.name, delete=True)
    publish(part, dest, overwrite=True)
    return dest


def _no_connection(exc: httpx.TransportError, url: str, name: str) -> str:
    """One line naming the host that could not be reached (a redirect's, when it was one)."""
    try:
        where = exc.request.url
    except RuntimeError:  # raised before a request was attached
        where = httpx.URL(url)
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return (
        f"cannot connect to {where.netloc.decode()} to download {name} ({reason}): check the "
        "network, or fetch the files elsewhere and pass --from FOLDER"
    )


def _check_sha256(path: Path, expected: str, label: str, delete: bool) -> None:
    actual = sha256_file(path)
    if actual != expected:
        if delete:
            path.unlink(missing_ok=True)
        raise UserError(
            f"checksum mismatch for {label}: sha256 {actual}, expected {expected}"
            + ("; the file was deleted" if delete else "")
        )


def _sha256_arg(value: str) -> str:
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise argparse.ArgumentTypeError("expected 64 hex digits")
    return value


def _expected(name: str, given: str | None, flag: str) -> str:
    expected = given or PINNED_SHA256.get(name)
    if not expected:
        raise UserError(
            f"no checksum known for {name}: pass {flag} HEX (the sha256 published by the "
            "authors, or computed on a machine you trust)"
        )
    return expected


# ---------------------------------------------------------------- pull official


def _tokenizer_dir(args: argparse.Namespace, local: Path | None) -> Path:
    candidates = (
        [Path(args.tokenizer_dir).expanduser()]
        if args.tokenizer_dir
        else ([local] if local else [])
    )
    for folder in candidates:
        if all((folder / f).is_file() for f in TOKENIZER_FILES):
            return folder
    where = f" ({candidates[0]} lacks them)" if candidates else ""
    raise UserError(
        f"the official model needs roberta-base's vocab.json and merges.txt{where}: "
        "pass --tokenizer-dir DIR"
    )


def _convert_and_export(clap: Path, clapsep: Path, tok_dir: Path, out: Path, name: str) -> Path:
    """Authors' files -> this project's model directory -> a sealed package.

    Runs `clapsep convert-official` and `clapsep export` as child processes: they need the
    [train] extra, and host never imports model/ or export/ (docs/architecture.md).
    """
    model_dir = user_data_dir() / "downloads" / f"{name}-model"
    steps = [
        [
            "convert-official",
            "--clap",
            str(clap),
            "--checkpoint",
            str(clapsep),
            "--tokenizer-dir",
            str(tok_dir),
            "--out",
            str(model_dir),
            "--overwrite",
        ],
        [
            "export",
            "--config",
            "official",
            "--weights",
            str(model_dir),
            "--out",
            str(out),
            "--name",
            name,
            "--overwrite",
        ],
    ]
    for argv in steps:
        if subprocess.run([sys.executable, "-m", "clapsep.host", *argv]).returncode != 0:
            raise UserError(f"`clapsep {argv[0]}` failed (its message is above)")
    return out


def _run_pull(args: argparse.Namespace) -> int:
    expected = {
        CLAP_FILE: _expected(CLAP_FILE, args.sha256_clap, "--sha256-clap"),
        CLAPSEP_FILE: _expected(CLAPSEP_FILE, args.sha256_clapsep, "--sha256-clapsep"),
    }
    origin = args.source or OFFICIAL_BASE_URL
    local = Path(origin).expanduser() if not origin.startswith(("http://", "https://")) else None
    if local is not None and not local.is_dir():
        raise UserError(f"--from {origin}: neither a folder nor an http(s) URL")
    tok_dir = _tokenizer_dir(args, local)
    if Path(args.out).name != args.out or args.out in (".", ".."):
        raise UserError(f"--out {args.out!r}: give a folder name, not a path")
    out = default_model_dir() / args.out
    if out.exists() and any(out.iterdir()) and not args.overwrite:
        raise UserError(f"{out} exists and is not empty (use --overwrite)")
    if importlib.util.find_spec("torch") is None:
        raise UserError(
            "converting the official model needs PyTorch: pip install 'clapsep-studio[train]'"
        )
    files: dict[str, Path] = {}
    for name, sha in expected.items():
        if local is not None:
            files[name] = local / name
            if not files[name].is_file():
                raise UserError(f"{files[name]} not found")
            print(f"checking {files[name]} ...", file=sys.stderr)
            _check_sha256(files[name], sha, str(files[name]), delete=False)
        else:
            url = origin.rstrip("/") + "/" + name
            files[name] = download(url, user_data_dir() / "downloads" / name, sha)
    print(
        f"verified {', '.join(files)}; converting and exporting (several minutes) ...",
        file=sys.stderr,
    )
    started = time.perf_counter()
    package = _convert_and_export(files[CLAP_FILE], files[CLAPSEP_FILE], tok_dir, out, args.out)
    print(f"installed {package} in {time.perf_counter() - started:.0f} s")
    return 0


# ---------------------------------------------------------------- argparse


def _list_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--verify", action="store_true", help="re-hash every file against its manifest")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "models", help="installed model packages: list, verify, default, pull"
    )
    _list_options(p)
    p.set_defaults(run=_run_list)
    actions = p.add_subparsers(dest="models_action", metavar="ACTION")
    lst = actions.add_parser("list", help="installed packages (the default marked *)")
    _list_options(lst)
    lst.set_defaults(run=_run_list)
    dflt = actions.add_parser("default", help="make an installed package the default")
    dflt.add_argument("name", help="package folder name in the model directory")
    dflt.set_defaults(run=_run_default)
    pull = actions.add_parser("pull", help="download and convert a published model (needs [train])")
    pull.add_argument("model", choices=("official",), help="official: the authors' CLAPSep release")
    pull.add_argument(
        "--from",
        dest="source",
        help=f"base URL or local folder with {CLAP_FILE} and "
        f"{CLAPSEP_FILE} (default {OFFICIAL_BASE_URL})",
    )
    pull.add_argument("--sha256-clap", type=_sha256_arg, help=f"expected sha256 of {CLAP_FILE}")
    pull.add_argument(
        "--sha256-clapsep", type=_sha256_arg, help=f"expected sha256 of {CLAPSEP_FILE}"
    )
    pull.add_argument(
        "--tokenizer-dir",
        help="folder with roberta-base vocab.json and merges.txt (default: the --from folder)",
    )
    pull.add_argument(
        "--out", default=OFFICIAL_PACKAGE, help="package folder name in the model directory"
    )
    pull.add_argument("--overwrite", action="store_true")
    pull.set_defaults(run=_run_pull)
