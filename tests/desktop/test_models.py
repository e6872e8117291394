"""The item models: ids plus a small row cache for the table, counts for the sidebar."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt

from citedesk import db
from citedesk.hub import LibraryEvents
from citedesk.models import (
    COLUMNS,
    COUNT_ROLE,
    FILTER_ROLE,
    PAPER_ID_ROLE,
    RECENT_DAYS,
    TAG_LIST_ROLE,
    Column,
    NodeKind,
    PaperTableModel,
    SidebarFilter,
    SidebarModel,
    stars,
)


def many_papers_bib(n: int) -> str:
    return "\n".join(
        f"@article{{gen{i:04d}, author = {{Author{i % 37}, A.}}, title = {{Paper number {i}}},"
        f" journal = {{J{i % 5}}}, year = {{{1990 + i % 35}}}}}"
        for i in range(n)
    )


@pytest.fixture
def big_library(tmp_path: Path):
    lib = db.Library.open(tmp_path / "big.sqlite", seed=False)
    lib.import_text(many_papers_bib(1200))
    yield lib
    lib.close()


def titles(model: PaperTableModel) -> list[str]:
    return [model.index(r, Column.TITLE).data() for r in range(model.rowCount())]


def column_values(model: PaperTableModel, column: Column) -> list[str]:
    return [model.index(r, column).data() for r in range(model.rowCount())]


# -- PaperTableModel -----------------------------------------------------------------------------


def test_paper_model_passes_qtmodeltester(
    qtmodeltester, library: db.Library, events: LibraryEvents
) -> None:
    model = PaperTableModel(library, events)
    qtmodeltester.check(model)


def test_paper_model_passes_qtmodeltester_through_search_sort_and_changes(
    qtmodeltester, library: db.Library, events: LibraryEvents
) -> None:
    model = PaperTableModel(library, events)
    model.set_query(db.Query(search="sgd"))
    model.sort(Column.YEAR, Qt.SortOrder.AscendingOrder)
    events.changed.emit(library.add_tags([1, 2, 3], ["theory"]))
    qtmodeltester.check(model)


def test_paper_model_shows_the_columns_of_a_row(library: db.Library) -> None:
    library.add_tags([4], ["theory", "sgd"])
    library.set_rating([4], 3)
    model = PaperTableModel(library)
    row = model.row_of(4)
    assert row is not None
    r = library.rows([4])[4]
    assert model.index(row, Column.TITLE).data() == r.title
    assert model.index(row, Column.AUTHORS).data() == "Wang & Ma"
    assert model.index(row, Column.YEAR).data() == "2022"
    assert model.index(row, Column.TAGS).data() == "sgd, theory"
    assert model.index(row, Column.STATUS).data() == "Unread"
    assert model.index(row, Column.RATING).data() == "★★★☆☆"
    assert len(model.index(row, Column.ADDED).data()) == 10  # a date, no time
    assert model.index(row, Column.TAGS).data(TAG_LIST_ROLE) == [("sgd", None), ("theory", None)]
    assert model.index(row, 0).data(PAPER_ID_ROLE) == 4
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(COLUMNS))] == [
        "Title",
        "Authors",
        "Year",
        "Venue",
        "Tags",
        "Status",
        "Rating",
        "Added",
        "Key",
        "Opened",
    ]


def test_stars_show_nothing_for_unrated() -> None:
    assert stars(0) == ""
    assert stars(5) == "★★★★★"


def test_paper_model_fetches_rows_a_page_at_a_time_and_caches_few(
    big_library: db.Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = PaperTableModel(big_library)
    assert model.rowCount() == 1200
    asked: list[int] = []
    real_rows = big_library.rows

    def counting_rows(ids):
        asked.append(len(ids))
        return real_rows(ids)

    monkeypatch.setattr(big_library, "rows", counting_rows)
    for r in range(model.rowCount()):
        assert model.index(r, Column.TITLE).data()
    assert max(asked) <= PaperTableModel.PAGE
    assert len(asked) == 1200 // PaperTableModel.PAGE  # one query per page, not per row
    assert model.cached_count() <= PaperTableModel.CACHE_SIZE


def test_sorting_by_a_column_runs_a_new_query_in_sql(
    big_library: db.Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = PaperTableModel(big_library)
    calls: list[tuple[str, bool]] = []
    real = big_library.paper_ids

    def spy(query=None, sort="added", descending=False, limit=None, offset=0):
        calls.append((sort, descending))
        return real(query, sort=sort, descending=descending, limit=limit, offset=offset)

    monkeypatch.setattr(big_library, "paper_ids", spy)
    model.sort(Column.YEAR, Qt.SortOrder.AscendingOrder)
    years = [int(y) for y in column_values(model, Column.YEAR)]
    assert years == sorted(years)
    model.sort(Column.YEAR, Qt.SortOrder.DescendingOrder)
    years = [int(y) for y in column_values(model, Column.YEAR)]
    assert years == sorted(years, reverse=True)
    assert calls == [("year", False), ("year", True)]


def test_a_query_that_cannot_run_keeps_the_last_results(
    library: db.Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = PaperTableModel(library)
    assert model.set_query(db.Query(search="sgd"))
    before = titles(model)

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("fts5: syntax error")

    monkeypatch.setattr(library, "paper_ids", broken)
    assert model.set_query(db.Query(search="anything")) is False
    assert titles(model) == before
    assert model.query == db.Query(search="sgd")


def test_added_and_removed_papers_appear_and_vanish(
    library: db.Library, events: LibraryEvents
) -> None:
    model = PaperTableModel(library, events)
    pid = library.add_paper(
        {"title": "A new paper", "author": "Doe, Jane", "year": "2024"}
    ).new_paper
    events.changed.emit(db.Changes(added={pid}))
    assert model.rowCount() == 26
    assert model.row_of(pid) is not None
    library.delete_papers([pid])
    events.changed.emit(db.Changes(removed={pid}))
    assert model.rowCount() == 25
    assert model.row_of(pid) is None


def test_a_changed_paper_is_read_again_and_repainted(
    qtbot, library: db.Library, events: LibraryEvents
) -> None:
    model = PaperTableModel(library, events)
    row = model.row_of(7)
    assert row is not None
    assert model.index(row, Column.TAGS).data() == ""
    with qtbot.waitSignal(model.dataChanged) as blocker:
        events.changed.emit(library.add_tags([7], ["llm"]))
    top, bottom = blocker.args[0], blocker.args[1]
    assert top.row() <= row <= bottom.row()
    assert model.index(row, Column.TAGS).data() == "llm"


def test_a_change_that_moves_nothing_does_not_reset(
    qtbot, library: db.Library, events: LibraryEvents
) -> None:
    model = PaperTableModel(library, events)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    events.changed.emit(library.set_rating([3], 4))
    assert resets == []


def test_a_filtered_view_drops_a_paper_that_leaves_the_filter(
    library: db.Library, events: LibraryEvents
) -> None:
    library.add_tags([1, 2], ["theory"])
    model = PaperTableModel(library, events)
    model.set_query(db.Query(tag="theory"))
    assert model.rowCount() == 2
    events.changed.emit(library.remove_tags([1], ["theory"]))
    assert model.rowCount() == 1


# -- SidebarModel --------------------------------------------------------------------------------


def sidebar_rows(model: SidebarModel) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for r in range(model.rowCount()):
        top = model.index(r, 0)
        out[top.data()] = top.data(COUNT_ROLE)
        for c in range(model.rowCount(top)):
            child = model.index(c, 0, top)
            out[child.data()] = child.data(COUNT_ROLE)
    return out


def test_sidebar_model_passes_qtmodeltester(
    qtmodeltester, library: db.Library, events: LibraryEvents
) -> None:
    library.add_tags([1, 2, 3], ["theory"])
    library.add_tags([4], ["vision"])
    library.set_tag_color("theory", "#cc3333")
    model = SidebarModel(library, events)
    qtmodeltester.check(model)


def test_sidebar_model_passes_qtmodeltester_while_tags_come_and_go(
    qtmodeltester, library: db.Library, events: LibraryEvents
) -> None:
    model = SidebarModel(library, events)
    qtmodeltester.check(model)
    events.changed.emit(library.add_tags([1], ["alpha", "beta"]))
    events.changed.emit(library.delete_tag("alpha"))
    qtmodeltester.check(model)


def test_sidebar_counts_papers_statuses_and_tags(
    library: db.Library, events: LibraryEvents
) -> None:
    model = SidebarModel(library, events)
    rows = sidebar_rows(model)
    assert rows["All papers"] == 25
    assert rows["Recently added"] == 25  # the seeds were just added
    assert (rows["Unread"], rows["Reading"], rows["Read"]) == (25, 0, 0)
    assert rows["Reading status"] is None and rows["Tags"] is None  # headings
    events.changed.emit(library.set_status([1, 2], "reading"))
    events.changed.emit(library.add_tags([1, 2, 3], ["theory"]))
    rows = sidebar_rows(model)
    assert (rows["Unread"], rows["Reading"]) == (23, 2)
    assert rows["theory"] == 3


def test_sidebar_entries_carry_their_filter(library: db.Library) -> None:
    library.add_tags([5], ["optimisation"])
    model = SidebarModel(library)
    flt = SidebarFilter(NodeKind.TAG, "optimisation")
    index = model.index_for(flt)
    assert index.isValid() and index.data(FILTER_ROLE) == flt
    assert flt.query("adam") == db.Query(search="adam", tag="optimisation")
    assert SidebarFilter(NodeKind.STATUS, "read").query() == db.Query(status="read")
    assert SidebarFilter(NodeKind.RECENT).query() == db.Query(recent_days=RECENT_DAYS)
    heading = model.index(3, 0)
    assert heading.data(FILTER_ROLE) is None
    assert not (model.flags(heading) & Qt.ItemFlag.ItemIsSelectable)
    assert not model.index_for(SidebarFilter(NodeKind.TAG, "missing")).isValid()
    assert model.parent(QModelIndex()) == QModelIndex()
