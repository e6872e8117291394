"""The paper table's columns as a person reads them, through the real window: the Key
column, titles written in LaTeX, the short author forms, the Rating sort, and a key or DOI
typed in the search box."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QLineEdit

from citedesk import db
from citedesk.mainwindow import MainWindow
from citedesk.models import COLUMNS, Column

EXAMPLES = Path("texlive") / "biblatex-examples.bib"

EXTRA = r"""
@article{Math2024,
  title = {The $O(n^2)$ bound for $\alpha$-helices in M{\"u}ller's
           model},
  author = {Wang, Mingze and E, Weinan},
  year = {2024},
  doi = {10.48550/arXiv.2405.12345},
  abstract = {We prove that $\mathbb{R}^d$ has $x_i \leq 2$ for all
              $i$~-- see \mkbibquote{below}.},
}
@misc{three2024,
  title = {Three authors},
  author = {Wang, A and Zhou, B and Li, C},
  year = {2024},
}
@misc{notitle2024,
  author = {Nobody, N},
  year = {2024},
}
"""


@pytest.fixture
def library_path(lib_path: Path, bibdata: Path) -> Path:
    """The seeded library with biblatex's examples and a few papers of our own, rated."""
    lib = db.Library.open(lib_path)
    try:
        report = lib.import_files([bibdata / EXAMPLES])
        assert report.added
        lib.import_text(EXTRA)
        lib.set_rating([lib.paper_by_key("three2024").id], 5)
        lib.set_rating([lib.paper_by_key("Math2024").id], 2)
    finally:
        lib.close()
    return lib_path


def row_of(window: MainWindow, key: str) -> int:
    pid = window.library.paper_by_key(key).id
    row = window.paper_model.row_of(pid)
    assert row is not None, key
    return row


def cell(window: MainWindow, key: str, column: Column, role=Qt.ItemDataRole.DisplayRole):
    return window.paper_model.index(row_of(window, key), column).data(role)


def click_header(qtbot, window: MainWindow, column: Column) -> None:
    header = window.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
    )


def click_paper(qtbot, window: MainWindow, key: str) -> None:
    table = window.table
    index = window.paper_model.index(row_of(window, key), Column.TITLE)
    table.scrollTo(index)
    rect = table.visualRect(index)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: table.current_paper == window.library.paper_by_key(key).id)


def type_search(qtbot, window: MainWindow, text: str) -> None:
    box = window.findChild(QLineEdit, "searchBox")
    box.clear()
    qtbot.keyClicks(box, text)


def shown_keys(window: MainWindow) -> set[str]:
    model = window.paper_model
    return {model.paper_row(r).key for r in range(model.rowCount())}


# -- the Key column --------------------------------------------------------------------------------


def test_the_key_column_is_hidden_at_first_and_shows_each_papers_key(window: MainWindow) -> None:
    header = window.table.horizontalHeader()
    assert COLUMNS[Column.KEY].header == "Key"
    assert header.isSectionHidden(Column.KEY)
    header.setSectionHidden(Column.KEY, False)
    assert cell(window, "kastenholz", Column.KEY) == "kastenholz"


def test_clicking_the_key_header_sorts_by_key(qtbot, window: MainWindow) -> None:
    window.table.horizontalHeader().setSectionHidden(Column.KEY, False)
    click_header(qtbot, window, Column.KEY)
    qtbot.waitUntil(lambda: window.paper_model.sort_key == "key")
    model = window.paper_model
    keys = [model.index(r, Column.KEY).data() for r in range(model.rowCount())]
    assert keys == sorted(keys, key=str.lower)


def test_a_set_and_an_untitled_entry_show_their_key_in_italics(window: MainWindow) -> None:
    for key in ("stdmodel", "notitle2024"):
        assert cell(window, key, Column.TITLE) == key
        font = cell(window, key, Column.TITLE, Qt.ItemDataRole.FontRole)
        assert isinstance(font, QFont) and font.italic()
    font = cell(window, "kastenholz", Column.TITLE, Qt.ItemDataRole.FontRole)
    assert font is None or not font.italic()


