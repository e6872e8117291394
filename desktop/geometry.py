"""Every window, dialog and splitter comes back the size a person left it (as Picard's
``PreserveGeometry``).

Sizes are window state, not preferences: they are kept in the window settings
(``desktop/settings.py``: :func:`~desktop.settings.geometry_option`,
:func:`~desktop.settings.splitter_option`) under the object name of the window or dialog
and of each splitter in it. Tests and style sheets know widgets by those names already, so a
key stays put when code moves.
"""

from __future__ import annotations

from PySide6.QtGui import QHideEvent
from PySide6.QtWidgets import QSplitter, QWidget

from . import settings as opts
from .settings import Settings


class PreserveGeometry:
    """Mixin for a window or dialog: it opens at the size and place it was last left at,
    with every splitter in it as it was.

    Put it before the Qt class (``class ExportDialog(PreserveGeometry, QDialog)``) and call
    :meth:`restore_geometry` once the widget is built (a dialog: last in ``__init__``).
    It is saved whenever the widget is hidden: a dialog closing, the window closing.
    """

    _geometry_settings: Settings | None = None

    def restore_geometry(self, settings: Settings) -> bool:
        """Restore the saved size and place, and each splitter saved; from now on save them
        on hiding. False when no size was saved (the widget keeps the one it has)."""
        widget = self._geometry_widget()
        self._geometry_settings = settings
        saved = settings.get(opts.geometry_option(widget.objectName()))
        restored = not saved.isEmpty() and widget.restoreGeometry(saved)
        for name, splitter in self._splitters().items():
            state = settings.get(opts.splitter_option(name))
            if not state.isEmpty():
                splitter.restoreState(state)
        return restored

    def save_geometry(self) -> None:
        """Keep the present size and place and every splitter's sizes."""
        settings = self._geometry_settings
        if settings is None:
            return  # not restored yet: nothing here is the person's choice
        widget = self._geometry_widget()
        settings.set(opts.geometry_option(widget.objectName()), widget.saveGeometry())
        for name, splitter in self._splitters().items():
            settings.set(opts.splitter_option(name), splitter.saveState())

    def hideEvent(self, event: QHideEvent) -> None:
        self.save_geometry()
        super().hideEvent(event)

    def _geometry_widget(self) -> QWidget:
        assert isinstance(self, QWidget), "PreserveGeometry is a mixin for widgets"
        if not self.objectName():
            raise ValueError(
                f"a {type(self).__name__} needs an object name to remember its size by"
            )
        return self

    def _splitters(self) -> dict[str, QSplitter]:
        """The splitters of this window (not of its dialogs), by object name."""
        widget = self._geometry_widget()
        found: dict[str, QSplitter] = {}
        for splitter in widget.findChildren(QSplitter):
            if splitter.window() is not widget:
                continue
            name = splitter.objectName()
            if not name or name in found:
                raise ValueError(
                    f"every splitter of {widget.objectName()} needs an object "
                    f"name of its own to remember its sizes by ({name!r})"
                )
            found[name] = splitter
        return found
