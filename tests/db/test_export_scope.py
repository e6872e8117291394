"""What a selection export carries besides its entries (issue 13, export point 1).

Only the @strings its entries use (through other @strings too), the @preambles of the files
they came from, never an @comment; a whole-library export keeps everything; exporting
nothing writes nothing. The auto-export builds the same bytes in SQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from citedesk.db import Library, LibraryError, Query

JOURNALS = (
    "@preamble{{\\newcommand{\\noopj}[1]{}}}\n"
    '@string{pub = "Elsevier"}\n'
    '@string{tpami = "IEEE Trans. " # pub}\n'
    '@string{unused = "Never cited"}\n'
    "@comment{jabref-meta: databaseType:bibtex;}\n"
    "@article{uses_tpami, title = {One}, journal = tpami, year = 2020}\n"
    "@article{plain, title = {Two}, journal = {J}, month = jan, year = 2021}\n"
)
OTHER = (
    "@preamble{{\\newcommand{\\noopo}[1]{}}}\n"
    '@string{conf = "Conference"}\n'
    "@comment{jabref-meta: grouping:\n0 AllEntriesGroup:;\n}\n"
    "@inproceedings{other_paper, title = {Three}, booktitle = conf, year = 2022}\n"
)


@pytest.fixture
def two_files(empty_lib: Library, tmp_path: Path) -> Library:
    for name, text in (("journals.bib", JOURNALS), ("other.bib", OTHER)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert empty_lib.import_files([tmp_path / "journals.bib", tmp_path / "other.bib"]).ok
    return empty_lib


def keys(lib: Library, *names: str) -> tuple[int, ...]:
    return tuple(lib.require_key(k) for k in names)


def test_a_selection_carries_the_strings_it_uses_through_other_strings(
    two_files: Library,
) -> None:
    text, n = two_files.export_text(Query(ids=keys(two_files, "uses_tpami")))
    assert n == 1
    assert "@string{pub" in text and "@string{tpami" in text
    assert "unused" not in text and "conf" not in text


def test_a_selection_carries_its_files_preambles_and_no_comment(two_files: Library) -> None:
    text, _ = two_files.export_text(Query(ids=keys(two_files, "plain")))
    assert "\\noopj" in text and "\\noopo" not in text
    assert "@comment" not in text and "jabref-meta" not in text
    assert "@string" not in text  # `jan` is BibTeX's own month, no @string of the library


def test_another_files_jabref_settings_stay_out_of_a_tag_export(two_files: Library) -> None:
    two_files.add_tags(list(keys(two_files, "other_paper")), ["conf"])
    text, n = two_files.export_text(Query(tag="conf"))
    assert n == 1
    assert text == (
        "@preamble{{\\newcommand{\\noopo}[1]{}}}\n\n"
        '@string{conf = "Conference"}\n\n'
        + two_files.entry_text(two_files.require_key("other_paper"))
        + "\n"
    )


def test_the_whole_library_export_still_writes_every_block(two_files: Library) -> None:
    text, n = two_files.export_text()
    assert n == 3
    assert text == JOURNALS + OTHER


def test_a_one_entry_export_ends_with_what_the_bibtex_tab_shows(two_files: Library) -> None:
    pid = two_files.require_key("uses_tpami")
    text, _ = two_files.export_text(Query(ids=(pid,)))
    blocks = text.split("\n\n")
    assert text.endswith(two_files.entry_text(pid) + "\n")
    assert all(b.startswith(("@string", "@preamble")) for b in blocks[:-1])


def test_a_paper_made_in_citedesk_gets_no_files_preamble(two_files: Library) -> None:
    made = two_files.import_text("@misc{pasted, title = {Pasted}, howpublished = conf}")
    assert made.ok
    text, _ = two_files.export_text(Query(ids=keys(two_files, "pasted")))
    # Pasted text is a file of its own: the other files' preambles are not its.
    assert "@preamble" not in text
    assert '@string{conf = "Conference"}' in text


@pytest.mark.parametrize("query", [Query(tag="nobody"), Query(search="zzzqqq")])
def test_exporting_nothing_writes_no_file(two_files: Library, tmp_path: Path, query: Query) -> None:
    out = tmp_path / "out.bib"
    with pytest.raises(LibraryError, match="nothing to export"):
        two_files.export(out, query)
    assert not out.exists()


def test_an_aux_citing_nothing_the_library_has_writes_no_file(
    two_files: Library, tmp_path: Path
) -> None:
    aux = tmp_path / "paper.aux"
    aux.write_text("\\citation{ghost}\n\\bibdata{refs}\n")
    out = tmp_path / "refs.bib"
    with pytest.raises(LibraryError, match="nothing to export.*ghost"):
        two_files.export_aux(aux, out)
    assert not out.exists()


@pytest.mark.parametrize("profile", [None, "bibtex", "biblatex"])
@pytest.mark.parametrize("follows", ["tag", "aux"])
def test_the_autoexport_applies_the_same_rule(
    two_files: Library, tmp_path: Path, profile: str | None, follows: str
) -> None:
    two_files.add_tags(list(keys(two_files, "uses_tpami", "other_paper")), ["mine"])
    aux = tmp_path / "paper.aux"
    aux.write_text("\\citation{plain,other_paper}\n")
    out = tmp_path / "auto.bib"
    chosen = two_files.profile(profile) if profile else None
    if follows == "tag":
        two_files.add_autoexport(out, tag="mine", profile=profile)
        expected, _ = two_files.export_text(Query(tag="mine"), chosen)
    else:
        two_files.add_autoexport(out, aux=aux, profile=profile)
        ids, _, copies = two_files.aux_selection(aux, chosen)
        expected, _ = two_files.export_text(None, chosen, ids=ids, extra_keys=copies)
    two_files.run_autoexports()
    assert out.read_bytes() == expected.encode("utf-8")
    assert b"jabref-meta" not in out.read_bytes() and b"unused" not in out.read_bytes()
