"""The detail pane: everything about one paper, where every edit is an undoable command.

The pane reads through ``db.Library``, writes only by pushing ``desktop.commands`` on the
window's undo stack, and redraws itself when ``LibraryEvents.changed`` says its paper
changed (whoever changed it: this pane, the table, an undo). The pane shows the header
and the BibTeX; its Info tab is ``desktop/paperinfo.py``, its Notes tab and their autosave
``desktop/notes.py``; files dropped on the pane are attached to its paper
(``desktop/attachments.py``). :meth:`DetailPane.flush` (also run when the pane is hidden) writes
whatever is still being typed, so nothing typed is lost.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontDatabase,
    QHideEvent,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from . import db
from .attachments import dropped_files
from .citing import FormattedReference
from .commands import LibraryCommand, push
from .hub import LibraryEvents
from .notes import NotesPanel
from .paperinfo import PaperInfo
from .selection import SelectionPane
from .widgets import ErrorBar, muted, selectable
from .widgets import open_link as open_link  # how the pane opens links, checked by tests

PLACEHOLDER_TEXT = "Select a paper to see its details"


def _authors_text(paper: db.Paper) -> str:
    people, prefix = (paper.authors, "") if paper.authors else (paper.editors, "Edited by ")
    names = [p.display for p in people if not p.is_others]
    text = ", ".join(names)
    if any(p.is_others for p in people):
        text += " et al."
    return prefix + text if text else ""


class DetailPane(QWidget):
    """Header, info, notes and BibTeX of one paper; every edit goes on the undo stack.

    The main window calls :meth:`show_paper` when the selection changes and :meth:`flush`
    before closing (and before deleting papers), so pending note text is written.
    """

    def __init__(
        self,
        library: db.Library,
        undo_stack: QUndoStack,
        events: LibraryEvents,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("detailPane")
        self.library = library
        self.undo_stack = undo_stack
        self.events = events
        self._paper: db.Paper | None = None
        self.setAcceptDrops(True)  # files dropped here are attached to the paper shown
        self._build()
        events.changed.connect(self._on_events_changed)
        events.reloaded.connect(self._on_events_reloaded)
        self._show_placeholder()

    # -- public API ---------------------------------------------------------------------------

    @property
    def paper_id(self) -> int | None:
        return self._paper.id if self._paper is not None else None

    def show_selection(self, ids: list[int], current: int | None = None) -> None:
        """Show what the table's selection is: several papers (what they share, and edits
        that act on all of them), or one (``current`` when nothing is selected)."""
        if len(ids) < 2:
            paper_id = ids[0] if ids else current
            if paper_id != self.paper_id or self._pages.currentWidget() is not self._content:
                self.show_paper(paper_id)  # (the same paper again: nothing to read)
            return
        if self._pages.currentWidget() is self.selection and ids == self.selection.ids:
            return  # a click reports both current and selection; events keep it fresh
        self.flush()
        self._drop_paper()
        self._hide_error()
        self.selection.show_papers(ids)
        self._pages.setCurrentWidget(self.selection)

    @property
    def selected_ids(self) -> list[int]:
        """The papers shown: several when the selection view is up, else the one (or none)."""
        if self._pages.currentWidget() is self.selection:
            return list(self.selection.ids)
        return [self._paper.id] if self._paper is not None else []

    def show_paper(self, paper_id: int | None) -> None:
        """Show a paper (None: the placeholder), saving what was typed for the last one."""
        if paper_id is not None and paper_id == self.paper_id:
            self.refresh()
            self._pages.setCurrentWidget(self._content)
            return
        self.flush()
        self._drop_paper()
        self._hide_error()
        if paper_id is None:
            self._show_placeholder()
            return
        try:
            paper = self.library.paper(paper_id)
        except db.UnknownPaperError:
            self._show_placeholder()
            return
        self._paper = paper
        self._fill(paper, new_paper=True)
        self._pages.setCurrentWidget(self._content)

    def refresh(self) -> None:
        """Re-read the current paper, keeping cursor, scroll and unsaved typing."""
        if self._paper is None:
            return
        try:
            paper = self.library.paper(self._paper.id)
        except db.UnknownPaperError:
            self._forget_paper()
            return
        self._paper = paper
        self._fill(paper, new_paper=False)

    def focus_field(self, name: str = "title") -> bool:
        """Put the cursor in a metadata field (e.g. for an Edit action); False if none shown.

        ``name`` is a BibTeX field of the form, or ``key`` / ``entrytype``.
        """
        if self._paper is None or not self.info.has_field(name):
            return False
        self.tabs.setCurrentWidget(self.info)
        self.info.focus_field(name)
        return True

    def set_search_text(self, text: str) -> None:
        """The window's search ``text`` ('' for none): its words are marked in the notes,
        and a paper whose note has them opens on that note; where they are in its PDFs is
        listed (page and words around them)."""
        self.notes.highlight(text)
        self.info.set_search_text(text)

    def refresh_fulltext_hits(self) -> None:
        """PDFs were read: where the search's words are in the paper's may have changed."""
        self.info.refresh_hits()

    def set_citation_style(self, style: str, locale: str) -> None:
        """The style (and locale) the BibTeX tab's formatted reference is written in."""
        self.reference.set_style(style, locale)

    def flush(self) -> None:
        """Write pending edits now: the note being typed and any field not yet applied."""
        if self._paper is None:
            return
        self.info.apply_edits()
        self.notes.save()

    # -- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        self._pages = QStackedWidget()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._pages)

        self._placeholder = muted(QLabel(PLACEHOLDER_TEXT))
        self._placeholder.setObjectName("detailPlaceholder")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        self._pages.addWidget(self._placeholder)

        self._content = QWidget()
        layout = QVBoxLayout(self._content)
        layout.setContentsMargins(14, 12, 14, 10)
        layout.setSpacing(4)
        layout.addWidget(self._build_header())
        self._error_bar = ErrorBar()
        layout.addWidget(self._error_bar)
        layout.addSpacing(6)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("detailTabs")
        self.tabs.setDocumentMode(True)
        self.info = PaperInfo(self.library, self.events, self._push)
        self.tabs.addTab(self.info, "Info")
        self.notes = NotesPanel(self.library, self.events, self._push)
        self.tabs.addTab(self.notes, "Notes")
        self.tabs.addTab(self._build_bibtex_tab(), "BibTeX")
        layout.addWidget(self.tabs, 1)
        self._pages.addWidget(self._content)
        self.selection = SelectionPane(self.library, self.events, self._push)
        self._pages.addWidget(self.selection)

    def _build_header(self) -> QWidget:
        header = QWidget()
        header.setObjectName("detailHeader")
        layout = QVBoxLayout(header)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self.title_label = selectable(QLabel(), "titleLabel")
        font = self.title_label.font()
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setBold(True)
        self.title_label.setFont(font)
        self.authors_label = selectable(QLabel(), "authorsLabel")
        self.meta_label = selectable(QLabel(), "metaLabel")
        self.ids_label = muted(selectable(QLabel(), "idsLabel"))
        for label in (self.title_label, self.authors_label, self.meta_label, self.ids_label):
            layout.addWidget(label)
        return header

    def _build_bibtex_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        self.bibtex_view = QPlainTextEdit()
        self.bibtex_view.setObjectName("bibtexView")
        self.bibtex_view.setReadOnly(True)
        self.bibtex_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.bibtex_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        layout.addWidget(self.bibtex_view, 1)
        layout.addWidget(muted(QLabel("Exactly what an export writes for this paper.")))
        # Formatted only while this tab shows, after the selection has painted (citing.py).
        self.reference = FormattedReference(self.library)
        layout.addWidget(self.reference)
        return page

    # -- filling ------------------------------------------------------------------------------

    def _show_placeholder(self) -> None:
        self._pages.setCurrentWidget(self._placeholder)

    def _drop_paper(self) -> None:
        """No paper any more (another is about to be shown): nothing left to save into."""
        self._paper = None
        self.info.forget()
        self.notes.forget()
        self.reference.show_paper(None)

    def _forget_paper(self) -> None:
        """The paper is gone (deleted elsewhere): nothing left to save into."""
        self._drop_paper()
        self._show_placeholder()

    def _fill(self, paper: db.Paper, new_paper: bool) -> None:
        self._fill_header(paper)
        self.info.show_paper(paper, new_paper)
        self._fill_bibtex(paper, new_paper)
        self.tabs.setTabText(1, f"Notes ({len(paper.notes)})" if paper.notes else "Notes")
        self.notes.show_notes(paper, new_paper)

    def _fill_header(self, paper: db.Paper) -> None:
        self.title_label.setText(paper.title or "(untitled)")
        authors = _authors_text(paper)
        self.authors_label.setText(authors)
        self.authors_label.setVisible(bool(authors))
        meta = " · ".join(str(x) for x in (paper.year, paper.venue) if x)
        self.meta_label.setText(meta)
        self.meta_label.setVisible(bool(meta))
        ids = [f"@{paper.entry_type}{{{paper.key}}}"]
        if paper.doi:
            ids.append(f"doi:{paper.doi}")
        if paper.arxiv:
            ids.append(f"arXiv:{paper.arxiv}")
        self.ids_label.setText("   ·   ".join(ids))

    def _fill_bibtex(self, paper: db.Paper, new_paper: bool) -> None:
        text = self.library.entry_text(paper.id)
        self.reference.show_paper(paper.id, text)
        if text == self.bibtex_view.toPlainText():
            return
        bar = self.bibtex_view.verticalScrollBar()
        position = 0 if new_paper else bar.value()
        self.bibtex_view.setPlainText(text)
        bar.setValue(position)

    # -- writing ------------------------------------------------------------------------------

    def _push(self, command: LibraryCommand) -> bool:
        """Apply a command through the undo stack; show its error instead of a traceback.

        Its changes come back on ``events.changed`` with this pane as their initiator.
        """
        error = push(self.undo_stack, command, initiator=self)
        if error is not None:
            self._error_bar.show_message(f"{command.text()} failed: {error}")
            self.refresh()  # show what is really stored
            return False
        self._hide_error()
        return True

    def _hide_error(self) -> None:
        self._error_bar.hide()

    # -- slots --------------------------------------------------------------------------------

    def _on_events_changed(self, changes: db.Changes) -> None:
        tag_list = changes.tag_list or bool(changes.tags_made)
        if tag_list:
            self.info.tag_list_changed()
        if self._pages.currentWidget() is self.selection:
            self._selection_changed(changes)
            return
        if self._paper is None:
            if tag_list:
                self.info.update_tag_names()
            return
        pid = self._paper.id
        if pid in changes.removed:
            self._forget_paper()
        elif changes.initiator is self and _only_tags(changes):
            # Our own tag edit: the chips are all that changed (no BibTeX, no header).
            self._paper.tags = self.info.refresh_tags(pid, new_names=bool(changes.tags_made))
        elif pid in changes.papers or pid in changes.added or tag_list:
            self.refresh()

    def _selection_changed(self, changes: db.Changes) -> None:
        ids = [pid for pid in self.selection.ids if pid not in changes.removed]
        if len(ids) < 2:
            self.show_paper(ids[0] if ids else None)
        elif (
            len(ids) != len(self.selection.ids)
            or changes.tag_list
            or not changes.papers.isdisjoint(ids)
        ):
            self.selection.show_papers(ids)

    def _on_events_reloaded(self) -> None:
        self.info.tag_list_changed()
        if self._pages.currentWidget() is self.selection:
            self.selection.refresh()
            return
        self.refresh()

    # -- Qt events ----------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._showing_one() and dropped_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()  # (.bib files go on to the window, which imports them)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._showing_one() and dropped_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        files = dropped_files(event.mimeData())
        if self._showing_one() and files:
            self.info.files.attach(files)
            event.acceptProposedAction()
        else:
            event.ignore()

    def _showing_one(self) -> bool:
        return self._paper is not None and self._pages.currentWidget() is self._content

    def hideEvent(self, event: QHideEvent) -> None:
        self.flush()
        super().hideEvent(event)


def _only_tags(changes: db.Changes) -> bool:
    """Tags on papers changed and nothing else that a paper shows."""
    return changes.tags and not (
        changes.fields or changes.notes or changes.status or changes.rating or changes.added
    )
