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
            offenders += [f"{path.name}: {n}" for n in names
                          if n.split(".")[0] in ("PySide6", "desktop", "shiboken6")]
    assert offenders == []


def test_importing_db_loads_no_qt() -> None:
    code = "import db, db.library, db.bibtex, sys; print('PySide6' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
