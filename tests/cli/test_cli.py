"""The ``citedesk`` command end to end, as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import bibtexparser
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


def citedesk(
    *args: str, lib: Path | None = None, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "citedesk"]
    if lib is not None:
        argv += ["--library", str(lib)]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*argv, *args], capture_output=True, text=True, input=stdin, env=full_env, timeout=60
    )


def test_list_shows_the_25_seeded_papers(lib_path: Path) -> None:
    r = citedesk("list", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 25
    assert "wang2023qyolo" in r.stdout


def test_list_json_has_the_promised_fields(lib_path: Path) -> None:
    r = citedesk("list", "--json", lib=lib_path)
    records = json.loads(r.stdout)
    assert len(records) == 25
    q = next(x for x in records if x["key"] == "wang2023qyolo")
    assert q["authors"] == ["Mingze Wang", "Huixin Sun", "Jun Shi", "others"]
    assert (q["year"], q["tags"], q["status"]) == (2023, [], "unread")
    assert q["title"].startswith("Q-YOLO")


def test_export_parses_back_to_25_profile_entries(lib_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "seed-out.bib"
    r = citedesk("export", "-o", str(out), lib=lib_path)
    assert r.returncode == 0, r.stderr
    lib = bibtexparser.parse_file(str(out))
    assert len(lib.entries) == 25 and not lib.failed_blocks
    titles = {e["title"] for e in lib.entries}
    assert "Q-YOLO: Efficient Inference for Real-time Object Detection" in titles


def test_tag_status_note_show_in_list_and_survive(lib_path: Path) -> None:
    assert citedesk("tag", "wang2023qyolo", "detection", "to read", lib=lib_path).returncode == 0
    assert citedesk("status", "wang2023qyolo", "reading", lib=lib_path).returncode == 0
    assert (
        citedesk("note", "wang2023qyolo", "-", lib=lib_path, stdin="Check **Table 2**\n").returncode
        == 0
    )
    assert citedesk("untag", "wang2023qyolo", "to read", lib=lib_path).returncode == 0
    records = json.loads(citedesk("list", "--tag", "detection", "--json", lib=lib_path).stdout)
    assert [(r["key"], r["tags"], r["status"], r["notes"]) for r in records] == [
        ("wang2023qyolo", ["detection"], "reading", 1)
    ]
    notes = citedesk("note", "wang2023qyolo", lib=lib_path)
    assert "Check **Table 2**" in notes.stdout
    reading = json.loads(citedesk("list", "--status", "reading", "--json", lib=lib_path).stdout)
    assert [r["key"] for r in reading] == ["wang2023qyolo"]


def test_bad_key_is_one_line_and_exit_1(lib_path: Path) -> None:
    r = citedesk("tag", "no-such-key", "x", lib=lib_path)
    assert r.returncode == 1
    assert r.stderr.strip() == "citedesk: no paper with citation key 'no-such-key'"


def test_missing_file_is_one_line_and_exit_1(lib_path: Path, tmp_path: Path) -> None:
    r = citedesk("import", str(tmp_path / "missing.bib"), lib=lib_path)
    assert r.returncode == 1
    assert f"{tmp_path / 'missing.bib'}: no such file" in r.stderr
    assert "Traceback" not in r.stderr


def test_import_reports_failures_with_line_and_exits_1(lib_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bib"
    bad.write_text(
        "@misc{ok1, title={One}}\n@article{broken, title = {x\n\n@misc{ok2, title={2}}\n"
    )
    r = citedesk("import", str(bad), lib=lib_path)
    assert r.returncode == 1
    assert f"{bad}:2 (entry broken)" in r.stderr
    assert "2 added" in r.stdout


def test_import_then_export_round_trips_xampl(lib_path: Path, tmp_path: Path) -> None:
    r = citedesk("--empty", "import", str(DATA / "xampl.bib"), lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert "36 added" in r.stdout
    out = tmp_path / "x.bib"
    citedesk("export", "-o", str(out), lib=lib_path)
    a = bibtexparser.parse_file(str(DATA / "xampl.bib"), parse_stack=[])
    b = bibtexparser.parse_file(str(out), parse_stack=[])
    assert {e.key: [(f.key, f.value) for f in e.fields] for e in a.entries} == {
        e.key: [(f.key, f.value) for f in e.fields] for e in b.entries
    }


def test_library_from_environment(tmp_path: Path) -> None:
    lib = tmp_path / "env.sqlite"
    r = citedesk("--empty", "list", env={"CITEDESK_LIBRARY": str(lib)})
    assert r.returncode == 0 and r.stdout == "" and lib.exists()


def test_usage_error_exits_2(lib_path: Path) -> None:
    assert citedesk("status", "wang2023qyolo", "skimmed", lib=lib_path).returncode == 2
    assert citedesk("frobnicate", lib=lib_path).returncode == 2


def test_export_of_unknown_key_names_it(lib_path: Path) -> None:
    r = citedesk("export", "--key", "wang2023qyolo", "--key", "ghost", lib=lib_path)
    assert r.returncode == 1 and "'ghost'" in r.stderr
    assert "@misc{wang2023qyolo," in r.stdout


@pytest.mark.parametrize("args", [["list"], ["export"], ["tag", "wang2023qyolo", "x"]])
def test_subcommands_never_import_qt(lib_path: Path, args: list[str]) -> None:
    code = (
        "import sys, citedesk.cli as c; rc = c.main(sys.argv[1:]); "
        "assert 'PySide6' not in sys.modules, 'Qt imported'; sys.exit(rc)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, "--library", str(lib_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr


def test_a_folder_given_as_the_library_is_one_line_and_exit_1(tmp_path: Path) -> None:
    r = citedesk("list", lib=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"citedesk: {tmp_path}: is a directory, not a library file"
