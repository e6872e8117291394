"""Saved searches are kept in the library, undoable, and followed by auto-exports; the
reading queue lists unread and reading papers by priority, then the oldest added."""

from __future__ import annotations

from pathlib import Path

import pytest

from citedesk.db import Library, LibraryError, Query, SavedSearch, narrowed

QYOLO = "wang2023qyolo"


def test_a_saved_search_is_listed_with_its_query(seeded: Library) -> None:
    seeded.save_search("Quantised", Query(search="quantization", status="unread"))
    seeded.save_search("all tagged", Query(tag="theory"))
    assert seeded.saved_searches() == [
        SavedSearch("all tagged", Query(tag="theory")),
        SavedSearch("Quantised", Query(search="quantization", status="unread")),
    ]
    assert seeded.saved_query("quantised") == Query(search="quantization", status="unread")


def test_its_count_is_the_count_of_its_query(seeded: Library) -> None:
    seeded.save_search("yolo", Query(search="yolo"))
    query = seeded.saved_query("yolo")
    assert seeded.count(query) == seeded.count(Query(search="yolo")) > 0


def test_saved_searches_survive_reopening(seeded: Library, lib_path: Path) -> None:
    seeded.save_search("yolo", Query(search="yolo year:2020..", tag="vision"))
    seeded.close()
    with Library.open(lib_path) as again:
        assert again.saved_query("YOLO") == Query(search="yolo year:2020..", tag="vision")


def test_names_are_unique_without_case_and_not_empty(seeded: Library) -> None:
    seeded.save_search("Yolo", Query(search="yolo"))
    with pytest.raises(LibraryError, match="already called 'Yolo'"):
        seeded.save_search("yOLO", Query(search="other"))
    with pytest.raises(LibraryError, match="needs a name"):
        seeded.save_search("   ", Query(search="other"))


def test_an_unknown_name_is_named_in_the_error(seeded: Library) -> None:
    for call in (
        lambda: seeded.saved_query("nothing"),
        lambda: seeded.remove_saved_search("nothing"),
        lambda: seeded.rename_saved_search("nothing", "else"),
        lambda: seeded.update_saved_search("nothing", Query(search="x")),
    ):
        with pytest.raises(LibraryError, match="'nothing'"):
            call()


def test_only_text_tag_and_status_can_be_saved(seeded: Library) -> None:
    with pytest.raises(LibraryError, match="only the search text"):
        seeded.save_search("keys", Query(keys=("a",)))
    with pytest.raises(LibraryError, match="unknown reading status"):
        seeded.save_search("odd", Query(status="skimmed"))


def test_saving_is_undone_by_library_undo(seeded: Library) -> None:
    changes = seeded.save_search("yolo", Query(search="yolo"))
    assert changes.settings == {"saved_searches"} and changes.undo is not None
    redo = seeded.undo(changes.undo)
    assert seeded.saved_searches() == []
    assert redo.undo is not None
    seeded.undo(redo.undo)
    assert [s.name for s in seeded.saved_searches()] == ["yolo"]


def test_rename_update_and_remove_are_each_undone(seeded: Library) -> None:
    seeded.save_search("yolo", Query(search="yolo"))

    renamed = seeded.rename_saved_search("YOLO", "Detectors")
    assert [s.name for s in seeded.saved_searches()] == ["Detectors"]
    assert renamed.undo is not None
    seeded.undo(renamed.undo)
    assert [s.name for s in seeded.saved_searches()] == ["yolo"]

    updated = seeded.update_saved_search("yolo", Query(search="quantization", status="read"))
    assert seeded.saved_query("yolo") == Query(search="quantization", status="read")
    assert updated.undo is not None
    seeded.undo(updated.undo)
    assert seeded.saved_query("yolo") == Query(search="yolo")

    removed = seeded.remove_saved_search("yolo")
    assert seeded.saved_searches() == []
    assert removed.undo is not None
    seeded.undo(removed.undo)
    assert seeded.saved_query("yolo") == Query(search="yolo")


