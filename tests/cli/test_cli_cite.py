"""``citedesk cite``: the cite-as-you-write formats and formatted references for scripts,
run in process on the seeded library."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import pytest

from citedesk import cli

A, B = "wang2023qyolo", "wu2022alignmentpropertysgd"


def citedesk(*args: str, lib: Path) -> SimpleNamespace:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = cli.main(["--library", str(lib), *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--format", "latex"], rf"\cite{{{A},{B}}}"),
        (["--format", "natbib"], rf"\cite{{{A},{B}}}"),
        (["--format", "citep"], rf"\citep{{{A},{B}}}"),
        (["--format", "citet"], rf"\citet{{{A},{B}}}"),
        (["--format", "biblatex"], rf"\autocite{{{A},{B}}}"),
        (["--format", "biblatex", "--command", "textcite"], rf"\textcite{{{A},{B}}}"),
        (["--format", "pandoc"], f"@{A}; @{B}"),
        (["--format", "pandoc", "--brackets"], f"[@{A}; @{B}]"),
        (["--format", "mmd"], f"[#{A}][][#{B}][]"),
        (["--format", "typst"], f"@{A} @{B}"),
    ],
)
def test_each_format_cites_the_keys_in_the_order_given(
    lib_path: Path, args: list[str], expected: str
) -> None:
    r = citedesk("cite", A, B, *args, lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == expected + "\n"


def test_json_is_the_papers_csl_items(lib_path: Path) -> None:
    r = citedesk("cite", A, B, "--format", "json", lib=lib_path)
    items = json.loads(r.stdout)
    assert [i["title"] for i in items][0].startswith("Q-YOLO")


def test_a_formatted_bibliography_in_apa_and_ieee(lib_path: Path) -> None:
    apa = citedesk("cite", A, "--format", "formatted-bibliography", lib=lib_path).stdout
    assert apa.startswith("Wang, M., Sun, H., & Shi, J. (2023")
    assert "Q-YOLO: Efficient Inference for Real-time Object Detection" in apa
    ieee = citedesk(
        "cite", A, B, "--format", "formatted-citation", "--style", "ieee", lib=lib_path
    ).stdout
    assert ieee == "[1], [2]\n"


def test_translate_gives_the_entries_as_bibtex(lib_path: Path) -> None:
    r = citedesk("cite", A, "--format", "translate", lib=lib_path)
    assert r.stdout.startswith(f"@misc{{{A},")


def test_papers_of_a_tag_are_cited_in_the_library_order(lib_path: Path) -> None:
    assert citedesk("tag", A, "mine", lib=lib_path).returncode == 0
    assert citedesk("tag", B, "mine", lib=lib_path).returncode == 0
    r = citedesk("cite", "--tag", "mine", "--format", "pandoc", lib=lib_path)
    assert sorted(r.stdout.strip().split("; ")) == sorted([f"@{A}", f"@{B}"])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["nokey"], 1, "no paper with citation key 'nokey'"),
        ([A, "--format", "formatted-bibliography", "--style", "nosuch"], 1, "'nosuch'"),
        ([], 2, "name the papers to cite"),
    ],
)
def test_mistakes_are_one_line(lib_path: Path, args: list[str], code: int, message: str) -> None:
    r = citedesk("cite", *args, lib=lib_path)
    assert r.returncode == code and message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
