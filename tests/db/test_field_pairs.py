"""Fields BibLaTeX and BibTeX name differently stay agreeing; an entry's text replaced whole."""

from __future__ import annotations

import pytest

from citedesk.db import Library, LibraryError
from citedesk.db.bibtex import parse_text
from citedesk.db.entrytypes import form_rows, paired_changes

BOTH = (
    "@article{both, author = {Doe, Jane}, title = {T}, journaltitle = {Old Journal},"
    " journal = {Old Journal}, date = {2024-03-05}, year = {2024}}\n"
)


def _fields(text: str) -> dict[str, str]:
    (entry,) = parse_text(text).entries
    return {n.lower(): v.strip("{}") for n, v in entry.fields}


@pytest.fixture
def both(empty_lib: Library) -> tuple[Library, int]:
    empty_lib.import_text(BOTH)
    pid = empty_lib.id_for_key("both")
    assert pid is not None
    return empty_lib, pid


def test_a_new_year_is_written_into_the_date_keeping_month_and_day() -> None:
    out = paired_changes({"date": "2024-03-05", "year": "2024"}, {"year": "2025"})
    assert out == {"year": "2025", "date": "2025-03-05"}


def test_a_new_date_gives_the_year_its_year() -> None:
    assert paired_changes({"date": "2024", "year": "2024"}, {"date": "2026-01"}) == {
        "date": "2026-01",
        "year": "2026",
    }


def test_editing_one_name_of_a_pair_writes_the_other_only_when_the_entry_has_both() -> None:
    assert paired_changes({"journal": "A", "journaltitle": "A"}, {"journal": "B"}) == {
        "journal": "B",
        "journaltitle": "B",
    }
    assert paired_changes({"journaltitle": "A"}, {"journaltitle": "B"}) == {"journaltitle": "B"}
    assert paired_changes({"location": "X", "address": "X"}, {"location": None}) == {
        "location": None,
        "address": None,
    }


def test_editing_the_year_of_a_seeded_entry_moves_its_date_and_undo_puts_both_back(
    seeded: Library,
) -> None:
    pid = seeded.paper_ids()[0]
    before = seeded.paper(pid)
    assert (before.text("year"), before.text("date")) == ("2026", "2026-03-11")

    changes = seeded.update_fields(pid, {"year": "2025"})

    after = seeded.paper(pid)
    assert (after.text("year"), after.text("date"), after.year) == ("2025", "2025-03-11", 2025)
    seeded.undo(changes.undo)  # type: ignore[arg-type]
    assert seeded.paper(pid).fields == before.fields


def test_both_dialects_export_the_same_year_and_journal_after_an_edit(
    both: tuple[Library, int],
) -> None:
    lib, pid = both
    lib.update_fields(pid, {"year": "2025", "journal": "New Journal"})

    bibtex = _fields(lib.export_text(profile=lib.profile(dialect="bibtex"))[0])
    biblatex = _fields(lib.export_text(profile=lib.profile(dialect="biblatex"))[0])

    assert bibtex["year"] == "2025" and bibtex["journal"] == "New Journal"
    assert biblatex["date"] == "2025-03-05" and biblatex["journaltitle"] == "New Journal"


def test_bibtex_export_takes_year_and_journal_from_the_biblatex_fields_as_biber_does(
    empty_lib: Library,
) -> None:
    """An entry imported disagreeing with itself: biber reads date and journaltitle."""
    empty_lib.import_text(
        "@article{odd, title = {T}, journaltitle = {Right}, journal = {Wrong},"
        " date = {2020-01-02}, year = {1999}}\n"
    )

    bibtex = _fields(empty_lib.export_text(profile=empty_lib.profile(dialect="bibtex"))[0])

    assert bibtex["year"] == "2020" and bibtex["journal"] == "Right"
    assert "journaltitle" not in bibtex


def test_a_field_name_bibtex_cannot_read_is_refused(both: tuple[Library, int]) -> None:
    lib, pid = both
    with pytest.raises(LibraryError, match="cannot be a field name"):
        lib.update_fields(pid, {"my field": "x"})


def test_form_rows_show_the_name_the_entry_uses_required_first() -> None:
    rows = form_rows("article", ["journaltitle", "date", "pages", "langid"])
    names = [r.name for r in rows]
    assert names[:4] == ["author", "title", "journaltitle", "date"]
    assert all(r.required for r in rows[:4]) and not rows[4].required
    assert names[-1] == "langid" and "journal" not in names and "year" not in names
    assert rows[2].label == "Journal"
    assert [r.name for r in form_rows("phdthesis", [])][:4] == ["author", "title", "school", "year"]


# -- replacing an entry's text ------------------------------------------------------------------


def test_replace_entry_sets_type_key_and_fields_in_one_undoable_write(
    both: tuple[Library, int],
) -> None:
    lib, pid = both
    before = lib.paper(pid)

    changes = lib.replace_entry(pid, "@book{newkey,\n  title = {A Book},\n  publisher = {P}\n}\n")

    paper = lib.paper(pid)
    assert (paper.entry_type, paper.key, paper.fields) == (
        "book",
        "newkey",
        [("title", "{A Book}"), ("publisher", "{P}")],
    )
    assert changes.keys == {pid: ("both", "newkey")}
    lib.undo(changes.undo)  # type: ignore[arg-type]
    back = lib.paper(pid)
    assert (back.entry_type, back.key, back.fields) == ("article", "both", before.fields)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@article{both,\n  title = {Open\n}\n", r"the entry:\d"),
        ("@article{a, title = {x}}\n@article{b, title = {y}}\n", "2 entries, not one"),
        ("@article{taken, title = {x}}\n", "'taken' is already used"),
        ("no entry here\n", "entr"),
    ],
)
def test_replace_entry_refuses_bad_text_and_changes_nothing(
    both: tuple[Library, int], text: str, message: str
) -> None:
    lib, pid = both
    lib.import_text("@misc{taken, title = {Other}}\n")
    before = lib.paper(pid)

    with pytest.raises(LibraryError, match=message):
        lib.replace_entry(pid, text)

    after = lib.paper(pid)
    assert (after.entry_type, after.key, after.fields) == (
        before.entry_type,
        before.key,
        before.fields,
    )
