"""The shape of the package, as ARCHITECTURE.md draws it: layers that import
only downwards, no import circle, small files and classes."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "kitty_ops"
# Lowest first. A module may import from its own layer and from those below.
LAYERS = [
    ("foundation", ["kitty_ops.errors", "kitty_ops.settings"]),
    ("system", ["kitty_ops.system"]),
    ("format", ["kitty_ops.format"]),
    ("models", ["kitty_ops.record"]),
    ("gitio", ["kitty_ops.gitio"]),
    ("store", ["kitty_ops.store"]),
    ("opcommit", ["kitty_ops.opcommit"]),
    ("lifecycle", ["kitty_ops.lifecycle"]),
    ("doctor", ["kitty_ops.doctor"]),
    ("queries", ["kitty_ops.queries"]),
    ("hooks", ["kitty_ops.hooks"]),
    ("setup", ["kitty_ops.setup"]),
    ("agents", ["kitty_ops.agents"]),
    ("cli", ["kitty_ops.cli"]),
    ("api", ["kitty_ops.api", "kitty_ops.__main__"]),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    for number, (_, prefixes) in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return number
    raise AssertionError(f"{module} is in no layer of ARCHITECTURE.md")


def imports_of(module: str) -> set[str]:
    """The kitty_ops modules `module` imports, wherever in the file (lazily too)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("kitty_ops.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kitty_ops"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
    found.discard("kitty_ops")  # the package itself: its version, and the API it loads on use
    return found - {module}


def test_every_module_is_in_a_layer():
    for module in MODULES:
        if module != "kitty_ops":
            layer_of(module)


@pytest.mark.parametrize("module", sorted(set(MODULES) - {"kitty_ops"}))
def test_a_module_imports_only_its_own_layer_and_those_below(module):
    upward = sorted(target for target in imports_of(module) if layer_of(target) > layer_of(module))
    assert upward == [], f"{module} ({LAYERS[layer_of(module)][0]}) imports from above: {upward}"


def test_there_is_no_import_circle():
    graph = {module: imports_of(module) & set(MODULES) for module in MODULES if module != "kitty_ops"}
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    path: list[str] = []

    def walk(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path[path.index(target):], target]))
            if target not in state:
                walk(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)


def test_at_most_eight_modules_sit_directly_in_the_package():
    assert len(list(PACKAGE.glob("*.py"))) <= 8


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_file_over_500_lines_and_no_class_over_150(module):
    text = MODULES[module].read_text()
    assert text.count("\n") <= 500, f"{module}: {text.count(chr(10))} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            size = node.end_lineno - node.lineno + 1
            assert size <= 150, f"{module}.{node.name}: {size} lines"


def test_no_leftover_editor_or_patch_files_in_the_tree():
    leftovers = [path for path in PROJECT_ROOT.rglob("*") if path.suffix in (".orig", ".rej", ".swp")
                 or path.name.endswith("~")]
    leftovers = [path for path in leftovers if ".git" not in path.parts and "venv" not in str(path)]
    assert leftovers == []
