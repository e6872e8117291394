"""Fixtures for the desktop tests: a real seeded library in ``tmp_path``, events, a stack."""

from __future__ import annotations

import os

# Before Qt is imported anywhere: the tests run without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from citedesk import db
from citedesk.detail import DetailPane
from citedesk.hub import LibraryEvents


@pytest.fixture
def library(tmp_path: Path) -> Iterator[db.Library]:
    """A new library file seeded with the 25 papers of ``seeds/seed.bib``."""
    lib = db.Library.open(tmp_path / "lib.sqlite")
    yield lib
    lib.close()


@pytest.fixture
def events(qapp: QApplication) -> LibraryEvents:
    return LibraryEvents()


@pytest.fixture
def undo_stack(qapp: QApplication) -> QUndoStack:
    return QUndoStack()


@pytest.fixture
def recorded(events: LibraryEvents) -> list[db.Changes]:
    """Every ``db.Changes`` emitted on ``events.changed``, in order."""
    out: list[db.Changes] = []
    events.changed.connect(out.append)
    return out


@pytest.fixture
def pane_size() -> tuple[int, int]:
    """The width and height ``pane`` is shown at; a module overrides this for another."""
    return (600, 800)


@pytest.fixture
def pane(
    qtbot: QtBot,
    library: db.Library,
    undo_stack: QUndoStack,
    events: LibraryEvents,
    pane_size: tuple[int, int],
) -> DetailPane:
    """A shown detail pane over ``library``, on its own (no window)."""
    widget = DetailPane(library, undo_stack, events)
    qtbot.addWidget(widget)
    widget.resize(*pane_size)
    widget.show()
    return widget


@pytest.fixture
def pid(library: db.Library) -> int:
    """The first paper of ``library``."""
    return library.paper_ids()[0]