# -- LaTeX as a reader expects it ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        (
            "kastenholz",
            "Computation of methodology-independent ionic solvation free energies from "
            "molecular simulations",
        ),
        ("angenendt", "In Honore Salvatoris – Vom Sinn und Unsinn der Patrozinienkunde"),
        ("geer", "Earl, Saint, Bishop, Skald – and Music"),
        ("Math2024", "The O(n²) bound for α-helices in Müller's model"),
    ],
)
def test_titles_in_latex_read_as_text_in_the_table(
    window: MainWindow, key: str, shown: str
) -> None:
    assert cell(window, key, Column.TITLE) == shown


def test_the_detail_pane_shows_the_title_and_abstract_decoded_and_keeps_the_latex(
    qtbot, window: MainWindow
) -> None:
    click_paper(qtbot, window, "Math2024")
    title = window.detail.findChild(QLabel, "titleLabel")
    abstract = window.detail.findChild(QLabel, "abstractLabel")
    qtbot.waitUntil(lambda: title.text() == "The O(n²) bound for α-helices in Müller's model")
    assert abstract.text() == "We prove that ℝᵈ has xᵢ ≤ 2 for all i – see “below”."
    stored = window.library.entry_text(window.library.paper_by_key("Math2024").id)
    assert r"$O(n^2)$" in stored and r"\mkbibquote{below}" in stored


# -- authors and rating ----------------------------------------------------------------------------


def test_authors_read_as_names(window: MainWindow) -> None:
    assert cell(window, "Math2024", Column.AUTHORS) == "Wang & E"
    assert cell(window, "three2024", Column.AUTHORS) == "Wang et al."
    assert cell(window, "angenendt", Column.AUTHORS) == "Angenendt"


def test_clicking_the_rating_header_puts_the_best_rated_first(qtbot, window: MainWindow) -> None:
    header = window.table.horizontalHeader()
    header.setSectionHidden(Column.RATING, False)
    click_header(qtbot, window, Column.RATING)
    qtbot.waitUntil(lambda: window.paper_model.sort_key == "rating")
    assert window.paper_model.descending
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    model = window.paper_model
    assert [model.paper_row(r).key for r in range(2)] == ["three2024", "Math2024"]
    click_header(qtbot, window, Column.RATING)  # a second click turns it round
    qtbot.waitUntil(lambda: not window.paper_model.descending)


# -- a key or a DOI in the search box --------------------------------------------------------------


def test_a_key_typed_in_the_search_box_finds_its_paper(qtbot, window: MainWindow) -> None:
    type_search(qtbot, window, "KASTENHOLZ")
    qtbot.waitUntil(lambda: shown_keys(window) == {"kastenholz"})


def test_an_old_key_typed_in_the_search_box_finds_the_paper(qtbot, window: MainWindow) -> None:
    pid = window.library.paper_by_key("three2024").id
    window.library.set_key(pid, "wang2024three")
    type_search(qtbot, window, "three2024")
    model = window.paper_model
    qtbot.waitUntil(lambda: [model.paper_id(r) for r in range(model.rowCount())] == [pid])


@pytest.mark.parametrize(
    "typed", ["10.48550/arXiv.2405.12345", "https://doi.org/10.48550/arxiv.2405.12345"]
)
def test_a_doi_typed_in_the_search_box_finds_its_paper(
    qtbot, window: MainWindow, typed: str
) -> None:
    type_search(qtbot, window, typed)
    qtbot.waitUntil(lambda: shown_keys(window) == {"Math2024"})


def test_a_header_saved_before_the_key_column_existed_keeps_it_hidden(qtbot, open_window) -> None:
    from PySide6.QtGui import QStandardItemModel
    from PySide6.QtWidgets import QTableView

    from citedesk import settings as opts
    from citedesk.models import Column

    window = open_window()
    window.close()
    # A header as a Citedesk of eight columns saved it (no column count kept then).
    old = QTableView()
    old.setModel(QStandardItemModel(0, 8))
    window.settings.set(opts.HEADER, old.horizontalHeader().saveState())
    window.settings.set(opts.HEADER_COLUMNS, 0)
    again = open_window()
    assert again.table.isColumnHidden(Column.KEY)
    assert not again.table.isColumnHidden(Column.TITLE)
