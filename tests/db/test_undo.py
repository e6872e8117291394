"""Every write returns what it changed and its undo, captured in its own transaction.

Each edit kind is made on a real library file, undone from the ``db.Undo`` it returned and
redone from the undo's own; the whole library (every table, both search indexes, the
export) must be exactly as before the edit, then exactly as after it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from citedesk.db import AUTOEXPORTS, BACKUP_KEEP, Changes, Library, LibraryError, Query

TABLES = (
    "papers",
    "persons",
    "tags",
    "paper_tags",
    "notes",
    "key_aliases",
    "blocks",
    "files",
    "attachments",
    "annotation_notes",
)

SOURCE = """% My reading list
@string{jfr = {Journal of Field Robotics}}

@article{alpha2020, author = {Li, Ann and Wu, Bo}, title = {Alpha robots}, year = 2020,
  journal = jfr, abstract = {Platypus detectors in the wild}}

@inproceedings{beta2021, author = {Li, Ann}, title = {Beta robots}, year = 2021,
  booktitle = {Proc. Robots}, doi = {10.1/beta}}

@misc{gamma, title = {Gamma notes}, year = 2019}
"""


def dump(lib: Library) -> dict[str, Any]:
    """Everything a library holds, in a form that compares exactly."""
    out: dict[str, Any] = {}
    for table in TABLES:
        # An undo is a change of its own: it stamps the papers it touches as modified now.
        columns = [
            name
            for _, name, *_ in lib.conn.execute(f"PRAGMA table_info({table})")
            if (table, name) != ("papers", "modified")
        ]
        cur = lib.conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1, 2")
        out[table] = cur.fetchall()
    out["settings"] = lib.conn.execute("SELECT * FROM settings ORDER BY name").fetchall()
    for table in ("papers_fts", "papers_abstract"):
        out[table] = lib.conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()
    out["export"] = lib.export_text()
    # Stored files on disk (the trash aside): their names and contents.
    out["stored files"] = sorted(
        (str(f.relative_to(lib.files_dir)), f.read_bytes())
        for f in (lib.files_dir.rglob("*") if lib.files_dir.is_dir() else [])
        if f.is_file() and ".trash" not in f.parts
    )
    out["search"] = [
        lib.paper_ids(Query(search=word)) for word in ("platypus", "robots", "theory", "idea")
    ]
    return out


@pytest.fixture
def lib(tmp_path: Path) -> Library:
    lib = Library.open(tmp_path / "undo.sqlite", seed=False)
    src = tmp_path / "reading.bib"
    src.write_text(SOURCE)
    lib.import_files([src])
    lib.add_tags([lib.require_key("alpha2020")], ["theory"])
    lib.set_tag_color("theory", "#aa3300")
    lib.add_note(lib.require_key("beta2021"), "an idea worth keeping")
    for key, body in [("gamma", b"%PDF-1.4 gamma"), ("beta2021", b"%PDF-1.4 beta")]:
        (tmp_path / f"{key}.pdf").write_bytes(body)
        lib.attach(lib.require_key(key), [tmp_path / f"{key}.pdf"])
    (tmp_path / "slides.pdf").write_bytes(b"%PDF-1.4 slides")
    return lib


def _id(lib: Library, key: str) -> int:
    return lib.require_key(key)


def _note(lib: Library) -> int:
    return lib.notes(_id(lib, "beta2021"))[0].id


EDITS: dict[str, Callable[[Library], Changes]] = {
    "fields": lambda lib: lib.update_fields(_id(lib, "alpha2020"), {"title": "Robots, again"}),
    "remove a field": lambda lib: lib.update_fields(_id(lib, "alpha2020"), {"abstract": None}),
    "entry type": lambda lib: lib.set_entry_type(_id(lib, "gamma"), "book"),
    "key": lambda lib: lib.set_key(_id(lib, "gamma"), "gamma2019"),
    "add tags": lambda lib: lib.add_tags(
        [_id(lib, "alpha2020"), _id(lib, "gamma")], ["new", "theory"]
    ),
    "remove tags": lambda lib: lib.remove_tags([_id(lib, "alpha2020")], ["theory"]),
    "set tags": lambda lib: lib.set_tags(_id(lib, "alpha2020"), ["other", "more"]),
    "rename tag": lambda lib: lib.rename_tag("theory", "Theory of robots"),
    "rename onto a tag": lambda lib: (
        lib.add_tags([_id(lib, "gamma")], ["maths"]),
        lib.rename_tag("theory", "maths"),
    )[1],
    "merge tags": lambda lib: (
        lib.add_tags([_id(lib, "gamma")], ["maths"]),
        lib.merge_tags(["theory", "maths"], "reading group"),
    )[1],
    "delete tag": lambda lib: lib.delete_tag("theory"),
    "recolour tag": lambda lib: lib.set_tag_color("theory", None),
    "status": lambda lib: lib.set_status([_id(lib, "alpha2020"), _id(lib, "gamma")], "read"),
    "rating": lambda lib: lib.set_rating([_id(lib, "beta2021")], 4),
    "add note": lambda lib: lib.add_note(_id(lib, "alpha2020"), "# Idea\nmore"),
    "edit note": lambda lib: lib.update_note(_note(lib), "a better idea"),
    "delete note": lambda lib: lib.delete_note(_note(lib)),
    "add paper": lambda lib: lib.add_paper({"title": "Delta", "author": "Zhu, Q"}, "misc"),
    "delete papers": lambda lib: lib.delete_papers([_id(lib, "alpha2020"), _id(lib, "beta2021")]),
    "merge papers": lambda lib: lib.merge_papers(_id(lib, "alpha2020"), [_id(lib, "beta2021")]),
    "regenerate keys": lambda lib: lib.regenerate_keys(None, "[auth][year]"),
    "import": lambda lib: (
        lib.import_text(
            "@string{x = {Ex}}\n@article{new1, title = {New}, journal = x}\n% the end\n"
        ).changes
    ),
    "delete an import": lambda lib: lib.delete_import(IMPORTED[lib.path]),
    "attach a file": lambda lib: lib.attach(
        _id(lib, "alpha2020"), [lib.path.parent / "slides.pdf"]
    ),
    "link a file": lambda lib: lib.attach(
        _id(lib, "gamma"), [lib.path.parent / "slides.pdf"], store=False
    ),
    "detach a file": lambda lib: lib.detach([lib.attachments_of(_id(lib, "gamma"))[0].id]),
    "rename a file": lambda lib: lib.rename_attachment(
        lib.attachments_of(_id(lib, "beta2021"))[0].id, "my name.pdf"
    ),
    "file role": lambda lib: lib.set_attachment_role(
        lib.attachments_of(_id(lib, "beta2021"))[0].id, "supplement"
    ),
    "key pattern": lambda lib: lib.set_key_pattern("[auth:lower][year]"),
    "backups kept": lambda lib: lib.change_setting(BACKUP_KEEP, 3),
    "auto-export": lambda lib: lib.add_autoexport(lib.path.parent / "out.bib", tag="theory"),
}


#: The import "delete an import" takes back, made before the library is looked at.
IMPORTED: dict[Path, Any] = {}


@pytest.mark.parametrize("edit", list(EDITS))
def test_every_edit_undoes_and_redoes_exactly(lib: Library, edit: str) -> None:
    if edit in ("rename onto a tag", "merge tags"):
        lib.add_tags([_id(lib, "gamma")], ["maths"])  # so the edit itself only renames
    if edit == "delete an import":
        IMPORTED[lib.path] = lib.import_text("@string{n = {N}}\n@misc{n2, title = n}\n")
    before = dump(lib)

    changes = EDITS[edit](lib)

    assert changes, "the edit says it changed nothing"
    assert changes.undo is not None
    after = dump(lib)
    assert after != before
    undone = lib.undo(changes.undo)
    assert dump(lib) == before
    assert undone.undo is not None
    redone = lib.undo(undone.undo)
    assert dump(lib) == after
    # ... and so on, as often as a person presses Ctrl+Z and Ctrl+Shift+Z.
    assert redone.undo is not None
    lib.undo(redone.undo)
    assert dump(lib) == before


def test_undo_says_what_it_changed(lib: Library) -> None:
    made = lib.add_paper({"title": "Delta"}, "misc")
    assert made.added == {made.new_paper} and made.status
    undone = lib.undo(made.undo)  # type: ignore[arg-type]
    assert undone.removed == made.added and not undone.added
    deleted = lib.delete_papers([_id(lib, "gamma")])
    assert deleted.removed == {deleted.undo.changes.added.pop()}  # type: ignore[union-attr]
    keys = lib.set_key(_id(lib, "beta2021"), "b21")
    assert keys.keys == {_id(lib, "b21"): ("beta2021", "b21")}
    assert lib.undo(keys.undo).keys == {_id(lib, "beta2021"): ("b21", "beta2021")}  # type: ignore[arg-type]


def test_tag_writes_that_change_nothing_say_so(lib: Library) -> None:
    alpha, gamma = _id(lib, "alpha2020"), _id(lib, "gamma")
    assert not lib.add_tags([alpha], ["theory"])  # it has it already
    assert not lib.add_tags([alpha], ["  Theory "])  # the same tag, spelled otherwise
    assert not lib.remove_tags([gamma], ["theory"])  # it never had it
    assert not lib.remove_tags([alpha], ["no such tag"])
    assert not lib.merge_tags(["no such tag"], "theory")
    assert not lib.merge_tags(["theory"], "theory")
    assert not lib.rename_tag("theory", "theory")
    assert not lib.set_tag_color("theory", "#aa3300")
    assert not lib.set_status([alpha], "unread")
    assert not lib.set_rating([alpha], 0)
    assert not lib.delete_tag("no such tag")
    assert not lib.set_entry_type(alpha, "article")


def test_tag_changes_count_what_each_tag_gained(lib: Library) -> None:
    ids = [_id(lib, k) for k in ("alpha2020", "beta2021", "gamma")]
    added = lib.add_tags(ids, ["theory", "fresh"])
    assert added.tag_counts == {"theory": 2, "fresh": 3}
    assert added.tags_made == {"fresh"} and not added.tag_list
    removed = lib.remove_tags(ids[:1], ["fresh", "theory"])
    assert removed.tag_counts == {"fresh": -1, "theory": -1}
    renamed = lib.rename_tag("fresh", "Fresh ideas")
    assert renamed.tag_list and renamed.papers == set(ids[1:])


def test_reads_never_write(lib: Library) -> None:
    """Previewing key regeneration and finding duplicates only read (no rolled-back write)."""
    lib.import_text("@article{dup, title = {Alpha robots}, author = {Li, Ann}, year = 2020}")
    statements: list[str] = []
    lib.conn.set_trace_callback(statements.append)
    try:
        plan = lib.plan_keys(None, "[auth][year]")
        groups = lib.find_duplicates()
    finally:
        lib.conn.set_trace_callback(None)
    assert plan and groups
    reads = ("SELECT", "WITH", "PRAGMA DATA_VERSION")
    writes = [s for s in statements if not s.upper().startswith(reads)]
    assert writes == []
    assert lib.regenerate_keys(None, "[auth][year]").keys == plan


def test_an_undo_the_library_no_longer_allows_changes_nothing(lib: Library) -> None:
    renamed = lib.set_key(_id(lib, "gamma"), "gamma2019", keep_alias=False)
    lib.add_paper({"title": "Another"}, "misc", key="gamma")  # someone takes the old key
    before = dump(lib)
    with pytest.raises(LibraryError, match="changed meanwhile"):
        lib.undo(renamed.undo)  # type: ignore[arg-type]
    assert dump(lib) == before


def test_settings_writes_name_the_setting(lib: Library) -> None:
    assert lib.change_setting(BACKUP_KEEP, 4).settings == {BACKUP_KEEP.name}
    changes = lib.add_autoexport(lib.path.parent / "all.bib")
    assert changes.settings == {AUTOEXPORTS.name}
    assert lib.remove_autoexport(lib.path.parent / "all.bib").settings == {AUTOEXPORTS.name}
    assert lib.set_key_pattern("[auth][year]").settings == {"key_pattern"}
