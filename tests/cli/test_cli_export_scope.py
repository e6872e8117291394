"""``citedesk export`` of a selection with nothing in it (issue 13, export point 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def citedesk(*args: str, lib: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "citedesk", "--library", str(lib), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_exporting_an_empty_tag_says_so_in_one_line_and_writes_nothing(
    lib_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "empty.bib"
    r = citedesk("export", "--tag", "nobody", "-o", str(out), lib=lib_path)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        "citedesk: nothing to export: no paper matches (tag 'nobody'); no file written"
    ]
    assert not out.exists() and r.stdout == ""
