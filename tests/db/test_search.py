"""Whatever is typed into search returns results or a hint, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citedesk.db import Library, Query
from citedesk.db.schema import SCHEMA_VERSION
from citedesk.db.search import parse_query

HOSTILE = [
    '"',
    '""',
    "(",
    ")",
    "AND",
    "OR",
    "NOT",
    "NEAR(a b)",
    "*",
    "-",
    ":",
    "title:",
    "year:",
    "year:abc",
    "year:..",
    "tag:",
    "a OR",
    '"unclosed',
    "🙂",
    "x" * 10_000,
    "^",
    "col:val",
    '-"',
    "---",
    "{",
    "\\",
    "'",
    'author:"',
    "NEAR",
    "AND AND",
]


def test_hostile_queries_never_raise(seeded: Library) -> None:
    for text in HOSTILE:
        seeded.paper_ids(Query(search=text))
        seeded.count(Query(search=text))


def test_bad_year_gives_a_hint() -> None:
    assert "year:abc" in (parse_query("year:abc").hint or "")
    assert parse_query("sgd").hint is None


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=60))
def test_any_text_is_a_valid_query(seeded: Library, text: str) -> None:
    seeded.paper_ids(Query(search=text))


# -- abstracts have an index of their own (schema migration 3) ----------------------------------

ABSTRACTS_BIB = """
@article{zoo1, title = {Counting animals}, author = {Keller, Ann},
  abstract = {We photograph quokkas and an ox at dawn.}, year = 2020}
@article{zoo2, title = {Quiet rooms}, author = {Lund, Bo},
  abstract = {Nothing about animals here.}, year = 2021}
@article{zoo3, title = {Gradient methods}, author = {Moss, Cy},
  abstract = {A descent that converges.}, year = 2022}
"""


def _keys(lib: Library, text: str) -> set[str]:
    return {r.key for r in lib.rows(lib.paper_ids(Query(search=text))).values()}


@pytest.fixture
def zoo(tmp_path: Path) -> Library:
    path = tmp_path / "zoo.bib"
    path.write_text(ABSTRACTS_BIB, encoding="utf-8")
    lib = Library.open(tmp_path / "zoo.sqlite", seed=False)
    assert len(lib.import_files([path]).added) == 3
    yield lib
    lib.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("quokka", {"zoo1"}),  # three letters or more: the start of abstract words
        ("quo", {"zoo1"}),
        ("qu", {"zoo2"}),  # two letters: the start of title words ("Quiet") ...
        ("ox", {"zoo1"}),  # ... and whole abstract words ("ox")
        ("o", set()),  # no title, author or venue word starts with o
        ("abstract:qu", {"zoo1"}),  # asked for: the start of abstract words however short
        ("abstract:quiet", set()),  # the title is not the abstract
        ("gradient descent", {"zoo3"}),  # one word in the title, one in the abstract
        ("gradient -desc", set()),  # excluded through the abstract
        ("animals -quokkas", {"zoo2"}),
        ('"at dawn"', {"zoo1"}),  # a phrase inside an abstract
        ("title:animals", {"zoo1"}),
        ("year:2022 conv", {"zoo3"}),  # words with a condition take the SQL path
    ],
)
def test_words_find_abstracts_by_their_own_index(
    zoo: Library, query: str, expected: set[str]
) -> None:
    assert _keys(zoo, query) == expected
    assert zoo.count(Query(search=query)) == len(expected)
    # Paged (the first screen of the table) and whole-list answers agree.
    assert set(zoo.paper_ids(Query(search=query), limit=50)) == set(
        zoo.paper_ids(Query(search=query))
    )


def test_an_edited_abstract_is_found_by_its_new_words_only(zoo: Library) -> None:
    pid = zoo.id_for_key("zoo2")
    zoo.update_fields(pid, {"abstract": "Platypus sightings."})
    assert _keys(zoo, "platyp") == {"zoo2"}
    assert _keys(zoo, "nothing") == set()
    deleted = zoo.delete_papers([pid])
    assert _keys(zoo, "platyp") == set()
    assert zoo.conn.execute("SELECT count(*) FROM papers_abstract").fetchone()[0] == 2
    assert deleted.undo is not None
    zoo.undo(deleted.undo)  # undoing the delete
    assert _keys(zoo, "platyp") == {"zoo2"}


#: What migrations 4 to 7 added, taken away again: a file as Citedesk 1-3 left it.
SCHEMA_3_BLOCKS = """
    DROP TABLE sync_base;
    DROP TABLE sync_dirty;
    DROP TABLE sync_conflicts;
    DROP INDEX papers_uid;
    DROP INDEX notes_uid;
    ALTER TABLE papers DROP COLUMN uid;
    ALTER TABLE notes DROP COLUMN uid;
    ALTER TABLE notes DROP COLUMN shared;
    DROP INDEX papers_queue;
    DROP INDEX papers_opened;
    ALTER TABLE papers DROP COLUMN opened;
    DROP TABLE lookup_cache;
    DROP TABLE annotation_notes;
    DROP TABLE pages_fts;
    DROP TABLE documents;
    DROP TABLE file_moves;
    DROP TABLE attachments;
    CREATE TABLE blocks_old (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('string', 'preamble', 'comment')),
        name TEXT, value TEXT NOT NULL, source TEXT NOT NULL);
    INSERT INTO blocks_old SELECT id, kind, name, value, source FROM blocks
        WHERE kind != 'text';
    DROP TABLE blocks;
    ALTER TABLE blocks_old RENAME TO blocks;
    CREATE UNIQUE INDEX blocks_string ON blocks(name COLLATE NOCASE) WHERE kind = 'string';
    DROP TABLE files;
    DROP INDEX papers_pos;
    ALTER TABLE papers DROP COLUMN pos;
    ALTER TABLE papers DROP COLUMN lead;
