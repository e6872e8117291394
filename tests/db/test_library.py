"""The Library facade on real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from citedesk.db import (
    Library,
    LibraryDamagedError,
    LibraryError,
    LibraryTooNewError,
    Query,
    UnknownPaperError,
    normal_tag,
)
from citedesk.db.schema import SCHEMA_VERSION


def test_new_library_is_seeded_with_25_unread_papers(seeded: Library) -> None:
    assert seeded.count() == 25
    assert seeded.status_counts() == {"unread": 25, "reading": 0, "read": 0}


def test_reopening_never_seeds_again(lib_path: Path) -> None:
    Library.open(lib_path).close()
    with Library.open(lib_path) as lib:
        assert lib.count() == 25


def test_empty_library_has_no_papers(empty_lib: Library) -> None:
    assert empty_lib.count() == 0


def test_library_uses_wal_and_foreign_keys(seeded: Library) -> None:
    assert seeded.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert seeded.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert seeded.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_new_libraries_use_large_pages_and_old_ones_keep_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import citedesk.db.store as library_module

    with Library.open(tmp_path / "new.sqlite", seed=False) as lib:
        assert lib.conn.execute("PRAGMA page_size").fetchone()[0] == 16384
    # A library made before (4 KB pages) opens, works and keeps its page size.
    monkeypatch.setattr(library_module, "PAGE_SIZE", 4096)
    Library.open(tmp_path / "old.sqlite").close()
    monkeypatch.undo()
    with Library.open(tmp_path / "old.sqlite") as lib:
        assert lib.conn.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert lib.count() == 25


def test_newer_library_is_refused_and_left_untouched(lib_path: Path) -> None:
    Library.open(lib_path).close()
    conn = sqlite3.connect(lib_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = lib_path.read_bytes()
    with pytest.raises(LibraryTooNewError, match="newer Citedesk"):
        Library.open(lib_path)
    assert lib_path.read_bytes() == before


def test_file_that_is_not_sqlite_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"my thesis notes, not a database\n" * 10)
    with pytest.raises(LibraryDamagedError, match="not a Citedesk library"):
        Library.open(path)
    assert path.read_bytes() == b"my thesis notes, not a database\n" * 10


def test_paper_keeps_authors_in_order_with_others(seeded: Library) -> None:
    p = seeded.paper_by_key("wang2023qyolo")
    assert [(a.given, a.family) for a in p.authors] == [
        ("Mingze", "Wang"),
        ("Huixin", "Sun"),
        ("Jun", "Shi"),
        ("", "others"),
    ]
    assert p.year == 2023 and p.month == 7 and p.date == "2023-07-01"
    assert p.category == "cs.CV"
    assert seeded.rows([p.id])[p.id].authors == "Wang et al."


def test_tags_are_added_counted_and_removed(seeded: Library) -> None:
    a, b = seeded.paper_ids()[:2]
    seeded.add_tags([a, b], ["theory"])
    seeded.add_tags([a], ["Theory", "sgd"])  # same tag, any case
    assert [(t.name, t.count) for t in seeded.tags()] == [("sgd", 1), ("theory", 2)]
    seeded.remove_tags([a], ["THEORY"])
    assert seeded.paper_tags(a) == ["sgd"]
    assert seeded.count(Query(tag="theory")) == 1


def test_a_tag_name_is_stored_in_one_normal_form(seeded: Library) -> None:
    """db.normal_tag is the one rule; the window and the library both use it."""
    assert normal_tag("  deep \t learning\x00 ") == "deep learning"
    a = seeded.paper_ids()[0]
    seeded.set_tags(a, ["  deep \t learning\x00 "])
    assert seeded.paper_tags(a) == [normal_tag("deep learning")]


def test_tag_colour_rename_merge_and_delete(seeded: Library) -> None:
    a, b, c = seeded.paper_ids()[:3]
    seeded.add_tags([a], ["ml"])
    seeded.add_tags([b, c], ["ML theory"])
    seeded.set_tag_color("ml", "#ff0000")
    seeded.rename_tag("ml", "machine learning")
    assert seeded.tag_color("machine learning") == "#ff0000"
    seeded.merge_tags(["ML theory"], "machine learning")
    assert [(t.name, t.count) for t in seeded.tags()] == [("machine learning", 3)]
    seeded.delete_tag("machine learning")
    assert seeded.tags() == [] and seeded.paper_tags(a) == []


def test_status_and_rating_are_kept_with_the_date_set(seeded: Library) -> None:
    pid = seeded.paper_ids()[0]
    seeded.set_status([pid], "reading")
    seeded.set_rating([pid], 4)
    p = seeded.paper(pid)
    assert (p.status, p.rating) == ("reading", 4)
    assert p.status_changed is not None
    with pytest.raises(LibraryError):
        seeded.set_status([pid], "skimmed")
    with pytest.raises(LibraryError):
        seeded.set_rating([pid], 6)


def test_notes_are_personal_and_never_in_bibtex(seeded: Library) -> None:
    pid = seeded.paper_ids()[0]
    note = seeded.add_note(pid, "# Idea\nsecret *thoughts*").new_note
    seeded.add_note(pid, "second")
    assert [n.body for n in seeded.notes(pid)] == ["# Idea\nsecret *thoughts*", "second"]
    seeded.update_note(note, "changed")
    assert seeded.notes(pid)[0].body == "changed"
    assert "changed" not in seeded.entry_text(pid)
    assert "note" not in [name for name, _ in seeded.paper(pid).fields]


def test_full_text_search_follows_every_write(seeded: Library) -> None:
    pid = seeded.id_for_key("wang2023qyolo")
    assert pid in seeded.paper_ids(Query(search="yolo"))
    assert seeded.paper_ids(Query(search="zebrafish")) == []
    seeded.add_tags([pid], ["zebrafish"])
    assert seeded.paper_ids(Query(search="zebrafish")) == [pid]
    seeded.remove_tags([pid], ["zebrafish"])
    note = seeded.add_note(pid, "compare with platypus detectors").new_note
    assert seeded.paper_ids(Query(search="platypus")) == [pid]
    seeded.update_note(note, "nothing")
    assert seeded.paper_ids(Query(search="platypus")) == []
    seeded.update_fields(pid, {"title": "Axolotl detection"})
    assert seeded.paper_ids(Query(search="axolotl")) == [pid]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("author:huixin", {"wang2023qyolo"}),
        ("title:q-yolo", {"wang2023qyolo"}),
        ('"object detection"', {"wang2023qyolo"}),
        ("year:2023 yolo", {"wang2023qyolo"}),
        ('year:2022..2022 "flat minima"', {"wu2022alignmentpropertysgd"}),
        ("yolo -quantization", set()),
    ],
)
def test_search_syntax(seeded: Library, query: str, expected: set[str]) -> None:
    rows = seeded.rows(seeded.paper_ids(Query(search=query)))
    assert {r.key for r in rows.values()} == expected


def test_search_sorts_in_sql_by_any_column(seeded: Library) -> None:
    ids = seeded.paper_ids(sort="year", descending=True)
    years = [seeded.rows([i])[i].year for i in ids]
    assert years == sorted(years, reverse=True)
    titles = [seeded.rows([i])[i].title.lower() for i in seeded.paper_ids(sort="title")]
    assert titles == sorted(titles)
    with pytest.raises(ValueError):
        seeded.paper_ids(sort="title; DROP TABLE papers")


def test_edit_keeps_other_fields_and_marks_entry_edited(seeded: Library) -> None:
    pid = seeded.id_for_key("wang2023qyolo")
    before = seeded.entry_text(pid)
    assert not seeded.paper(pid).edited
    seeded.update_fields(pid, {"title": "Fast & small: Q-YOLO", "pages": "1--9"})
    p = seeded.paper(pid)
    assert p.edited and p.title == "Fast & small: Q-YOLO"
    assert p.raw("title") == r"{Fast \& small: Q-YOLO}"
    assert p.raw("abstract") == seeded.paper(pid).raw("abstract")
    assert seeded.entry_text(pid) != before
    assert "pages" in seeded.entry_text(pid)


def test_user_text_cannot_break_out_of_its_field(seeded: Library) -> None:
    pid = seeded.paper_ids()[0]
    seeded.update_fields(pid, {"title": "evil}, author = {Hacker", "note": "100% {open"})
    text = seeded.entry_text(pid)
    from citedesk.db import parse_text

    parsed = parse_text(text)
    assert not parsed.failures and len(parsed.entries) == 1
    fields = dict(parsed.entries[0].fields)
    assert "Hacker" not in fields["author"]


def test_delete_and_restore_bring_back_tags_notes_and_key(seeded: Library) -> None:
    pid = seeded.id_for_key("wang2023qyolo")
    seeded.add_tags([pid], ["cv"])
    seeded.add_note(pid, "keep me")
    deleted = seeded.delete_papers([pid])
    assert seeded.count() == 24 and seeded.id_for_key("wang2023qyolo") is None
    assert seeded.paper_ids(Query(search="yolo")) == []
    assert deleted.undo is not None
    seeded.undo(deleted.undo)
    p = seeded.paper_by_key("wang2023qyolo")
    assert p.id == pid and p.tags == ["cv"] and [n.body for n in p.notes] == ["keep me"]
    assert seeded.paper_ids(Query(search="yolo")) == [pid]


def test_unknown_key_is_a_clear_error(seeded: Library) -> None:
    with pytest.raises(UnknownPaperError, match="no paper with citation key 'nope'"):
        seeded.paper_by_key("nope")


def test_new_paper_gets_a_generated_unique_key(empty_lib: Library) -> None:
    fields = {"author": "Wang, Mingze", "title": "Q-YOLO: Efficient Inference", "year": "2023"}
    first = empty_lib.add_paper(fields, "article").new_paper
    second = empty_lib.add_paper(fields, "article").new_paper
    third = empty_lib.add_paper(fields, "article").new_paper
    keys = [empty_lib.paper(i).key for i in (first, second, third)]
    assert keys == ["wang2023qyolo", "wang2023qyoloa", "wang2023qyolob"]


def test_set_key_keeps_old_key_as_alias(seeded: Library) -> None:
    pid = seeded.id_for_key("wang2023qyolo")
    seeded.set_key(pid, "QYOLO2023")
    assert seeded.id_for_key("wang2023qyolo") == pid
    assert seeded.paper(pid).aliases == ["wang2023qyolo"]
    with pytest.raises(LibraryError, match="already used"):
        seeded.set_key(
            seeded.paper_ids()[0] if seeded.paper_ids()[0] != pid else seeded.paper_ids()[1],
            "qyolo2023",
        )


def test_failed_write_leaves_nothing_behind(seeded: Library) -> None:
    pid = seeded.paper_ids()[0]
    with pytest.raises(LibraryError):
        seeded.set_fields_raw(pid, [("title", "{unbalanced")])
    assert seeded.paper(pid).raw("title") is not None
    assert seeded.paper(pid).raw("title") != "{unbalanced"
    assert seeded.conn.in_transaction is False


def test_shared_dois_are_kept_and_found_placeholders_never_match(tmp_path) -> None:
    """Issue 11: only a taken key makes a duplicate; the duplicates finder shows shared DOIs."""
    src = tmp_path / "dois.bib"
    src.write_text(
        "@article{pre, title = {A preprint}, doi = {10.5555/shared.1}}\n"
        "@article{pub, title = {The article}, doi = {10.5555/SHARED.1}}\n"
        "@misc{p1, title = {Unknown one}, doi = {????}}\n"
        "@misc{p2, title = {Unknown two}, doi = {????}}\n"
        "@misc{p3, title = {Unknown three}, doi = {10.1000/-}}\n"
        "@misc{p4, title = {Unknown four}, doi = {10.1000/-}}\n"
    )
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        report = lib.import_files([src])
        assert report.added == ["pre", "pub", "p1", "p2", "p3", "p4"]
        assert report.duplicates == []
        assert (
            len(report.warnings) == 1
            and "pub has DOI 10.5555/SHARED.1, as pre" in report.warnings[0]
        )
        groups = [[lib.paper(pid).key for pid in g] for g in lib.find_duplicates()]
        assert groups == [["pre", "pub"]]


def test_a_schema_3_library_keeps_its_export_through_migration_4(tmp_path) -> None:
    """Migration 4 gives existing papers and blocks places in the order exports used."""
    import sqlite3

    from citedesk.db.schema import MIGRATIONS

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:3]:
        conn.executescript(script)
    conn.executescript("""
        PRAGMA user_version = 3;
        INSERT INTO blocks(kind, name, value, source) VALUES
            ('comment', NULL, 'c', '@comment{c}'),
            ('string', 'j', '{J}', '@string{j = {J}}'),
            ('preamble', NULL, '"p"', '@preamble{"p"}');
        INSERT INTO papers(id, key, entry_type, fields, source, added, modified) VALUES
            (2, 'b', 'misc', '[["journal", "j"]]', '@misc{b, journal = j}', '2020', '2020'),
            (1, 'a', 'misc', '[]', '@misc{a,}', '2021', '2021');
    """)
    conn.close()
    with Library.open(path) as lib:
        assert lib.export_text()[0] == (
            '@preamble{"p"}\n\n@string{j = {J}}\n\n'
            "@misc{b, journal = j}\n\n@misc{a,}\n\n@comment{c}\n"
        )
        pid = lib.add_paper({"title": "New"}, "misc", key="c").new_paper
        assert lib.export_text()[0].endswith("@comment{c}\n\n" + lib.entry_text(pid) + "\n")