def test_a_change_of_case_only_is_a_rename(seeded: Library) -> None:
    seeded.save_search("yolo", Query(search="yolo"))
    assert seeded.rename_saved_search("yolo", "YOLO")
    assert [s.name for s in seeded.saved_searches()] == ["YOLO"]
    seeded.save_search("other", Query(search="x"))
    with pytest.raises(LibraryError, match="already called 'other'"):
        seeded.rename_saved_search("YOLO", "Other")


def test_updating_to_the_same_query_changes_nothing(seeded: Library) -> None:
    seeded.save_search("yolo", Query(search="yolo"))
    assert not seeded.update_saved_search("yolo", Query(search="yolo"))


def test_typed_words_narrow_a_saved_search(seeded: Library) -> None:
    saved = Query(search='"open quote', tag="t")
    assert narrowed(saved, " more ") == Query(search='"open quote" more', tag="t")
    assert narrowed(saved, "") is saved


def test_an_autoexport_follows_a_renamed_search_and_keeps_it_from_removal(
    seeded: Library, tmp_path: Path
) -> None:
    seeded.save_search("yolo", Query(search="yolo"))
    seeded.add_autoexport(tmp_path / "refs.bib", saved="YOLO")
    assert seeded.autoexports()[-1]["saved"] == "yolo"
    renamed = seeded.rename_saved_search("yolo", "detectors")
    assert seeded.autoexports()[-1]["saved"] == "detectors"
    with pytest.raises(LibraryError, match="refs.bib"):
        seeded.remove_saved_search("detectors")
    assert renamed.undo is not None
    seeded.undo(renamed.undo)  # both come back in one step
    assert seeded.autoexports()[-1]["saved"] == "yolo"
    assert [s.name for s in seeded.saved_searches()] == ["yolo"]


def test_an_autoexport_of_a_saved_search_writes_its_papers_as_it_is_at_each_run(
    seeded: Library, tmp_path: Path
) -> None:
    seeded.save_search("yolo", Query(search="yolo"))
    seeded.add_autoexport(tmp_path / "refs.bib", saved="yolo")
    spec = seeded.autoexports()[-1]
    ids = seeded.paper_ids(Query(search="yolo"))
    assert seeded.autoexport_data(spec).decode() == seeded.export_text(ids=ids)[0]
    seeded.update_saved_search("yolo", Query(status="read"))
    seeded.set_status(ids[:1], "read")
    assert seeded.autoexport_data(spec).decode() == seeded.export_text(ids=ids[:1])[0]
    with pytest.raises(LibraryError, match="a tag, an .aux file or a saved search"):
        seeded.add_autoexport(tmp_path / "two.bib", saved="yolo", tag="x")
    with pytest.raises(LibraryError, match="'gone'"):
        seeded.add_autoexport(tmp_path / "two.bib", saved="gone")


def test_the_reading_queue_is_unread_and_reading_by_rating_then_oldest(
    seeded: Library,
) -> None:
    ids = seeded.paper_ids(sort="added")
    seeded.set_status(ids[:3], "read")
    seeded.set_status(ids[3:5], "reading")
    seeded.set_rating([ids[10]], 5)
    seeded.set_rating([ids[4], ids[20]], 3)
    seeded.set_rating([ids[0]], 5)  # read: not in the queue

    queue = seeded.paper_ids(Query(queue=True), sort="title", descending=True)

    rest = [pid for pid in ids[3:] if pid not in (ids[10], ids[4], ids[20])]
    assert queue == [ids[10], ids[4], ids[20], *rest]
    assert seeded.count(Query(queue=True)) == 22


def test_mark_opened_is_kept_but_not_an_undo_step(seeded: Library) -> None:
    pid = seeded.id_for_key(QYOLO)
    assert pid is not None
    assert seeded.rows([pid])[pid].opened is None
    tagged = seeded.add_tags([pid], ["theory"])

    opened = seeded.mark_opened(pid)

    assert opened.papers == {pid} and opened.undo is None
    when = seeded.rows([pid])[pid].opened
    assert when is not None
    record = next(r for r in seeded.records(Query(ids=(pid,))))
    assert record["opened"] == when
    assert tagged.undo is not None
    seeded.undo(tagged.undo)  # the edit before it is still the one undone
    assert "theory" not in seeded.paper(pid).tags
    with pytest.raises(LibraryError, match="no paper with id"):
        seeded.mark_opened(10**9)