"""


def test_a_schema_2_library_moves_its_abstracts_to_their_index(tmp_path: Path) -> None:
    """Migration 3 rebuilds the word index without abstracts and fills the abstract one."""
    import sqlite3

    path = tmp_path / "old.sqlite"
    with Library.open(path) as lib:
        pid = lib.id_for_key("wang2023qyolo")
        lib.add_note(pid, "axolotl")
    # The file as Citedesk 2 left it: one index with the abstracts in it.
    conn = sqlite3.connect(path)
    conn.executescript(
        SCHEMA_3_BLOCKS
        + """
        DROP TABLE papers_abstract;
        DROP TABLE papers_fts;
        CREATE VIRTUAL TABLE papers_fts USING fts5(
            title, authors, abstract, venue, keywords, tags, notes,
            tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');
        INSERT INTO papers_fts(rowid, title, authors, abstract, venue, keywords, tags, notes)
            SELECT p.id, p.title, p.authors_full, p.abstract, p.venue, p.keywords, p.tags,
                   coalesce((SELECT group_concat(body, ' ') FROM notes n
                             WHERE n.paper_id = p.id), '') FROM papers p;
        PRAGMA user_version = 2;
    """
    )
    conn.close()
    with Library.open(path) as lib:
        assert lib.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert "abstract" not in [r[1] for r in lib.conn.execute("PRAGMA table_info(papers_fts)")]
        with_abstract = lib.conn.execute(
            "SELECT count(*) FROM papers WHERE abstract != ''"
        ).fetchone()[0]
        assert with_abstract == 25
        assert lib.conn.execute("SELECT count(*) FROM papers_abstract").fetchone()[0] == 25
        assert lib.paper_ids(Query(search="axolotl")) == [pid]  # notes came along
        word = max(lib.paper(pid).abstract.split(), key=len).strip(".,;:()").lower()
        assert pid in lib.paper_ids(Query(search=word))
        assert pid in lib.paper_ids(Query(search="yolo"))
    assert list(tmp_path.glob("old.sqlite.v2-*.bak")), "a backup is made before migrating"
