"""`clapsep serve`: keep the model loaded and render DAW jobs sent over loopback HTTP.

The model loads once at start (on the GPU when one is usable; `/health` says which
provider actually runs), then uvicorn serves the guarded app on 127.0.0.1 only. The
token file is made on first start, readable by its owner only; clients send its
content as `Authorization: Bearer <token>`.
"""

import argparse
import sys
from pathlib import Path

import platformdirs

from clapsep.errors import UserError
from clapsep.host.cli.options import (
    INTERACTIVE_ENCODED_CACHE_MB,
    add_engine_options,
    open_engine,
)
from clapsep.paths import APP_NAME, user_data_dir
from clapsep.plugin_bridge.options import MAX_BODY

DEFAULT_PORT = 7878


def default_token_file() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "service-token"


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from clapsep.plugin_bridge.guard import load_or_create_token
    from clapsep.plugin_bridge.service import ServiceConfig, create_app

    token_file = Path(args.token_file).expanduser() if args.token_file else default_token_file()
    render_dir = (
        Path(args.render_dir).expanduser() if args.render_dir else user_data_dir() / "renders"
    )
    roots = [Path(r).expanduser() for r in args.allow] or [Path.home()]
    if missing := [str(r) for r in roots if not r.is_dir()]:
        raise UserError(f"--allow folder(s) not found: {', '.join(missing)}")
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be 1..65535, got {args.port}")
    token = load_or_create_token(token_file)
    engine = open_engine(args, encoded_cache_mb=INTERACTIVE_ENCODED_CACHE_MB)
    config = ServiceConfig(
        token=token,
        render_dir=render_dir,
        state_dir=user_data_dir() / "service-jobs",
        allowed_roots=roots,
        max_body=args.max_body,
    )
    app = create_app(engine, config)
    print(
        f"clapsep serve: http://127.0.0.1:{args.port} model {engine.package.name} "
        f"on {engine.provider} "
        f"({engine.separator.provider_note}); token in {token_file}; stems in {render_dir}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="render service for DAW scripts (loopback HTTP, token protected)",
        description="Load the model once and render jobs sent by DAW scripts over "
        "http://127.0.0.1:PORT. Every request needs the token from the token file; jobs may read "
        "only under --allow folders and write only under --render-dir.",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--token-file", metavar="PATH", help=f"default: {default_token_file()}")
    p.add_argument(
        "--render-dir", metavar="DIR", help="where stems are written (default: <data>/renders)"
    )
    p.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="DIR",
        help="folder jobs may read sources from (repeatable; default: your home folder)",
    )
    p.add_argument(
        "--max-body", type=int, default=MAX_BODY, metavar="BYTES", help="largest request body"
    )
    add_engine_options(p)
    p.set_defaults(run=_run)
