"""db/ never imports Qt or desktop/: the rule that keeps the house clean."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

DB = Path(__file__).resolve().parents[1] / "db"


def test_db_sources_import_no_qt_or_desktop() -> None:
    offenders = []
    for path in DB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] in ("PySide6", "desktop", "shiboken6")
            ]
    assert offenders == []


def test_importing_db_loads_no_qt() -> None:
    code = "import db, db.library, db.bibtex, sys; print('PySide6' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "False"


def _imported_modules(path: Path) -> set[str]:
    """Every module a file of db/ imports, anywhere in it (functions and TYPE_CHECKING
    blocks too), as absolute names; ``from . import x`` counts as importing ``db.x``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = "db" if node.level == 1 else ""
                base = ".".join(p for p in (package, base) if p)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def _db_import_graph() -> dict[str, set[str]]:
    modules = {f"db.{p.stem}" for p in DB.glob("*.py") if p.stem != "__init__"}
    return {
        f"db.{p.stem}": _imported_modules(p) & modules - {f"db.{p.stem}"}
        for p in DB.glob("*.py")
        if p.stem != "__init__"
    }


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle in ``graph`` (its modules, the first again at the end), or []."""
    state: dict[str, str] = {}  # "open" while on the path walked, then "done"
    path: list[str] = []

    def walk(module: str) -> list[str]:
        state[module] = "open"
        path.append(module)
        for other in sorted(graph[module]):
            if state.get(other) == "open":
                return [*path[path.index(other) :], other]
            if other not in state:
                found = walk(other)
                if found:
                    return found
        path.pop()
        state[module] = "done"
        return []

    for module in sorted(graph):
        if module not in state:
            found = walk(module)
            if found:
                return found
    return []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_db_modules_import_each_other_without_a_cycle() -> None:
    """Each module of db/ builds only on those below it: the store, then the parts, then
    the Library facade over them."""
    assert _cycle(_db_import_graph()) == []


def test_only_the_store_imports_sqlite() -> None:
    """SQLite's errors are told apart in one place (db/store.py); the other modules run
    SQL over the connection the store hands them."""
    importers = sorted(
        p.name
        for p in DB.glob("*.py")
        if p.name != "store.py" and {"sqlite3", "sqlite_utils"} & _imported_modules(p)
    )
    assert importers == []


DESKTOP = DB.parent / "desktop"


def test_desktop_reaches_db_only_through_its_door() -> None:
    """desktop/ imports ``db`` or names from ``db/__init__.py``, never one of its modules
    and never sqlite3: what the window may use is what db/ chooses to export."""
    modules = {p.stem for p in DB.glob("*.py")}
    offenders = []
    for path in DESKTOP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
                if node.module == "db":
                    names += [f"db.{a.name}" for a in node.names if a.name in modules]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.startswith("db.") or n.split(".")[0] in ("sqlite3", "sqlite_utils")
            ]
    assert offenders == []


def test_library_settings_are_read_and_written_through_their_declaration() -> None:
    """Each library-wide setting is declared once (db/options.py, with its default);
    nothing outside the store names one by a string of its own."""
    offenders = []
    for path in [*DB.glob("*.py"), *DESKTOP.glob("*.py")]:
        if path.name == "store.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get_setting", "set_setting")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                offenders.append(f"{path.name}: {node.args[0].value}")
    assert offenders == []
