"""Auto-exports write exactly what ``citedesk export`` writes for the same papers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from citedesk.db import Library, LibraryError
from citedesk.db.export import ExportProfile
from citedesk.db.library import Query

DATA = Path(__file__).resolve().parents[1] / "data"
QYOLO = "wang2023qyolo"


@pytest.fixture
def varied(seeded: Library, tmp_path: Path) -> Library:
    """The seeded papers and three files with @preamble, @string (one that profiles
    change), @comment and crossrefs (to parents keyed in other cases); one paper edited, so
    stored without its original text; one renamed, so it has an alias; some tagged."""
    report = seeded.import_files([DATA / "xampl.bib", DATA / "tricky.bib"])
    assert report.ok
    assert seeded.import_text(
        r'@string{sme = "Soci{\'e}t{\'e} de Math & Éditions"}'
        "\n"
        "@inproceedings{Late2024, title = {Late}, booktitle = sme, crossref = {proc2024}}\n"
        "@proceedings{Proc2024, title = {Proceedings}, year = 2024}\n"
    ).ok
    pid = seeded.id_for_key(QYOLO)
    seeded.update_fields(pid, {"title": "{Q-YOLO}: Efficient Inference, Édition 2"})
    seeded.set_key(seeded.id_for_key("wu2022alignmentpropertysgd"), "Wu2022")
    seeded.add_tags([pid, seeded.id_for_key("child"), seeded.id_for_key("Muller2020")], ["thesis"])
    seeded.save_profile(
        ExportProfile("everything", "bibtex", exclude=(), protect_capitals=False, page_dashes=False)
    )
    (tmp_path / "paper.aux").write_text(
        "\\citation{wang2023qyolo,wu2022alignmentpropertysgd,child,ghost}\n"
    )
    return seeded


def export_text(lib: Library, spec: dict[str, Any]) -> str:
    """The text ``citedesk export`` writes for an auto-export's papers and profile."""
    profile = lib.profile(spec["profile"]) if spec["profile"] else None
    if spec["aux"]:
        ids, _, copies = lib.aux_selection(spec["aux"], profile)
        return lib.export_text(None, profile, ids=ids, extra_keys=copies)[0]
    return lib.export_text(Query(tag=spec["tag"]) if spec["tag"] else None, profile)[0]


@pytest.mark.parametrize("profile", [None, "bibtex", "biblatex", "everything"])
@pytest.mark.parametrize("follows", ["all", "tag", "aux", "empty tag"])
def test_an_autoexport_is_byte_for_byte_the_export(
    varied: Library, tmp_path: Path, profile: str | None, follows: str
) -> None:
    out = tmp_path / "out.bib"
    varied.add_autoexport(
        out,
        tag={"tag": "thesis", "empty tag": "nothing-here"}.get(follows),
        aux=tmp_path / "paper.aux" if follows == "aux" else None,
        profile=profile,
    )
    spec = varied.autoexports()[-1]
    assert varied.run_autoexports() == [(str(out.resolve()), "written")]
    assert out.read_bytes() == export_text(varied, spec).encode("utf-8")
    if follows == "all":
        assert out.read_bytes().count(b"\n@") > 25  # not trivially equal
    assert varied.run_autoexports() == [(str(out.resolve()), "unchanged")]


def test_an_autoexport_matches_the_command_line_export(
    varied: Library, lib_path: Path, tmp_path: Path
) -> None:
    auto, exported = tmp_path / "auto.bib", tmp_path / "exported.bib"
    varied.add_autoexport(auto, profile="bibtex")
    varied.run_autoexports()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "citedesk",
            "--library",
            str(lib_path),
            "export",
            "--profile",
            "bibtex",
            "-o",
            str(exported),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert auto.read_bytes() == exported.read_bytes()


def test_an_empty_library_gives_an_empty_file(empty_lib: Library, tmp_path: Path) -> None:
    out = tmp_path / "out.bib"
    empty_lib.add_autoexport(out)
    assert empty_lib.run_autoexports() == [(str(out.resolve()), "written")]
    assert out.read_bytes() == b"" == empty_lib.export_text()[0].encode()


def test_an_error_while_writing_an_entry_is_reported_as_itself(
    seeded: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.bib"
    seeded.add_autoexport(out)
    seeded.update_fields(seeded.id_for_key(QYOLO), {"title": "Edited"})  # written by Python

    def refuse(*args: object) -> str:
        raise LibraryError("this entry cannot be written")

    monkeypatch.setattr("citedesk.db.bibwrite.format_entry", refuse)
    assert seeded.run_autoexports() == [(str(out.resolve()), "error: this entry cannot be written")]
    assert not out.exists()


CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "bibdata"
#: The corpus files small enough to be quick that have what reorders or rewrites an export.
CORPUS_FILES = (
    sorted(
        p
        for p in CORPUS.rglob("*.bib")
        if "malformed" not in p.parts
        and p.stat().st_size < 100_000
        and any(w in p.read_bytes().lower() for w in (b"crossref", b"@string"))
    )
    if CORPUS.is_dir()
    else []
)


@pytest.mark.skipif(not CORPUS_FILES, reason=f"the shared corpus is not at {CORPUS}")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_autoexports_are_the_export(path: Path, tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        lib.import_files([path])
        if lib.paper_ids():
            lib.update_fields(lib.paper_ids()[0], {"note": "checked by Citedesk"})
        for profile in (None, "bibtex", "biblatex"):
            out = tmp_path / f"{profile}.bib"
            lib.add_autoexport(out, profile=profile)
            spec = lib.autoexports()[-1]
            lib.run_autoexports()
            assert out.read_bytes() == export_text(lib, spec).encode("utf-8"), profile
