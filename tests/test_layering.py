"""db/ never imports Qt or the GUI: the rule that keeps the house clean.

The installed package is ``citedesk``: desktop/ is the package itself (the GUI and the
command), db/ is ``citedesk.db`` (see package-dir in pyproject.toml). Imports are read here
as absolute names of the installed package.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

DB = Path(__file__).resolve().parents[1] / "db"
DESKTOP = DB.parent / "desktop"

#: The installed package each source folder is.
PACKAGES = {DB: "citedesk.db", DESKTOP: "citedesk"}


def _imports(path: Path, package: str) -> list[str]:
    """Every module a file imports, anywhere in it (functions and TYPE_CHECKING blocks too),
    as absolute names; ``from . import x`` in db/ counts as importing ``citedesk.db`` and
    ``citedesk.db.x``. A relative import past the top of ``citedesk`` is named ``..``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                if node.level > len(parts):
                    found.append("..")
                    continue
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            found.append(base)
            found += [f"{base}.{a.name}" for a in node.names]
    return found


def test_db_sources_import_no_qt_or_gui() -> None:
    """No Qt, and nothing of the GUI package: db/ names its own modules relatively and
    never leaves its folder (``citedesk`` itself is desktop/; even ``import citedesk.db.x``
    would run its __init__)."""
    assert "citedesk.db.store" in _imports(DB / "library.py", "citedesk.db")
    offenders = []
    for path in DB.rglob("*.py"):
        for name in _imports(path, "citedesk.db"):
            root = name.split(".")[0]
            gui = name == ".." or (root == "citedesk" and not name.startswith("citedesk.db"))
            if gui or root in ("PySide6", "shiboken6", "desktop"):
                offenders.append(f"{path.name}: {name}")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            absolute = []
            if isinstance(node, ast.Import):
                absolute = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                absolute = [node.module]
            offenders += [f"{path.name}: {n}" for n in absolute if n.split(".")[0] == "citedesk"]
    assert offenders == []


def test_importing_db_loads_no_qt() -> None:
    code = (
        "import citedesk.db, citedesk.db.library, citedesk.db.bibtex, sys; "
        "print('PySide6' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "False"


def _imported_modules(path: Path) -> set[str]:
    """Every module a file of db/ imports, anywhere in it, named as within db/:
    ``from . import x`` counts as importing ``db.x``."""
    return {
        "db" + name.removeprefix("citedesk.db") if name.startswith("citedesk.db") else name
        for name in _imports(path, "citedesk.db")
    }


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


def test_desktop_reaches_db_only_through_its_door() -> None:
    """desktop/ imports ``citedesk.db`` (``from . import db``) or names from
    ``db/__init__.py``, never one of its modules and never sqlite3: what the window may use
    is what db/ chooses to export. The old top-level names (``db``, ``desktop``) are gone."""
    read = set(_imports(DESKTOP / "preferences.py", "citedesk"))
    assert {"citedesk.db", "citedesk.db.ExportProfile"} <= read
    modules = {p.stem for p in DB.glob("*.py")}
    offenders = []
    for path in DESKTOP.rglob("*.py"):
        for name in _imports(path, "citedesk"):
            parts = name.split(".")
            past_door = name.startswith("citedesk.db.") and (len(parts) > 3 or parts[2] in modules)
            if past_door or parts[0] in ("db", "desktop", "sqlite3", "sqlite_utils", ".."):
                offenders.append(f"{path.name}: {name}")
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
