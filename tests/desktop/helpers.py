"""Plain helpers the desktop tests share (fixtures live in conftest.py).

Imported as ``tests.desktop.helpers``: pytest's importlib mode names the test modules from
the repository root, so ``tests`` is importable under ``pytest`` and ``python -m pytest``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import bibtexparser
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextDocument, QTextFormat
from PySide6.QtWidgets import QCheckBox, QDialog, QRadioButton, QWidget

from citedesk import db
from citedesk.actions import ActionId
from citedesk.mainwindow import MainWindow
from citedesk.models import Column
from citedesk.preferences import PreferencesDialog

W = TypeVar("W", bound=QWidget)
D = TypeVar("D", bound=QDialog)


def child(parent: QWidget, kind: type[W], name: str) -> W:
    """The child widget of that kind and object name; fails the test if there is none."""
    widget = parent.findChild(kind, name)
    assert widget is not None, f"no {kind.__name__} named {name!r}"
    return widget


def new_note(library: db.Library, paper_id: int, body: str) -> db.Note:
    """Add a note and read it back whole."""
    note = library.note(library.add_note(paper_id, body).new_note)
    assert note is not None
    return note


def fragments(document: QTextDocument) -> list[tuple[str, QTextFormat]]:
    """Every run of text of one format in the document, in order."""
    out = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            out.append((fragment.text(), fragment.charFormat()))
            it += 1
        block = block.next()
    return out


def click(qtbot, button) -> None:
    """Click a button; a radio button or check box on its indicator, as a person would."""
    if isinstance(button, QRadioButton | QCheckBox):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))
    else:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_row(qtbot, window: MainWindow, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Click the title cell of a row of the window's paper table."""
    rect = window.table.visualRect(window.paper_model.index(row, Column.TITLE))
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def open_dialog(qtbot, window: MainWindow, action: ActionId, kind: type[D], name: str) -> D:
    """Trigger the window's action and return the dialog it opens, once shown."""
    window.action(action).trigger()
    dialog = window.findChild(kind, name)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def open_preferences(qtbot, window: MainWindow) -> PreferencesDialog:
    return open_dialog(qtbot, window, ActionId.PREFERENCES, PreferencesDialog, "preferencesDialog")


def exported_keys(path: Path) -> list[str]:
    """The keys of a written .bib file, in order."""
    return [e.key for e in bibtexparser.parse_file(str(path)).entries]
