"""Plain helpers the desktop tests share (fixtures live in conftest.py).

Imported as ``tests.desktop.helpers``: pytest's importlib mode names the test modules from
the repository root, so ``tests`` is importable under ``pytest`` and ``python -m pytest``.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtGui import QTextDocument, QTextFormat
from PySide6.QtWidgets import QWidget

from citedesk import db

W = TypeVar("W", bound=QWidget)


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
