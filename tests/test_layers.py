"""The layers import only downwards: core/ at the bottom, then storage/, then plans/, then directory/ (which
builds on plans/: its support exports and the termly check use plans' files and holidays), with handlers/,
webapp/, cli/ and bot.py on top. An import that points back up ties a lower layer to what is built on it (and
usually closes a circle that only a lazy import inside a function keeps from failing at start).

What a lower layer needs from above is handed in instead (core.services.Services takes `member_row` and
`DirectoryLoaders` from bot.py). Imports under `if TYPE_CHECKING:` are for annotations only and are not
counted: nothing is imported at run time."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP = {"handlers", "webapp", "cli", "bot", "benchmarks"}
# Each layer and the packages it must never import (at module level or inside a function).
ABOVE: dict[str, set[str]] = {
    "core": {"storage", "plans", "directory", *TOP},
    "storage": {"plans", "directory", *TOP},
    "plans": {"directory", *TOP},
    "directory": set(TOP),
}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, top-level package) of every import made at run time under `node`."""
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        for child in node.orelse:
            yield from _imports(child)
        return
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield node.lineno, alias.name.split(".")[0]
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        yield node.lineno, node.module.split(".")[0]
    for child in ast.iter_child_nodes(node):
        yield from _imports(child)


def upward_imports(root: Path, layer: str) -> list[str]:
    """'path:line imports package' for every import in `layer` of a package above it."""
    found = []
    for path in sorted((root / layer).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, package in _imports(tree):
            if package in ABOVE[layer]:
                found.append(f"{path.relative_to(root).as_posix()}:{line} imports {package}")
    return found


@pytest.mark.parametrize("layer", sorted(ABOVE))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    assert upward_imports(ROOT, layer) == []


def test_an_upward_import_is_found_even_inside_a_function(tmp_path: Path) -> None:
    """The check itself: a lazy import inside a function counts; one for annotations only does not."""
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "x.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from directory.search import DirectoryIndex\n"
        "else:\n"
        "    import storage.db\n"
        "def f():\n"
        "    from plans.store import save_plan\n",
        encoding="utf-8",
    )
    assert upward_imports(tmp_path, "core") == ["core/x.py:5 imports storage", "core/x.py:7 imports plans"]
