"""BibTeX import and export through the Library, on real .bib files."""

from __future__ import annotations

import os
from pathlib import Path

import bibtexparser
import pytest

from citedesk.db import Library, Query
from citedesk.db.bibtex import decode_bytes, parse_text

DATA = Path(__file__).resolve().parents[1] / "data"


def _values(text: str) -> dict[str, dict[str, str]]:
    """key -> field values as bibtexparser reads them back (raw, no middleware)."""
    lib = bibtexparser.parse_string(text, parse_stack=[])
    assert not lib.failed_blocks, [b.error for b in lib.failed_blocks]
    return {e.key: {f.key.lower(): f.value for f in e.fields} for e in lib.entries}


def test_xampl_imports_every_entry_with_macros_and_preamble(empty_lib: Library) -> None:
    report = empty_lib.import_files([DATA / "xampl.bib"])
    assert report.ok and not report.duplicates
    assert len(report.added) == 36 == empty_lib.count()
    text, n = empty_lib.export_text()
    assert n == 36
    assert "@preamble" in text.lower() and "@string" in text.lower()


def test_export_parses_back_to_the_same_field_values(empty_lib: Library, tmp_path: Path) -> None:
    src = (DATA / "tricky.bib").read_text()
    empty_lib.import_files([DATA / "tricky.bib"])
    out = tmp_path / "out.bib"
    assert empty_lib.export(out) == 4
    assert _values(out.read_text()) == _values(src)


def test_untouched_entries_are_written_byte_for_byte(empty_lib: Library) -> None:
    src = (DATA / "tricky.bib").read_text()
    empty_lib.import_files([DATA / "tricky.bib"])
    text, _ = empty_lib.export_text()
    for block in ("@article{Muller2020", "@unknowntype{odd"):
        start = src.index(block)
        entry = src[start : src.index("\n}\n", start) + 2]
        assert entry in text


def test_latex_is_shown_as_unicode_but_kept_in_the_file(empty_lib: Library) -> None:
    empty_lib.import_files([DATA / "tricky.bib"])
    p = empty_lib.paper_by_key("Muller2020")
    assert p.title == "LaTeX and the & sign: Études"
    assert [a.display for a in p.authors] == [
        "Jörg Müller",
        "Anna van der Berg",
        "Henry Ford, Jr.",
        "others",
    ]
    assert p.venue == "Communications of the Association for Computing Machinery"
    assert p.month == 1 and p.year == 2020
    assert "{\\'E}tudes" in empty_lib.entry_text(p.id)


def test_crossref_child_inherits_parent_values(empty_lib: Library) -> None:
    empty_lib.import_files([DATA / "tricky.bib"])
    child = empty_lib.paper_by_key("child")
    assert child.year == 1999 and child.venue == "Proceedings of Things"
    assert child.raw("crossref") == "{parent}"


def test_taken_keys_are_duplicates_and_shared_dois_warnings(
    empty_lib: Library, tmp_path: Path
) -> None:
    empty_lib.import_files([DATA / "tricky.bib"])
    again = tmp_path / "again.bib"
    again.write_text(
        "@article{other, title={Same DOI}, doi={10.1000/XYZ123}}\n"
        "@misc{child, title={same key}}\n@misc{fresh, title={New}}\n"
    )
    report = empty_lib.import_files([again])
    assert report.added == ["other", "fresh"]
    assert len(report.duplicates) == 1 and report.duplicates[0].startswith("child (")
    assert any("again.bib:1" in w and "DOI 10.1000/XYZ123" in w for w in report.warnings)


def test_failed_blocks_are_reported_with_file_and_line(empty_lib: Library, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bib"
    bad.write_text(
        "@misc{good1, title={One}}\n\n@article{broken, title = {never closed\n\n"
        "@misc{good2, title={Two}}\n"
    )
    report = empty_lib.import_files([bad])
    assert sorted(report.added) == ["good1", "good2"]
    assert len(report.failures) == 1
    failure = report.failures[0]
    assert (failure.file, failure.line, failure.key) == (str(bad), 3, "broken")
    assert str(failure).startswith(f"{bad}:3 (entry broken): ")


def test_strict_import_adds_nothing_when_anything_fails(empty_lib: Library, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bib"
    bad.write_text("@misc{good1, title={One}}\n@article{broken, title = {x\n")
    report = empty_lib.import_files([bad], strict=True)
    assert report.failures and empty_lib.count() == 0


def test_import_of_several_files_is_one_transaction(empty_lib: Library, tmp_path: Path) -> None:
    def boom() -> bool:
        boom.calls += 1  # type: ignore[attr-defined]
        return boom.calls > 30  # type: ignore[attr-defined]

    boom.calls = 0  # type: ignore[attr-defined]
    from citedesk.db.bibtex import parse_file

    files = [parse_file(DATA / "xampl.bib"), parse_file(DATA / "tricky.bib")]
    report = empty_lib.import_parsed(files, cancelled=boom)
    assert report.added == [] and empty_lib.count() == 0
    assert empty_lib.export_text() == ("", 0)


def test_missing_file_and_directory_are_failures(empty_lib: Library, tmp_path: Path) -> None:
    report = empty_lib.import_files([tmp_path / "nope.bib", tmp_path])
    assert [f.message for f in report.failures] == [
        "no such file",
        "is a directory, not a .bib file",
    ]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("@misc{k, title={Gödel}}".encode(), "utf-8"),
        (b"\xef\xbb\xbf" + "@misc{k, title={Gödel}}".encode(), "utf-8-sig"),
        ("@misc{k, title={Gödel}}".encode("utf-16"), "utf-16"),
        ("@misc{k, title={Gödel}}".encode("utf-16-le"), "utf-16-le"),
        ("@misc{k, title={Gödel}}".encode("utf-16-be"), "utf-16-be"),
        ("@misc{k, title={Gödel}}".encode("latin-1"), "cp1252"),
    ],
)
def test_encodings_are_detected(data: bytes, encoding: str) -> None:
    text, found = decode_bytes(data)
    assert (text, found) == ("@misc{k, title={Gödel}}", encoding)


