"""``citedesk import`` of RIS and CSL-JSON, ``citedesk export --format``.

The command runs in process (its ``main``), with stdout and stderr captured as a terminal
would see them: tests/cli/test_cli.py runs it as real subprocesses already, and a second
Python per call would cost the suite a second each.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

from citedesk import cli


def citedesk(*args: str, lib: Path | None = None) -> SimpleNamespace:
    """``citedesk [--library LIB] ARGS``: its exit code, stdout and stderr."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    err = io.StringIO()
    argv = [*(["--library", str(lib)] if lib is not None else []), *args]
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        out.flush()
    stdout = out.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]
    return SimpleNamespace(returncode=code, stdout=stdout, stderr=err.getvalue())


CSL = json.dumps(
    [
        {
            "id": "knuth1984",
            "type": "article-journal",
            "title": "Literate Programming",
            "container-title": "The Computer Journal",
            "volume": "27",
            "issue": "2",
            "page": "97-111",
            "DOI": "10.1093/comjnl/27.2.97",
            "author": [{"family": "Knuth", "given": "Donald E."}],
            "issued": {"date-parts": [[1984, 1, 1]]},
        }
    ],
    indent=2,
)

RIS = """TY  - BOOK
AU  - Lamport, Leslie
TI  - LaTeX: A Document Preparation System
PB  - Addison-Wesley
CY  - Reading, MA
PY  - 1994
ET  - 2
SN  - 0-201-52983-1
ID  - lamport1994
ER  -
""".replace("ER  -\n", "ER  - \n")  # RIS ends a record with "ER  - "


def test_import_tells_ris_and_csl_json_by_content(lib_path: Path, tmp_path: Path) -> None:
    # Names that say nothing: the content decides.
    (tmp_path / "a.txt").write_text(CSL, encoding="utf-8")
    (tmp_path / "b.dat").write_text(RIS, encoding="utf-8")
    r = citedesk("import", str(tmp_path / "a.txt"), str(tmp_path / "b.dat"), lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert "2 added, 0 duplicates, 0 failed" in r.stdout
    listed = citedesk("list", "--json", lib=lib_path)
    records = {rec["key"]: rec for rec in json.loads(listed.stdout)}
    assert records["knuth1984"]["title"] == "Literate Programming"
    assert records["lamport1994"]["year"] == 1994


def test_import_of_ris_and_json_files(lib_path: Path, tmp_path: Path) -> None:
    (tmp_path / "refs.json").write_text(CSL, encoding="utf-8")
    (tmp_path / "refs.ris").write_text(RIS, encoding="utf-8")
    for name in ("refs.json", "refs.ris"):
        r = citedesk("import", str(tmp_path / name), lib=lib_path)
        assert r.returncode == 0, r.stderr
        assert "1 added" in r.stdout


def test_malformed_json_is_one_line_naming_file_and_line(lib_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(CSL.replace('"volume": "27",', '"volume": "27"'), encoding="utf-8")
    r = citedesk("import", str(bad), lib=lib_path)
    assert r.returncode == 1
    # The parser stops at the line after the missing comma.
    line = next(n for n, text in enumerate(CSL.splitlines(), 1) if '"issue"' in text)
    assert f"citedesk: {bad}:{line}: not valid CSL-JSON" in r.stderr
    assert "Traceback" not in r.stderr
    listed = citedesk("list", lib=lib_path)
    assert len(listed.stdout.splitlines()) == 25  # the seeded papers, nothing more


def test_strict_import_of_a_cut_off_ris_adds_nothing(lib_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.ris"
    cut.write_text(RIS + "TY  - JOUR\nTI  - Lost\n", encoding="utf-8")
    r = citedesk("import", "--strict", str(cut), lib=lib_path)
    assert r.returncode == 1
    assert f"{cut}:11: the record starting on line 11 has no 'ER  - ' line" in r.stderr
    assert "nothing imported (--strict)" in r.stderr
    assert "lamport1994" not in citedesk("list", lib=lib_path).stdout


def test_export_csl_json_to_a_file_and_back(lib_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "library.json"
    r = citedesk("export", "--format", "csl-json", "-o", str(out), lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert "exported 25 entries" in r.stderr
    items = json.loads(out.read_text(encoding="utf-8"))
    assert len(items) == 25 and {i["id"] for i in items} >= {"wang2023qyolo"}
    other = tmp_path / "other.sqlite"
    r = citedesk("import", str(out), lib=other)
    assert r.returncode == 0, r.stderr
    # A fresh library has the 25 seeded papers: the same keys are duplicates, none fail.
    assert "0 added, 25 duplicates, 0 failed" in r.stdout


def test_export_ris_to_stdout_of_a_selection(lib_path: Path) -> None:
    r = citedesk("export", "--format", "ris", "--key", "wang2023qyolo", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("TY  - ")
    assert r.stdout.count("ER  - ") == 1
    assert "ID  - wang2023qyolo" in r.stdout


def test_export_ris_round_trips_into_an_empty_library(lib_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "library.ris"
    assert citedesk("export", "--format", "ris", "-o", str(out), lib=lib_path).returncode == 0
    empty = tmp_path / "empty.sqlite"
    r = citedesk("import", "--empty", str(out), lib=empty)
    assert r.returncode == 0, r.stderr
    assert "25 added, 0 duplicates, 0 failed" in r.stdout


def test_format_biblatex_is_the_biblatex_dialect(lib_path: Path) -> None:
    a = citedesk("export", "--format", "biblatex", lib=lib_path)
    b = citedesk("export", "--dialect", "biblatex", lib=lib_path)
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


def test_default_export_is_unchanged_bibtex(lib_path: Path) -> None:
    a = citedesk("export", lib=lib_path)
    b = citedesk("export", "--format", "bibtex", lib=lib_path)
    assert a.stdout == b.stdout and a.stdout.lstrip().startswith("@")


def test_bibtex_options_with_other_formats_are_usage_errors(lib_path: Path) -> None:
    r = citedesk("export", "--format", "csl-json", "--dialect", "bibtex", lib=lib_path)
    assert r.returncode == 2
    assert "--dialect is for BibTeX" in r.stderr


def test_an_empty_selection_leaves_the_old_file(lib_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "kept.json"
    out.write_text("[]\n", encoding="utf-8")
    r = citedesk(
        "export", "--format", "csl-json", "--tag", "no-such-tag", "-o", str(out), lib=lib_path
    )
    assert r.returncode == 1
    assert "nothing to export" in r.stderr
    assert out.read_text(encoding="utf-8") == "[]\n"
