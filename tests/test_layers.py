"""The house's layers, read from the source: who may import whom, no circles, one namespace.

docs/architecture.md draws the same edges; a new edge is a decision, made here and there.
"""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "clapsep": "clapsep",
    "clapsep.host": "host",
    "clapsep.plugin_bridge": "plugin_bridge",
    "clapsep.ui": "ui",
    "clapsep.model": "model",
    "clapsep.export": "export",
}

# Longest prefix wins. `leaves` are the modules every part may import.
LAYERS = {
    "clapsep": "leaves",
    "clapsep.host.runtime": "runtime",
    "clapsep.host.cli": "host.cli",
    "clapsep.host.__main__": "host.cli",
    "clapsep.host": "host",
    "clapsep.plugin_bridge": "bridge",
    "clapsep.ui": "ui",
    "clapsep.model.evaluation": "model.evaluation",
    "clapsep.model": "model",
    "clapsep.export": "export",
}
ALLOWED = {
    "leaves": {"leaves"},
    "runtime": {"leaves", "runtime"},
    "host": {"leaves", "runtime", "host"},
    "host.cli": {"leaves", "runtime", "host", "host.cli"},
    "bridge": {"leaves", "runtime", "host", "host.cli", "bridge"},
    # `clapsep ui` takes the CLI's engine options (`host.cli.options`) like every command that
    # renders
    "ui": {"leaves", "runtime", "host", "host.cli", "ui"},
    "model": {"leaves", "model"},
    # evaluation scores exported packages through the product's own runtime
    "model.evaluation": {"leaves", "runtime", "model", "model.evaluation"},
    # export writes the package format and checks its graphs against the runtime
    "export": {"leaves", "runtime", "model", "export"},
}
TORCH_FREE = {"leaves", "runtime", "host", "host.cli", "bridge", "ui"}


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if package == "clapsep" and len(parts) > 1:
                continue
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found[name] = path
    return found


MODULES = _modules()


def _layer(module: str) -> str:
    return LAYERS[max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)]


def _imports(module: str) -> list[tuple[str, int]]:
    """Every module `module` imports (at the top or inside a function), with its line."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.append((sub if sub in MODULES else base, node.lineno))
    return out


def _edges() -> dict[str, set[str]]:
    return {m: {name for name, _ in _imports(m) if name in MODULES and name != m} for m in MODULES}


def test_every_import_follows_the_layer_rules():
    offenders = [
        f"{MODULES[m].relative_to(ROOT)}:{line} {_layer(m)} -> {_layer(name)} ({name})"
        for m in MODULES
        for name, line in _imports(m)
        if name in MODULES and _layer(name) not in ALLOWED[_layer(m)]
    ]
    assert offenders == []


def test_the_render_side_never_imports_torch():
    offenders = [
        f"{MODULES[m].relative_to(ROOT)}:{line}"
        for m in MODULES
        if _layer(m) in TORCH_FREE
        for name, line in _imports(m)
        if name == "torch" or name.startswith("torch.")
    ]
    assert offenders == []


def test_there_are_no_import_circles():
    """Tarjan's strongly connected components over the module graph; a circle is one of size > 1."""
    edges, index, low, stack, on_stack, circles = _edges(), {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    assert circles == []


def test_nothing_imports_the_old_top_level_names():
    """Parts import each other as `clapsep.host...`, never as a bare `host` that would collide in
    site-packages."""
    bare = {folder for folder in FOLDERS.values() if folder != "clapsep"}
    offenders = [
        f"{MODULES[m].relative_to(ROOT)}:{line} {name}"
        for m in MODULES
        for name, line in _imports(m)
        if name.split(".")[0] in bare
    ]
    assert offenders == []


def test_every_package_folder_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {m for m, p in MODULES.items() if p.name == "__init__.py"}
    assert set(config["packages"]) == packages
    assert {k: v for k, v in config["package-dir"].items()} == FOLDERS