def test_latin1_and_utf16_files_import(empty_lib: Library) -> None:
    report = empty_lib.import_files([DATA / "latin1.bib", DATA / "utf16.bib"])
    assert sorted(report.added) == ["latin", "utf16"]
    assert empty_lib.paper_by_key("latin").title == "Über formal unentscheidbare Sätze"
    assert [a.display for a in empty_lib.paper_by_key("utf16").authors] == ["Kurt Gödel"]


def test_export_subsets(seeded: Library) -> None:
    qyolo = seeded.id_for_key("wang2023qyolo")
    seeded.add_tags([qyolo], ["cv"])
    seeded.set_status([qyolo], "read")
    for query in (
        Query(tag="cv"),
        Query(status="read"),
        Query(keys=("WANG2023QYOLO",)),
        Query(search="yolo"),
    ):
        text, n = seeded.export_text(query)
        assert n == 1 and list(_values(text)) == ["wang2023qyolo"]


def test_failed_export_never_truncates_the_existing_file(
    seeded: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "refs.bib"
    out.write_text("precious\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(Exception, match="No space left"):
        seeded.export(out)
    assert out.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == [
        "refs.bib",
        "library.sqlite",
        "library.sqlite-wal",
        "library.sqlite-shm",
    ] or not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_keys_differing_only_by_case_collide(empty_lib: Library, tmp_path: Path) -> None:
    f = tmp_path / "case.bib"
    f.write_text("@misc{Smith2020, title={A}}\n@misc{smith2020, title={B}}\n")
    report = empty_lib.import_files([f])
    assert report.added == ["Smith2020"]
    assert "collides" in report.failures[0].message and report.failures[0].line == 2


def test_seed_export_parses_to_25_profile_entries(seeded: Library) -> None:
    text, n = seeded.export_text()
    values = _values(text)
    assert n == len(values) == 25
    title = "{Q-YOLO: Efficient Inference for Real-time Object Detection}"
    assert values["wang2023qyolo"]["title"] == title


def _own_values(text: str) -> dict[str, dict[str, str]]:
    """key -> field values as Citedesk's reader reads them."""
    parsed = parse_text(text)
    assert not parsed.failures, [str(f) for f in parsed.failures]
    return {e.key: {k.lower(): v for k, v in e.fields} for e in parsed.entries}


#: The entries BibTeX 0.99d reads in btxdoc.bib (bibtex with \nocite{*}), two of which
#: bibtexparser does not see: "@FAKE-ENTRY", a line break, "{"; and "@", a blank line,
#: "MaNuAl (".
BTXDOC_KEYS = [
    "fake-database-key",
    "scribe",
    "prime-number-theorem",
    "chicago",
    "texbook",
    "latex",
    "btxdoc",
    "btxhak",
    "strunk-and-white",
    "van-leunen",
]


@pytest.mark.parametrize(
    "name", ["texlive/xampl.bib", "texlive/biblatex-examples.bib", "texlive/btxdoc.bib"]
)
def test_corpus_round_trip(bibdata: Path, tmp_path: Path, name: str) -> None:
    src = bibdata / name
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        report = lib.import_files([src])
        source = parse_and_strip(src)
        expected = _own_values(source)
        # bibtexparser, a reader of its own, reads the same in every entry it sees.
        theirs = _values(source)
        assert {key: expected[key] for key in theirs} == theirs
        assert list(expected) == (BTXDOC_KEYS if name.endswith("btxdoc.bib") else list(theirs))
        assert report.ok and len(report.added) == len(expected)
        out = tmp_path / "out.bib"
        lib.export(out)
    with Library.open(tmp_path / "again.sqlite", seed=False) as again:
        again.import_files([out])
        text, _ = again.export_text()
    assert _own_values(text) == expected


def parse_and_strip(path: Path) -> str:
    from citedesk.db.bibtex import read_bib_file

    return read_bib_file(path)[0]


def test_parse_text_reports_unbalanced_value() -> None:
    parsed = parse_text('@misc{k, title = "a {b" }\n@misc{ok, title={fine}}')
    assert [e.key for e in parsed.entries] == ["ok"] or parsed.failures
