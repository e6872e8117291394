"""Ctrl+Z in a text field: the field's own undo while it has one, the window's after.

A field being typed in undoes its typing itself. Once an edit is applied (Enter, leaving
the field; the field is then no longer "modified") its typing is the window's edit, but Qt
still gave Ctrl+Z to the field, which undid the text on screen and left the edit in the
library: pressed twice, the edit stayed. This filter lets the key go
to the window's Undo (and Ctrl+Shift+Z, Ctrl+Y to Redo) whenever the focused field has
nothing of its own to undo (or redo).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QTextEdit

_REDO_KEYS = (QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y"))


def _is_redo(event: QKeyEvent) -> bool:
    pressed = QKeySequence(event.keyCombination())
    return event.matches(QKeySequence.StandardKey.Redo) or pressed in _REDO_KEYS


def _field_can(redo: bool) -> bool | None:
    """Whether the focused text field has something of its own to undo (or redo); None
    when the focus is not in a text field."""
    widget = QApplication.focusWidget()
    if isinstance(widget, QLineEdit):
        if widget.isReadOnly() or not widget.isModified():
            return False  # an applied edit leaves the field unmodified: the typing is done
        return widget.isRedoAvailable() if redo else widget.isUndoAvailable()
    if isinstance(widget, QPlainTextEdit | QTextEdit):
        if widget.isReadOnly():
            return False
        document = widget.document()
        return document.isRedoAvailable() if redo else document.isUndoAvailable()
    return None


class FieldUndoKeys(QObject):
    """Installed on the application by the main window (it goes with the window)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent):
            return False
        redo = _is_redo(event)
        if not (redo or event.matches(QKeySequence.StandardKey.Undo)):
            return False
        if _field_can(redo) is False:
            event.ignore()  # not the field's: the window's shortcut takes it
            return True
        return False
