"""The house's shape, read from the source with `ast`: no import circles, nothing but the dispatcher
imports `stages/`, and only the config loader, the CLI and tracking import OmegaConf or Hydra."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "facepipe"
DISPATCHER = "facepipe.pipeline"
CONFIG_EDGE = {"facepipe.config_loader", "facepipe.cli", "facepipe.tracking"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module named by an import in `path`, at any depth (functions included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {m: _imports(p) for m, p in modules.items()}


def _internal(graph: dict[str, set[str]], module: str) -> set[str]:
    """The package modules `module` imports (a `from pkg import name` counts when name is a module)."""
    return {n for n in graph[module] if n in graph and n != module}


def test_the_graph_is_read(graph):
    assert {"facepipe.pipeline", "facepipe.face.landmarks", "facepipe.reposition.mesh.warp"} <= set(graph)
    assert "facepipe.stages.generate" in _internal(graph, "facepipe.pipeline")


def find_circle(edges: dict[str, set[str]]) -> list[str]:
    """One import circle in `edges` (module -> modules it imports) as a path, or [] when there is none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str]:
        state[m] = 1
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                return stack[stack.index(n) :] + [n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return []

    for m in sorted(edges):
        if m not in state and (found := visit(m)):
            return found
    return []


def test_the_circle_finder_finds_circles():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": {"c"}, "d": {"a", "c"}}) == []


def test_no_import_circles(graph):
    # a module importing its own package's __init__ is no edge back
    edges = {m: {n for n in _internal(graph, m) if not m.startswith(n + ".")} for m in graph}
    assert find_circle(edges) == []


def test_only_the_dispatcher_imports_stages(graph):
    offenders = {
        m: sorted(n for n in _internal(graph, m) if n.startswith("facepipe.stages"))
        for m in graph
        if not m.startswith("facepipe.stages") and m != DISPATCHER
    }
    assert {m: v for m, v in offenders.items() if v} == {}


def test_stages_do_not_import_each_other(graph):
    offenders = {
        m: sorted(n for n in _internal(graph, m) if n.startswith("facepipe.stages.") and n != m)
        for m in graph
        if m.startswith("facepipe.stages.")
    }
    assert {m: v for m, v in offenders.items() if v} == {}


def test_omegaconf_and_hydra_stay_at_the_edges(graph):
    offenders = {
        m: sorted(n for n in names if n.split(".")[0] in ("omegaconf", "hydra"))
        for m, names in graph.items()
        if m not in CONFIG_EDGE
    }
    assert {m: v for m, v in offenders.items() if v} == {}


def test_every_folder_says_what_lives_there(graph):
    missing = [
        m
        for m, p in ((m, PACKAGE.parent / Path(*m.split("."), "__init__.py")) for m in graph)
        if p.is_file() and not ast.get_docstring(ast.parse(p.read_text()))
    ]
    assert missing == []


def test_the_dispatcher_loads_without_tensorflow():
    """Bad names and values are refused before any model loads: importing the CLI's dispatcher must not
    start TensorFlow (that takes seconds)."""
    import subprocess
    import sys

    code = "import sys, facepipe.cli, facepipe.pipeline; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
