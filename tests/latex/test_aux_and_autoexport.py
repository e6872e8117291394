"""Exports driven by a document's .aux file, and auto-exports that stay current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from citedesk.db import Library
from citedesk.db.bibtex import parse_text
from citedesk.db.export import read_aux

DATA = Path(__file__).resolve().parents[1] / "data"

BIBTEX_AUX = r"""\relax
\citation{wang2023qyolo}
\citation{wu2022alignmentpropertysgd,child}
\citation{ghost}
\bibstyle{plain}
\bibdata{refs}
\@input{chapter1.aux}
"""
BIBLATEX_AUX = r"""\relax
\abx@aux@refcontext{nty/global//global/global}
\abx@aux@cite{0}{wang2023qyolo}
\abx@aux@segm{0}{0}{wang2023qyolo}
\abx@aux@cite{0}{child}
"""
OLD_BIBLATEX_AUX = r"\abx@aux@cite{wang2023qyolo}" + "\n"


def _keys(text: str) -> list[str]:
    return [e.key for e in parse_text(text).entries]


def citedesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "citedesk", *args], capture_output=True, text=True, timeout=60
    )


def test_read_aux_finds_bibtex_and_biblatex_citations(tmp_path: Path) -> None:
    (tmp_path / "paper.aux").write_text(BIBTEX_AUX)
    (tmp_path / "chapter1.aux").write_text("\\citation{late}\n")
    assert read_aux(tmp_path / "paper.aux").keys == [
        "wang2023qyolo",
        "wu2022alignmentpropertysgd",
        "child",
        "ghost",
        "late",
    ]
    (tmp_path / "b.aux").write_text(BIBLATEX_AUX)
    assert read_aux(tmp_path / "b.aux").keys == ["wang2023qyolo", "child"]
    (tmp_path / "old.aux").write_text(OLD_BIBLATEX_AUX)
    assert read_aux(tmp_path / "old.aux").keys == ["wang2023qyolo"]
    (tmp_path / "all.aux").write_text("\\citation{*}\n")
    assert read_aux(tmp_path / "all.aux").everything


def test_aux_export_writes_cited_entries_with_crossref_parents(
    seeded: Library, tmp_path: Path
) -> None:
    seeded.import_text(
        "@proceedings{parent, title={P}, year=1999}\n"
        "@inproceedings{child, title={C}, crossref={parent}}\n"
    )
    (tmp_path / "paper.aux").write_text(BIBTEX_AUX)
    n, missing = seeded.export_aux(tmp_path / "paper.aux", tmp_path / "refs.bib")
    assert missing == ["ghost"]
    assert sorted(_keys((tmp_path / "refs.bib").read_text())) == [
        "child",
        "parent",
        "wang2023qyolo",
        "wu2022alignmentpropertysgd",
    ]
    assert n == 4


def test_nocite_star_exports_everything(seeded: Library, tmp_path: Path) -> None:
    (tmp_path / "all.aux").write_text("\\citation{*}\n")
    n, missing = seeded.export_aux(tmp_path / "all.aux", tmp_path / "refs.bib")
    assert (n, missing) == (25, [])


def test_cli_aux_export_names_missing_keys_and_exits_1(lib_path: Path, tmp_path: Path) -> None:
    aux = tmp_path / "paper.aux"
    aux.write_text(BIBLATEX_AUX.replace("child", "nobody"))
    out = tmp_path / "refs.bib"
    r = citedesk("--library", str(lib_path), "export", "--aux", str(aux), "-o", str(out))
    assert r.returncode == 1
    assert "cites 'nobody', which is not in the library" in r.stderr
    assert _keys(out.read_text()) == ["wang2023qyolo"]


def test_cli_aux_export_of_a_folder_says_so_in_one_line(lib_path: Path, tmp_path: Path) -> None:
    r = citedesk(
        "--library", str(lib_path), "export", "--aux", str(tmp_path), "-o", str(tmp_path / "x.bib")
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"citedesk: {tmp_path}: is a folder, not a .aux file"
    assert not (tmp_path / "x.bib").exists()


def test_old_key_after_change_still_resolves(seeded: Library, tmp_path: Path) -> None:
    pid = seeded.id_for_key("wang2023qyolo")
    seeded.set_key(pid, "QYOLO2023")
    (tmp_path / "paper.aux").write_text("\\citation{wang2023qyolo}\n")
    seeded.export_aux(
        tmp_path / "paper.aux", tmp_path / "bibtex.bib", seeded.profile(dialect="bibtex")
    )
    # BibTeX knows no aliases: the entry is also written under the key the document cites.
    assert sorted(_keys((tmp_path / "bibtex.bib").read_text())) == ["QYOLO2023", "wang2023qyolo"]
    text, _ = seeded.export_text(profile=seeded.profile(dialect="biblatex"))
    fields = {e.key: dict(e.fields) for e in parse_text(text).entries}
    assert fields["QYOLO2023"]["ids"] == "{wang2023qyolo}"


def test_autoexport_rewrites_only_when_content_changes(seeded: Library, tmp_path: Path) -> None:
    out = tmp_path / "ml.bib"
    seeded.add_autoexport(out, tag="ml")
    assert seeded.run_autoexports() == [(str(out.resolve()), "written")]
    assert _keys(out.read_text()) == []
    stamp = out.stat().st_mtime_ns
    os.utime(out, ns=(stamp - 10**9, stamp - 10**9))
    before = out.stat().st_mtime_ns
    pid = seeded.id_for_key("wang2023qyolo")
    seeded.set_rating([pid], 3)  # does not change the exported text
    assert seeded.run_autoexports() == [(str(out.resolve()), "unchanged")]
    assert out.stat().st_mtime_ns == before
    seeded.add_tags([pid], ["ml"])
    assert seeded.run_autoexports() == [(str(out.resolve()), "written")]
    assert _keys(out.read_text()) == ["wang2023qyolo"]


def test_cli_keeps_autoexports_current_after_every_change(lib_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "reading.bib"
    assert (
        citedesk(
            "--library",
            str(lib_path),
            "autoexport",
            "add",
            str(out),
            "--tag",
            "reading",
            "--profile",
            "bibtex",
        ).returncode
        == 0
    )
    listed = citedesk("--library", str(lib_path), "autoexport", "list").stdout
    assert str(out) in listed and "tag reading" in listed
    citedesk("--library", str(lib_path), "tag", "wang2023qyolo", "reading")
    assert _keys(out.read_text()) == ["wang2023qyolo"]
    citedesk("--library", str(lib_path), "untag", "wang2023qyolo", "reading")
    assert _keys(out.read_text()) == []
    assert citedesk("--library", str(lib_path), "autoexport", "remove", str(out)).returncode == 0
    citedesk("--library", str(lib_path), "tag", "wang2023qyolo", "reading")
    assert _keys(out.read_text()) == []


def test_autoexport_follows_an_aux_file(seeded: Library, tmp_path: Path) -> None:
    aux = tmp_path / "paper.aux"
    aux.write_text("\\citation{wang2023qyolo}\n")
    out = tmp_path / "cited.bib"
    seeded.add_autoexport(out, aux=aux)
    seeded.run_autoexports()
    assert _keys(out.read_text()) == ["wang2023qyolo"]
    aux.write_text("\\citation{wang2023qyolo,wu2022alignmentpropertysgd}\n")
    seeded.run_autoexports()
    assert sorted(_keys(out.read_text())) == ["wang2023qyolo", "wu2022alignmentpropertysgd"]
