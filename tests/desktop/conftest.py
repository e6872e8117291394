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

from citedesk import db
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
