"""The detail pane: everything about one paper, where every edit is an undoable command.

The pane reads through ``db.Library``, writes only by pushing ``desktop.commands`` on the
window's undo stack, and redraws itself when ``LibraryEvents.changed`` says its paper
changed (whoever changed it: this pane, the table, an undo). The Notes tab and its
autosave are ``desktop/notes.py``; :meth:`DetailPane.flush` (also run when the pane is
hidden) writes whatever is still being typed, so nothing typed is lost.
"""

from __future__ import annotations

import html
from functools import partial

from PySide6.QtCore import (
    QStringListModel,
    Qt,
    QUrl,
)
from PySide6.QtGui import (
    QFontDatabase,
    QHideEvent,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import db

from .commands import (
    AddTagsCommand,
    LibraryCommand,
    RemoveTagsCommand,
    SetEntryTypeCommand,
    SetFieldsCommand,
    SetKeyCommand,
    SetRatingCommand,
    SetStatusCommand,
    push,
)
from .hub import LibraryEvents
from .notes import NotesPanel
from .widgets import (
    OPENABLE_SCHEMES,
    FlowLayout,
    RatingSelector,
    TagChip,
    TagCompleter,
    TagLineEdit,
    heading,
    muted,
    open_link,
)

#: The metadata form: (field, label). ``entrytype`` and ``key`` are not BibTeX fields.
FORM_FIELDS: list[tuple[str, str]] = [
    ("entrytype", "Type"), ("key", "Key"), ("title", "Title"), ("author", "Authors"),
    ("editor", "Editors"), ("year", "Year"), ("month", "Month"), ("journal", "Journal"),
    ("booktitle", "Book title"), ("volume", "Volume"), ("number", "Number"),
    ("pages", "Pages"), ("publisher", "Publisher"), ("doi", "DOI"), ("url", "URL"),
    ("eprint", "eprint"), ("keywords", "Keywords"), ("note", "Note"),
]

ENTRY_TYPES = ["article", "book", "booklet", "inbook", "incollection", "inproceedings",
               "manual", "mastersthesis", "misc", "online", "phdthesis", "proceedings",
               "techreport", "unpublished"]

STATUS_LABELS = {"unread": "Unread", "reading": "Reading", "read": "Read"}

PLACEHOLDER_TEXT = "Select a paper to see its details"


def _authors_text(paper: db.Paper) -> str:
    people, prefix = (paper.authors, "") if paper.authors else (paper.editors, "Edited by ")
    names = [p.display for p in people if not p.is_others]
    text = ", ".join(names)
    if any(p.is_others for p in people):
        text += " et al."
    return prefix + text if text else ""


# -- the pane -----------------------------------------------------------------------------------

class DetailPane(QWidget):
    """Header, info, notes and BibTeX of one paper; every edit goes on the undo stack.

    The main window calls :meth:`show_paper` when the selection changes and :meth:`flush`
    before closing (and before deleting papers), so pending note text is written.
    """

    def __init__(self, library: db.Library, undo_stack: QUndoStack, events: LibraryEvents,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailPane")
        self.library = library
        self.undo_stack = undo_stack
        self.events = events
        self._paper: db.Paper | None = None
        self._loading = False  # filling widgets: their change signals are not edits
        self._writing = False  # our own command runs: we refresh once it is done
        self._chips_shown: list[tuple[str, str | None]] | None = None
        self._build()
        events.changed.connect(self._on_events_changed)
        events.reloaded.connect(self._on_events_reloaded)
        self._show_placeholder()

    # -- public API ---------------------------------------------------------------------------

    @property
    def paper_id(self) -> int | None:
        return self._paper.id if self._paper is not None else None

    def show_paper(self, paper_id: int | None) -> None:
        """Show a paper (None: the placeholder), saving what was typed for the last one."""
        if paper_id is not None and paper_id == self.paper_id:
            self.refresh()
            return
        self.flush()
        self._paper = None
        self.notes.forget()
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
        edit = self._field_edits.get(name)
        if self._paper is None or edit is None:
            return False
        self.tabs.setCurrentIndex(self.tabs.indexOf(self._info_scroll))
        self._info_scroll.ensureWidgetVisible(edit)
        edit.setFocus(Qt.FocusReason.OtherFocusReason)
        edit.selectAll()
        return True

    def flush(self) -> None:
        """Write pending edits now: the note being typed and any field not yet applied."""
        if self._paper is None:
            return
        for name, edit in self._field_edits.items():
            if edit.isModified():
                self._apply_field(name)
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
        layout.addWidget(self._build_error_bar())
        layout.addSpacing(6)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("detailTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_info_tab(), "Info")
        self.notes = NotesPanel(self.library, self.events, self._push)
        self.notes.wrote.connect(self._on_notes_wrote)
        self.tabs.addTab(self.notes, "Notes")
        self.tabs.addTab(self._build_bibtex_tab(), "BibTeX")
        layout.addWidget(self.tabs, 1)
        self._pages.addWidget(self._content)

    def _build_header(self) -> QWidget:
        header = QWidget()
        header.setObjectName("detailHeader")
        layout = QVBoxLayout(header)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self.title_label = self._selectable(QLabel(), "titleLabel")
        font = self.title_label.font()
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setBold(True)
        self.title_label.setFont(font)
        self.authors_label = self._selectable(QLabel(), "authorsLabel")
        self.meta_label = self._selectable(QLabel(), "metaLabel")
        self.ids_label = muted(self._selectable(QLabel(), "idsLabel"))
        for label in (self.title_label, self.authors_label, self.meta_label, self.ids_label):
            layout.addWidget(label)
        return header

    @staticmethod
    def _selectable(label: QLabel, name: str) -> QLabel:
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        return label

    def _build_error_bar(self) -> QWidget:
        self._error_bar = QFrame()
        self._error_bar.setObjectName("errorBar")
        self._error_bar.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self._error_bar)
        layout.setContentsMargins(8, 4, 4, 4)
        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size))
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("×")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self._hide_error)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.error_label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self._error_bar.hide()
        return self._error_bar

    def _build_info_tab(self) -> QWidget:
        self._info_scroll = QScrollArea()
        self._info_scroll.setObjectName("infoScroll")
        self._info_scroll.setWidgetResizable(True)
        self._info_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._info_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(2, 10, 10, 10)
        layout.setSpacing(6)

        self.links_label = QLabel()
        self.links_label.setObjectName("linksLabel")
        self.links_label.setTextFormat(Qt.TextFormat.RichText)
        self.links_label.setOpenExternalLinks(False)
        self.links_label.setWordWrap(True)
        self.links_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.links_label.linkActivated.connect(self._on_links_label_link_activated)
        self.links_label.linkHovered.connect(self._on_links_label_link_hovered)
        layout.addWidget(self.links_label)

        self._abstract_heading = heading("Abstract")
        self.abstract_label = self._selectable(QLabel(), "abstractLabel")
        layout.addSpacing(4)
        layout.addWidget(self._abstract_heading)
        layout.addWidget(self.abstract_label)

        layout.addSpacing(8)
        layout.addWidget(heading("Tags"))
        self._chips = QWidget()
        self._chips.setObjectName("tagChips")
        self._chips_layout = FlowLayout(self._chips)
        self._no_tags = muted(QLabel("No tags yet"))
        layout.addWidget(self._chips)
        layout.addWidget(self._no_tags)
        self.tag_editor = TagLineEdit()
        self.tag_editor.setObjectName("tagEditor")
        self.tag_editor.setPlaceholderText("Add tags, separated by commas, then press Enter")
        self.tag_editor.setClearButtonEnabled(True)
        self._tag_names = QStringListModel(self)
        completer = TagCompleter(self._tag_names, self.tag_editor)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.tag_editor.setCompleter(completer)
        self.tag_editor.tags_entered.connect(self._on_tag_editor_tags_entered)
        layout.addWidget(self.tag_editor)

        layout.addSpacing(8)
        layout.addWidget(heading("Reading"))
        reading = QHBoxLayout()
        reading.setSpacing(8)
        self.status_selector = QComboBox()
        self.status_selector.setObjectName("statusSelector")
        self.status_selector.setAccessibleName("Reading status")
        for status in db.STATUSES:
            self.status_selector.addItem(STATUS_LABELS.get(status, status.title()), status)
        self.status_selector.activated.connect(self._on_status_selector_activated)
        self.rating_selector = RatingSelector()
        self.rating_selector.rating_chosen.connect(self._on_rating_selector_rating_chosen)
        status_label = QLabel("Status")
        status_label.setBuddy(self.status_selector)
        reading.addWidget(status_label)
        reading.addWidget(self.status_selector)
        reading.addSpacing(16)
        reading.addWidget(QLabel("Rating"))
        reading.addWidget(self.rating_selector)
        reading.addStretch(1)
        layout.addLayout(reading)

        layout.addSpacing(8)
        layout.addWidget(heading("Details"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(5)
        self._field_edits: dict[str, QLineEdit] = {}
        for name, label in FORM_FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"field_{name}")
            edit.setAccessibleName(label)
            edit.editingFinished.connect(partial(self._on_field_editing_finished, name))
            self._field_edits[name] = edit
            form.addRow(label, edit)
        types = QCompleter(ENTRY_TYPES, self._field_edits["entrytype"])
        types.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._field_edits["entrytype"].setCompleter(types)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._field_edits["key"].setFont(fixed)
        layout.addLayout(form)
        layout.addStretch(1)

        self._info_scroll.setWidget(inner)
        return self._info_scroll

    def _build_bibtex_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        self.bibtex_view = QPlainTextEdit()
        self.bibtex_view.setObjectName("bibtexView")
        self.bibtex_view.setReadOnly(True)
        self.bibtex_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.bibtex_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        layout.addWidget(self.bibtex_view)
        layout.addWidget(muted(QLabel("Exactly what an export writes for this paper.")))
        return page

    # -- filling ------------------------------------------------------------------------------

    def _show_placeholder(self) -> None:
        self._pages.setCurrentWidget(self._placeholder)

    def _forget_paper(self) -> None:
        """The paper is gone (deleted elsewhere): nothing left to save into."""
        self._paper = None
        self.notes.forget()
        self._show_placeholder()

    def _fill(self, paper: db.Paper, new_paper: bool) -> None:
        self._loading = True
        try:
            self._fill_header(paper)
            self._fill_links(paper)
            self.abstract_label.setText(paper.abstract)
            self._abstract_heading.setVisible(bool(paper.abstract))
            self.abstract_label.setVisible(bool(paper.abstract))
            self._fill_tags(paper)
            self.status_selector.setCurrentIndex(max(0, self.status_selector.findData(
                paper.status)))
            self.rating_selector.set_rating(paper.rating)
            self._fill_fields(paper, new_paper)
            self._fill_bibtex(paper, new_paper)
            self.tabs.setTabText(1, f"Notes ({len(paper.notes)})" if paper.notes else "Notes")
            self.notes.show_notes(paper, new_paper)
            if new_paper:
                self._info_scroll.verticalScrollBar().setValue(0)
        finally:
            self._loading = False

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

    def _fill_links(self, paper: db.Paper) -> None:
        parts = []
        for label, url in paper.links:
            qurl = QUrl.fromUserInput(url.strip())  # "github.com/x" means https://github.com/x
            if qurl.isValid() and qurl.scheme().lower() in OPENABLE_SCHEMES:
                href = html.escape(qurl.toString(), quote=True)
                parts.append(f'<a href="{href}">{html.escape(label)}</a> ↗')
            else:
                parts.append(f"{html.escape(label)}: {html.escape(url)}")
        self.links_label.setText("&nbsp;&nbsp;·&nbsp;&nbsp;".join(parts))
        self.links_label.setVisible(bool(parts))

    def _fill_tags(self, paper: db.Paper) -> None:
        infos = self.library.tags()
        self._tag_names.setStringList([t.name for t in infos])
        colors = {t.name.lower(): t.color for t in infos}
        wanted = [(name, colors.get(name.lower())) for name in paper.tags]
        if wanted == self._chips_shown:
            return
        self._chips_shown = wanted
        while (item := self._chips_layout.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        for name, color in wanted:
            chip = TagChip(name, color)
            chip.remove_clicked.connect(self._on_tag_chip_remove_clicked)
            self._chips_layout.addWidget(chip)
            chip.show()  # a layout shows new children only on the next event loop turn
        self._chips.setVisible(bool(wanted))
        self._no_tags.setVisible(not wanted)
        self._chips_layout.invalidate()

    def _fill_fields(self, paper: db.Paper, new_paper: bool) -> None:
        for name, edit in self._field_edits.items():
            if edit.isModified() and not new_paper:
                continue  # the person is typing here; their text wins until applied
            value = self._field_value(paper, name)
            if edit.text() != value:
                edit.setText(value)
                edit.setCursorPosition(0)
            edit.setModified(False)

    @staticmethod
    def _field_value(paper: db.Paper, name: str) -> str:
        if name == "key":
            return paper.key
        if name == "entrytype":
            return paper.entry_type
        return paper.text(name)

    def _fill_bibtex(self, paper: db.Paper, new_paper: bool) -> None:
        text = self.library.entry_text(paper.id)
        if text == self.bibtex_view.toPlainText():
            return
        bar = self.bibtex_view.verticalScrollBar()
        position = 0 if new_paper else bar.value()
        self.bibtex_view.setPlainText(text)
        bar.setValue(position)

    # -- writing ------------------------------------------------------------------------------

    def _push(self, command: LibraryCommand) -> bool:
        """Apply a command through the undo stack; show its error instead of a traceback."""
        self._writing = True
        try:
            error = push(self.undo_stack, command)
        finally:
            self._writing = False
        if error is not None:
            self._show_error(f"{command.text()} failed: {error}")
            return False
        self._hide_error()
        return True

    def _apply(self, command: LibraryCommand) -> bool:
        ok = self._push(command)
        self.refresh()
        return ok

    def _apply_field(self, name: str) -> None:
        edit = self._field_edits[name]
        edit.setModified(False)
        if self._paper is None:
            return
        paper = self._paper
        value = edit.text().strip()
        if value == self._field_value(paper, name).strip():
            return
        command: LibraryCommand
        if name == "key":
            command = SetKeyCommand(self.library, self.events, paper.id, value)
        elif name == "entrytype":
            command = SetEntryTypeCommand(self.library, self.events, paper.id, value)
        else:
            command = SetFieldsCommand(self.library, self.events, paper.id,
                                       {name: value or None})
        if not self._apply(command):
            edit.setText(self._field_value(paper, name))  # show what is really stored
            edit.setModified(False)

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self._error_bar.show()

    def _hide_error(self) -> None:
        self._error_bar.hide()

    # -- slots --------------------------------------------------------------------------------

    def _on_events_changed(self, changes: db.Changes) -> None:
        if self._writing:
            return  # our own command: _push's caller refreshes once it is done
        if self._paper is None:
            if changes.tags:
                self._tag_names.setStringList([t.name for t in self.library.tags()])
            return
        pid = self._paper.id
        if pid in changes.removed:
            self._forget_paper()
        elif pid in changes.papers or pid in changes.added or changes.tags:
            self.refresh()

    def _on_events_reloaded(self) -> None:
        self.refresh()

    def _on_notes_wrote(self) -> None:
        self.refresh()

    def _on_links_label_link_activated(self, url: str) -> None:
        open_link(url)

    def _on_links_label_link_hovered(self, url: str) -> None:
        self.links_label.setToolTip(url)

    def _on_tag_editor_tags_entered(self, text: str) -> None:
        names = [n.strip() for n in text.split(",") if n.strip()]
        if self._paper is None or not names:
            return
        if self._apply(AddTagsCommand(self.library, self.events, [self._paper.id], names)):
            self.tag_editor.clear()

    def _on_tag_chip_remove_clicked(self, name: str) -> None:
        if self._paper is not None:
            self._apply(RemoveTagsCommand(self.library, self.events, [self._paper.id], [name]))

    def _on_status_selector_activated(self, index: int) -> None:
        status = self.status_selector.itemData(index)
        if self._paper is not None and status != self._paper.status:
            self._apply(SetStatusCommand(self.library, self.events, [self._paper.id], status))

    def _on_rating_selector_rating_chosen(self, rating: int) -> None:
        if self._paper is not None and rating != self._paper.rating:
            self._apply(SetRatingCommand(self.library, self.events, [self._paper.id], rating))

    def _on_field_editing_finished(self, name: str) -> None:
        if not self._loading:
            self._apply_field(name)

    # -- Qt events ----------------------------------------------------------------------------

    def hideEvent(self, event: QHideEvent) -> None:
        self.flush()
        super().hideEvent(event)
