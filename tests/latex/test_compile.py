"""Exports compile: pdflatex + bibtex on the BibTeX dialect, pdflatex + biber on BibLaTeX."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from citedesk.db import Library

DATA = Path(__file__).resolve().parents[1] / "data"
TOOLS = {
    "pdflatex": shutil.which("pdflatex"),
    "bibtex": shutil.which("bibtex"),
    "biber": shutil.which("biber"),
}


def _needs(*names: str) -> None:
    missing = [n for n in names if not TOOLS[n]]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed (Debian: texlive-latex-base, "
            "texlive-latex-recommended, texlive-bibtex-extra, biber; .ci/run installs "
            "them)"
        )


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=180, errors="replace"
    )


def _latex_errors(cwd: Path, name: str) -> list[str]:
    log = (cwd / f"{name}.log").read_text(errors="replace")
    return [line for line in log.splitlines() if line.startswith("!")]


def test_bibtex_dialect_compiles_with_bibtex(seeded: Library, tmp_path: Path) -> None:
    _needs("pdflatex", "bibtex")
    report = seeded.import_files([DATA / "xampl.bib"])
    assert report.ok
    n = seeded.export(tmp_path / "refs.bib", profile=seeded.profile(dialect="bibtex"))
    assert n == 25 + 36
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\n\\nocite{*}\n"
        "\\bibliographystyle{plain}\n\\bibliography{refs}\n\\end{document}\n"
    )
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"]
    assert _run(latex, tmp_path).returncode == 0
    bib = _run(["bibtex", "doc"], tmp_path)
    assert bib.returncode in (0, 1), bib.stdout  # 1 means warnings only (xampl has two)
    assert "error message" not in bib.stdout, bib.stdout
    for _ in range(2):
        assert _run(latex, tmp_path).returncode == 0
    assert _latex_errors(tmp_path, "doc") == []
    bbl = (tmp_path / "doc.bbl").read_text()
    assert bbl.count("\\bibitem") == n
    assert "Q-YOLO" in bbl


def test_biblatex_dialect_compiles_with_biber(bibdata: Path, tmp_path: Path) -> None:
    _needs("pdflatex", "biber")
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        report = lib.import_files([bibdata / "texlive" / "biblatex-examples.bib"])
        assert report.ok and len(report.added) == 92
        lib.export(tmp_path / "refs.bib", profile=lib.profile(dialect="biblatex"))
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n"
        "\\usepackage[backend=biber]{biblatex}\n\\addbibresource{refs.bib}\n"
        "\\begin{document}\n\\nocite{*}\n\\printbibliography\n\\end{document}\n"
    )
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"]
    assert _run(latex, tmp_path).returncode == 0
    biber = _run(["biber", "doc"], tmp_path)
    assert biber.returncode == 0, biber.stdout[-2000:]
    assert "ERROR" not in biber.stdout
    assert _run(latex, tmp_path).returncode == 0
    assert _latex_errors(tmp_path, "doc") == []
