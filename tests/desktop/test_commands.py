"""Undo commands: each edit's redo, undo and redo again on a real library."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from citedesk import commands, db
from citedesk.commands import (
    AddNoteCommand,
    AddPaperCommand,
    AddTagsCommand,
    DeleteNoteCommand,
    DeletePapersCommand,
    DeleteTagCommand,
    EditNoteCommand,
    ImportCommand,
    MergeTagsCommand,
    RemoveTagsCommand,
    RenameTagCommand,
    SetEntryTypeCommand,
    SetFieldsCommand,
    SetKeyCommand,
    SetRatingCommand,
    SetStatusCommand,
    SetTagColorCommand,
)
from citedesk.hub import LibraryEvents
from tests.desktop.helpers import new_note

NEW_BIB = """\
@article{knuth1984literate,
  author = {Knuth, Donald E.},
  title = {Literate Programming},
  journal = {The Computer Journal},
  year = {1984},
}
"""


@pytest.fixture
def ids(library: db.Library) -> list[int]:
    return library.paper_ids()


def tags_of(library: db.Library, paper_ids: list[int]) -> list[list[str]]:
    return [library.paper_tags(pid) for pid in paper_ids]


def test_set_fields_undo_restores_the_original_entry_text_byte_for_byte(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    pid = ids[0]
    before_text = library.entry_text(pid)
    before_fields = library.paper(pid).fields

    commands.push(
        undo_stack,
        SetFieldsCommand(library, events, pid, {"title": "A New Title", "note": "to read"}),
    )
    assert library.paper(pid).title == "A New Title"
    assert library.entry_source(pid) is None

    undo_stack.undo()
    assert library.entry_text(pid) == before_text
    assert library.paper(pid).fields == before_fields

    undo_stack.redo()
    assert library.paper(pid).text("note") == "to read"


def test_set_fields_that_change_nothing_leave_no_undo_step(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    title = library.paper(ids[0]).text("title")

    commands.push(undo_stack, SetFieldsCommand(library, events, ids[0], {"title": title}))

    assert undo_stack.count() == 0
    assert library.entry_source(ids[0]) is not None


def test_set_entry_type_undo_restores_type_and_text(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    before = library.entry_text(ids[0])

    commands.push(undo_stack, SetEntryTypeCommand(library, events, ids[0], "Article"))
    assert library.paper(ids[0]).entry_type == "article"
    undo_stack.undo()

    assert library.entry_text(ids[0]) == before


def test_set_key_round_trip_restores_key_text_and_aliases(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    pid = ids[0]
    old_key, before = library.paper(pid).key, library.entry_text(pid)

    commands.push(undo_stack, SetKeyCommand(library, events, pid, "zhang2026noise"))
    assert library.paper(pid).key == "zhang2026noise"
    assert library.paper(pid).aliases == [old_key]

    undo_stack.undo()
    assert library.entry_text(pid) == before
    assert library.paper(pid).aliases == []

    undo_stack.redo()
    assert library.id_for_key("zhang2026noise") == pid


def test_a_command_that_fails_is_not_pushed_and_changes_nothing(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    taken = library.paper(ids[1]).key
    before = library.entry_text(ids[0])

    error = commands.push(undo_stack, SetKeyCommand(library, events, ids[0], taken))

    assert isinstance(error, db.LibraryError)
    assert "already used" in str(error)
    assert undo_stack.count() == 0
    assert library.entry_text(ids[0]) == before


def test_an_undo_that_fails_leaves_the_library_whole_and_drops_the_step(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    old_key = library.paper(ids[0]).key
    commands.push(undo_stack, SetKeyCommand(library, events, ids[0], "renamed2026"))
    # Meanwhile another window drops the alias and gives the old key to a different paper.
    library.set_key(ids[0], old_key, keep_alias=False)
    library.set_key(ids[0], "renamed2026", keep_alias=False)
    library.set_key(ids[1], old_key)

    undo_stack.undo()

    assert library.paper(ids[0]).key == "renamed2026"
    assert undo_stack.count() == 0


def test_add_tags_undo_reverts_only_the_papers_that_changed(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    a, b = ids[:2]
    library.add_tags([a], ["theory"])

    commands.push(undo_stack, AddTagsCommand(library, events, [a, b], ["theory", "sgd"]))
    assert tags_of(library, [a, b]) == [["sgd", "theory"], ["sgd", "theory"]]

    undo_stack.undo()
    assert tags_of(library, [a, b]) == [["theory"], []]
    assert [t.name for t in library.tags()] == ["theory"]

    undo_stack.redo()
    assert tags_of(library, [a, b]) == [["sgd", "theory"], ["sgd", "theory"]]


def test_remove_tags_undo_retags_only_the_papers_that_had_the_tag(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    a, b = ids[:2]
    library.add_tags([a], ["theory"])
    library.set_tag_color("theory", "#aa3300")

    commands.push(undo_stack, RemoveTagsCommand(library, events, [a, b], ["theory"]))
    assert tags_of(library, [a, b]) == [[], []]

    undo_stack.undo()
    assert tags_of(library, [a, b]) == [["theory"], []]
    assert library.tag_color("theory") == "#aa3300"

    undo_stack.redo()
    assert tags_of(library, [a, b]) == [[], []]


def test_set_status_undo_restores_each_papers_own_status(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    a, b, c = ids[:3]
    library.set_status([a], "reading")
    library.set_status([b], "read")

    commands.push(undo_stack, SetStatusCommand(library, events, [a, b, c], "read"))
    assert {r.status for r in library.rows([a, b, c]).values()} == {"read"}

    undo_stack.undo()
    rows = library.rows([a, b, c])
    assert [rows[a].status, rows[b].status, rows[c].status] == ["reading", "read", "unread"]

    undo_stack.redo()
    assert {r.status for r in library.rows([a, b, c]).values()} == {"read"}


def test_set_rating_undo_restores_each_papers_own_rating(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    a, b = ids[:2]
    library.set_rating([a], 2)

    commands.push(undo_stack, SetRatingCommand(library, events, [a, b], 5))
    assert [r.rating for r in library.rows([a, b]).values()] == [5, 5]

    undo_stack.undo()
    rows = library.rows([a, b])
    assert [rows[a].rating, rows[b].rating] == [2, 0]

    undo_stack.redo()
    assert [r.rating for r in library.rows([a, b]).values()] == [5, 5]


def test_consecutive_edits_of_one_note_merge_into_one_undo_step(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    note = new_note(library, ids[0], "Start")

    for old, new in (
        ("Start", "Start."),
        ("Start.", "Start. More"),
        ("Start. More", "Start. More text"),
    ):
        commands.push(undo_stack, EditNoteCommand(library, events, note.id, old, new))
    assert undo_stack.count() == 1

    undo_stack.undo()
    assert library.note(note.id).body == "Start"

    undo_stack.redo()
    assert library.note(note.id).body == "Start. More text"


def test_edits_of_different_notes_stay_separate_steps(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    first, second = new_note(library, ids[0], "a"), new_note(library, ids[0], "b")

    commands.push(undo_stack, EditNoteCommand(library, events, first.id, "a", "a1"))
    commands.push(undo_stack, EditNoteCommand(library, events, second.id, "b", "b1"))

    assert undo_stack.count() == 2


def test_add_note_redo_after_undo_brings_back_the_same_note(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    command = AddNoteCommand(library, events, ids[0], "# Reading notes")
    commands.push(undo_stack, command)
    note = library.notes(ids[0])[0]

    undo_stack.undo()
    assert library.notes(ids[0]) == []

    undo_stack.redo()
    assert library.notes(ids[0]) == [note]


def test_delete_note_undo_restores_it_exactly(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    note = new_note(library, ids[0], "keep me")

    commands.push(undo_stack, DeleteNoteCommand(library, events, note.id))
    assert library.notes(ids[0]) == []

    undo_stack.undo()
    assert library.notes(ids[0]) == [note]

    undo_stack.redo()
    assert library.notes(ids[0]) == []


def test_delete_papers_undo_restores_tags_notes_and_key(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    pid = ids[0]
    library.add_tags([pid], ["theory"])
    note = new_note(library, pid, "important")
    key, text = library.paper(pid).key, library.entry_text(pid)

    commands.push(undo_stack, DeletePapersCommand(library, events, [pid, ids[1]]))
    assert library.count() == 23

    undo_stack.undo()
    assert library.count() == 25
    paper = library.paper(pid)
    assert (paper.key, paper.tags, paper.notes) == (key, ["theory"], [note])
    assert library.entry_text(pid) == text

    undo_stack.redo()
    assert library.id_for_key(key) is None


def test_add_paper_undo_deletes_it_and_redo_brings_back_the_same_paper(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack
) -> None:
    command = AddPaperCommand(
        library,
        events,
        {"title": "Literate Programming", "author": "Knuth, Donald E.", "year": "1984"},
    )
    commands.push(undo_stack, command)
    pid = command.paper_id
    assert pid is not None
    key = library.paper(pid).key

    undo_stack.undo()
    assert library.count() == 25

    undo_stack.redo()
    assert library.paper(pid).key == key


def test_import_command_does_not_import_twice_and_undo_redo_round_trips(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack
) -> None:
    report = library.import_text(NEW_BIB)
    assert library.count() == 26

    commands.push(undo_stack, ImportCommand(library, events, report))
    assert library.count() == 26

    undo_stack.undo()
    assert library.id_for_key("knuth1984literate") is None

    undo_stack.redo()
    assert library.paper_by_key("knuth1984literate").title == "Literate Programming"
    assert library.count() == 26


def test_an_import_that_added_nothing_leaves_no_undo_step(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack
) -> None:
    library.import_text(NEW_BIB)
    report = library.import_text(NEW_BIB)

    commands.push(undo_stack, ImportCommand(library, events, report))

    assert undo_stack.count() == 0


def test_rename_tag_round_trip(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    library.add_tags(ids[:2], ["Theroy"])

    commands.push(undo_stack, RenameTagCommand(library, events, "Theroy", "theory"))
    assert tags_of(library, ids[:2]) == [["theory"], ["theory"]]

    undo_stack.undo()
    assert tags_of(library, ids[:2]) == [["Theroy"], ["Theroy"]]

    undo_stack.redo()
    assert [t.name for t in library.tags()] == ["theory"]


def test_rename_onto_an_existing_tag_undo_separates_them_again(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    a, b, c = ids[:3]
    library.add_tags([a, b], ["ml"])
    library.add_tags([b, c], ["ML theory"])
    library.set_tag_color("ml", "#112233")

    commands.push(undo_stack, RenameTagCommand(library, events, "ml", "ML theory"))
    assert tags_of(library, [a, b, c]) == [["ML theory"]] * 3

    undo_stack.undo()
    assert tags_of(library, [a, b, c]) == [["ml"], ["ml", "ML theory"], ["ML theory"]]
    assert library.tag_color("ml") == "#112233"


def test_merge_tags_undo_restores_each_papers_tags_and_colours(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    a, b, c = ids[:3]
    library.add_tags([a], ["optim"])
    library.add_tags([b], ["optimisation"])
    library.set_tag_color("optimisation", "#00aa00")

    commands.push(
        undo_stack, MergeTagsCommand(library, events, ["optim", "optimisation"], "optimization")
    )
    assert tags_of(library, [a, b, c]) == [["optimization"], ["optimization"], []]

    undo_stack.undo()
    assert tags_of(library, [a, b, c]) == [["optim"], ["optimisation"], []]
    assert [(t.name, t.color) for t in library.tags()] == [
        ("optim", None),
        ("optimisation", "#00aa00"),
    ]

    undo_stack.redo()
    assert [t.name for t in library.tags()] == ["optimization"]


def test_delete_tag_undo_restores_its_papers_and_colour(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    library.add_tags(ids[:2], ["to-print"])
    library.set_tag_color("to-print", "#ff8800")

    commands.push(undo_stack, DeleteTagCommand(library, events, "to-print"))
    assert library.tags() == []

    undo_stack.undo()
    assert library.tags() == [db.TagInfo("to-print", "#ff8800", 2)]

    undo_stack.redo()
    assert library.tags() == []


def test_set_tag_color_round_trip(
    library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    library.add_tags(ids[:1], ["theory"])

    commands.push(undo_stack, SetTagColorCommand(library, events, "theory", "#3366cc"))
    assert library.tag_color("theory") == "#3366cc"

    undo_stack.undo()
    assert library.tag_color("theory") is None

    undo_stack.redo()
    assert library.tag_color("theory") == "#3366cc"


def test_commands_emit_their_changes_after_redo_and_undo(
    library: db.Library,
    events: LibraryEvents,
    undo_stack: QUndoStack,
    recorded: list[db.Changes],
    ids: list[int],
) -> None:
    commands.push(undo_stack, AddTagsCommand(library, events, [ids[0]], ["theory"]))
    undo_stack.undo()
    undo_stack.redo()

    assert [ids[0] in c.papers and c.tags for c in recorded] == [True, True, True]


def test_pushing_directly_on_the_stack_is_also_applied_once(
    library: db.Library,
    events: LibraryEvents,
    undo_stack: QUndoStack,
    recorded: list[db.Changes],
    ids: list[int],
) -> None:
    undo_stack.push(SetStatusCommand(library, events, [ids[0]], "reading"))

    assert library.rows([ids[0]])[ids[0]].status == "reading"
    assert len(recorded) == 1
    assert undo_stack.count() == 1


def test_push_with_a_parent_shows_the_error_without_blocking(
    qtbot: QtBot, library: db.Library, events: LibraryEvents, undo_stack: QUndoStack, ids: list[int]
) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    window.show()

    commands.push(undo_stack, SetKeyCommand(library, events, ids[0], "not a key"), window)

    box = window.findChild(QMessageBox)
    assert box is not None and box.isVisible()
    assert "cannot be a citation key" in box.informativeText()
    assert QApplication.activeModalWidget() is None
