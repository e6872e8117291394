"""The Info tab of the detail pane: a paper's links, files, abstract, tags, reading status,
rating and BibTeX fields, each editable in place.

The Details form shows the fields of the entry's type (required first, in bold), then every
other field the entry has, each by the name the entry uses (``journaltitle`` is the Journal
row of a BibLaTeX entry; db/entrytypes.py knows which), then the abstract in a multi-line
editor, a box to add any field by name and a button to edit the entry's BibTeX as text.

Every edit is a command put on the undo stack through the ``push`` the pane gives (which
shows a failure in the pane); the pane hears of the change on ``events.changed``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QStringListModel, Qt, QUrl, Signal
from PySide6.QtGui import QFocusEvent, QFontDatabase, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from . import db
from .attachments import AttachmentList, open_file
from .commands import (
    AddTagsCommand,
    LibraryCommand,
    RemoveTagsCommand,
    ReplaceEntryCommand,
    SetEntryTypeCommand,
    SetFieldsCommand,
    SetKeyCommand,
    SetRatingCommand,
    SetStatusCommand,
)
from .dialogs import EditEntryDialog
from .fulltext import FulltextHits
from .hub import LibraryEvents
from .widgets import (
    OPENABLE_SCHEMES,
    FlowLayout,
    RatingSelector,
    TagChip,
    heading,
    muted,
    open_link,
    selectable,
    tag_editor,
)

#: The rows every form starts with: (name, label); they are not BibTeX fields.
FIXED_ROWS: list[tuple[str, str]] = [("entrytype", "Type"), ("key", "Key")]

#: Lines of text the abstract editor shows before it scrolls.
ABSTRACT_LINES = 6


class FieldTextEdit(QPlainTextEdit):
    """A multi-line field editor that applies like a line edit: on leaving it, or on
    Ctrl+Enter (Enter alone starts a new line).

    Signals:
        editingFinished: the person is done with the text (focus left, Ctrl+Enter).
    """

    editingFinished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        lines = self.fontMetrics().lineSpacing() * ABSTRACT_LINES
        self.setFixedHeight(lines + 2 * self.frameWidth() + 8)

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:
        self.setPlainText(text)

    def isModified(self) -> bool:
        return self.document().isModified()

    def setModified(self, modified: bool) -> None:
        self.document().setModified(modified)

    def setCursorPosition(self, position: int) -> None:
        cursor = self.textCursor()
        cursor.setPosition(position)
        self.setTextCursor(cursor)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.editingFinished.emit()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.editingFinished.emit()


FieldEditor = QLineEdit | FieldTextEdit


def _field_value(paper: db.Paper, name: str) -> str:
    if name == "key":
        return paper.key
    if name == "entrytype":
        return paper.entry_type
    return paper.text(name)


class PaperInfo(QScrollArea):
    """Links, files, abstract, tags, status and rating, and the metadata form of one paper."""

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        push: Callable[[LibraryCommand], bool],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("infoScroll")
        self.library = library
        self.events = events
        self._push = push
        self._paper: db.Paper | None = None
        self._loading = False  # filling widgets: their change signals are not edits
        self._search_text = ""
        self._chips_shown: list[tuple[str, str | None]] | None = None
        #: The library's tag colours by lowercased name; None until read (again): the
        #: tag list is read once, not for each paper shown (it counts every paper's tags).
        self._tag_colors: dict[str, str | None] | None = None
        self._build()

    def show_paper(self, paper: db.Paper, new_paper: bool) -> None:
        """Show the paper as now on disk; a field being typed in keeps its text."""
        self._paper = paper
        self._loading = True
        try:
            self._fill_links(paper)
            self.files.show_paper(paper.id)
            self._fill_hits(paper.id)
            self.abstract_label.setText(paper.abstract)
            self._abstract_heading.setVisible(bool(paper.abstract))
            self.abstract_label.setVisible(bool(paper.abstract))
            self._fill_tags(paper)
            self.status_selector.setCurrentIndex(
                max(0, self.status_selector.findData(paper.status))
            )
            self.rating_selector.set_rating(paper.rating)
            self._fill_fields(paper, new_paper)
            if new_paper:
                self.verticalScrollBar().setValue(0)
        finally:
            self._loading = False

    def forget(self) -> None:
        """No paper any more: nothing to write into."""
        self._paper = None

    def set_search_text(self, text: str) -> None:
        """The window's search: where its words are in the paper's PDFs is shown."""
        if text == self._search_text:
            return
        self._search_text = text
        if self._paper is not None:
            self._fill_hits(self._paper.id)

    def refresh_hits(self) -> None:
        if self._paper is not None:
            self._fill_hits(self._paper.id)

    def _fill_hits(self, paper_id: int) -> None:
        text = self._search_text
        self.fulltext_hits.show_hits(self.library.fulltext_hits(paper_id, text) if text else [])

    def _on_fulltext_hits_open_requested(self, attachment_id: int, page: int) -> None:
        try:
            path = self.library.attachment(attachment_id).path
        except db.LibraryError:
            return
        open_file(path, page)

    def update_tag_names(self) -> None:
        """Complete from the library's tags as they are now."""
        infos = self.library.tags()
        self._tag_names.setStringList([t.name for t in infos])
        self._tag_colors = {t.name.lower(): t.color for t in infos}

    def tag_list_changed(self) -> None:
        """Tags were made, renamed, merged, deleted or recoloured: read them when next shown."""
        self._tag_colors = None

    def refresh_tags(self, paper_id: int, new_names: bool = False) -> list[str]:
        """Show the paper's tags again after an edit of them (one read); with
        ``new_names`` tags were made, and the completion learns them. Returns the names."""
        shown = self.library.paper_tag_colors(paper_id)
        if new_names:
            known = self._tag_names.stringList()
            lowered = {n.lower() for n in known}
            known += [name for name, _ in shown if name.lower() not in lowered]
            self._tag_names.setStringList(sorted(known, key=str.lower))
        self._show_chips(shown)
        return [name for name, _ in shown]

    def has_field(self, name: str) -> bool:
        return name in self._field_edits

    def focus_field(self, name: str) -> None:
        """Put the cursor in a metadata field, its text selected, scrolled into view."""
        edit = self._field_edits[name]
        self.ensureWidgetVisible(edit)
        edit.setFocus(Qt.FocusReason.OtherFocusReason)
        edit.selectAll()

    def apply_edits(self) -> None:
        """Write every field typed in but not yet applied (Enter or leaving applies it)."""
        for name, edit in list(self._field_edits.items()):
            # An edit applied may take rows away (a field cleared): skip editors gone.
            if self._field_edits.get(name) is edit and edit.isModified():
                self._apply_field(name)

    # -- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
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
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.links_label.linkActivated.connect(self._on_links_label_link_activated)
        self.links_label.linkHovered.connect(self._on_links_label_link_hovered)
        layout.addWidget(self.links_label)

        layout.addSpacing(4)
        self.files = AttachmentList(self.library, self.events, self._push)
        layout.addWidget(self.files)
        # Where the search's words are in this paper's PDFs (page and snippet).
        self.fulltext_hits = FulltextHits()
        self.fulltext_hits.setObjectName("fulltextHits")
        self.fulltext_hits.open_requested.connect(self._on_fulltext_hits_open_requested)
        layout.addWidget(self.fulltext_hits)

        self._abstract_heading = heading("Abstract")
        self.abstract_label = selectable(QLabel(), "abstractLabel")
        layout.addSpacing(4)
        layout.addWidget(self._abstract_heading)
        layout.addWidget(self.abstract_label)

        layout.addSpacing(8)
        layout.addWidget(heading("Tags"))
        self._build_tags(layout)

        layout.addSpacing(8)
        layout.addWidget(heading("Reading"))
        layout.addWidget(self._build_reading())

        layout.addSpacing(8)
        layout.addWidget(heading("Details"))
        layout.addLayout(self._build_form())
        layout.addStretch(1)
        self.setWidget(inner)

    def _build_tags(self, layout: QVBoxLayout) -> None:
        self._chips = QWidget()
        self._chips.setObjectName("tagChips")
        self._chips_layout = FlowLayout(self._chips)
        self._no_tags = muted(QLabel("No tags yet"))
        layout.addWidget(self._chips)
        layout.addWidget(self._no_tags)
        self.tag_editor, self._tag_names = tag_editor(
            "tagEditor", "Add tags, separated by commas, then press Enter", self
        )
        self.tag_editor.tags_entered.connect(self._on_tag_editor_tags_entered)
        layout.addWidget(self.tag_editor)

    def _build_reading(self) -> QWidget:
        """Status and rating side by side, the rating under the status in a narrow pane
        (so the pane can be narrow without cutting the stars)."""
        self.status_selector = QComboBox()
        self.status_selector.setObjectName("statusSelector")
        self.status_selector.setAccessibleName("Reading status")
        for status in db.STATUSES:
            self.status_selector.addItem(db.STATUS_LABELS.get(status, status.title()), status)
        self.status_selector.activated.connect(self._on_status_selector_activated)
        self.rating_selector = RatingSelector()
        self.rating_selector.rating_chosen.connect(self._on_rating_selector_rating_chosen)
        status_label = QLabel("Status")
        status_label.setBuddy(self.status_selector)
        row = QWidget()
        flow = FlowLayout(row, spacing=16)
        for label, widget in (
            (status_label, self.status_selector),
            (QLabel("Rating"), self.rating_selector),
        ):
            group = QWidget()
            pair = QHBoxLayout(group)
            pair.setContentsMargins(0, 0, 0, 0)
            pair.setSpacing(8)
            pair.addWidget(label)
            pair.addWidget(widget)
            flow.addWidget(group)
        return row

    def _build_form(self) -> QVBoxLayout:
        self._form = QFormLayout()
        form = self._form
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(5)
        self._field_edits: dict[str, FieldEditor] = {}
        #: The field rows shown now, between the fixed rows and the abstract.
        self._rows_shown: list[tuple[str, str, bool, str]] = []
        #: Fields added by name with "Add field…", shown until another paper is.
        self._added_names: list[str] = []
        for name, label in FIXED_ROWS:
            form.addRow(label, self._new_line_edit(name, label))
        types = QCompleter(list(db.ENTRY_TYPES), self._field_edits["entrytype"])
        types.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._field_edits["entrytype"].setCompleter(types)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._field_edits["key"].setFont(fixed)

        abstract = FieldTextEdit()
        abstract.setObjectName("field_abstract")
        abstract.setAccessibleName("Abstract")
        abstract.setPlaceholderText("Ctrl+Enter or leaving the box applies")
        abstract.editingFinished.connect(partial(self._on_field_editing_finished, "abstract"))
        self._field_edits["abstract"] = abstract
        abstract_label = QLabel("Abstract")
        abstract_label.setBuddy(abstract)
        form.addRow(abstract_label, abstract)

        self.add_field_edit = QLineEdit()
        self.add_field_edit.setObjectName("addFieldEdit")
        self.add_field_edit.setAccessibleName("Add field")
        self.add_field_edit.setPlaceholderText("Add field… (a name, then Enter)")
        self._field_names = QStringListModel(self.library.field_names(), self)
        names = QCompleter(self._field_names, self.add_field_edit)
        names.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        names.setFilterMode(Qt.MatchFlag.MatchContains)
        self.add_field_edit.setCompleter(names)
        self.add_field_edit.returnPressed.connect(self._on_add_field_edit_return_pressed)
        add_label = QLabel("More")
        add_label.setBuddy(self.add_field_edit)
        form.addRow(add_label, self.add_field_edit)
        self._add_field_error = muted(QLabel())
        self._add_field_error.setObjectName("addFieldError")
        self._add_field_error.setWordWrap(True)
        self._add_field_error.hide()

        self.edit_source_button = QPushButton("Edit BibTeX…")
        self.edit_source_button.setObjectName("editSourceButton")
        self.edit_source_button.setToolTip("Edit the entry's type, key and fields as BibTeX text")
        self.edit_source_button.clicked.connect(self._on_edit_source_button_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.edit_source_button)

        box = QVBoxLayout()
        box.setSpacing(5)
        box.addLayout(form)
        box.addWidget(self._add_field_error)
        box.addLayout(buttons)
        return box

    def _new_line_edit(self, name: str, label: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"field_{name}")
        edit.setAccessibleName(label)
        edit.editingFinished.connect(partial(self._on_field_editing_finished, name))
        self._field_edits[name] = edit
        return edit

    def _show_rows(self, paper: db.Paper, new_paper: bool) -> None:
        """Make the form's field rows those of the paper's type and fields, reusing the
        editors of rows that stay (so text being typed, and the focus, stay too)."""
        if new_paper:
            self._added_names = []
        present = [name.lower() for name, _ in paper.fields]
        fixed = {name for name, _ in FIXED_ROWS}
        rows = [
            (r.name, r.label, r.required, r.hint)
            for r in self.library.form_rows(paper.entry_type, present)
            if r.name not in fixed  # a "key" field is edited as BibTeX text
        ]
        names = {r[0] for r in rows} | fixed
        extra = list(self._added_names)
        if not new_paper:
            # A field being typed in stays until applied, even if its row would go.
            extra += [
                n
                for n, _, _, _ in self._rows_shown
                if self._field_edits[n].isModified() and n not in extra
            ]
        for name in extra:
            if name not in names:
                names.add(name)
                rows.append((name, self.library.field_label(name), False, name))
        if rows == self._rows_shown:
            return
        first = len(FIXED_ROWS)
        for _ in self._rows_shown:
            taken = self._form.takeRow(first)
            label = taken.labelItem.widget() if taken.labelItem is not None else None
            if label is not None:
                label.hide()  # out of the layout, but drawn until deleted
                label.deleteLater()
        for name in [n for n, _, _, _ in self._rows_shown if n not in names]:
            edit = self._field_edits.pop(name)
            edit.hide()
            edit.deleteLater()
        for i, (name, label, required, hint) in enumerate(rows):
            edit = self._field_edits.get(name) or self._new_line_edit(name, label)
            edit.setAccessibleName(label)
            edit.setToolTip(hint)
            title = QLabel(label)
            title.setObjectName(f"label_{name}")
            title.setToolTip(hint)
            title.setBuddy(edit)
            if required:
                font = title.font()
                font.setBold(True)
                title.setFont(font)
            self._form.insertRow(first + i, title, edit)
            edit.show()
        self._rows_shown = rows
        self._field_names.setStringList(
            [n for n in self.library.field_names() if n not in names and n != "abstract"]
        )

    # -- filling ------------------------------------------------------------------------------

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
        if self._tag_colors is None:
            self.update_tag_names()
        colors = self._tag_colors or {}
        self._show_chips([(name, colors.get(name.lower())) for name in paper.tags])

    def _show_chips(self, wanted: list[tuple[str, str | None]]) -> None:
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
        self._show_rows(paper, new_paper)
        if new_paper:
            self._add_field_error.hide()
        for name, edit in self._field_edits.items():
            if edit.isModified() and not new_paper:
                continue  # the person is typing here; their text wins until applied
            value = _field_value(paper, name)
            if edit.text() != value:
                edit.setText(value)
                edit.setCursorPosition(0)
            edit.setModified(False)

    # -- writing ------------------------------------------------------------------------------

    def _apply(self, command: LibraryCommand) -> bool:
        return self._push(command)

    def _apply_field(self, name: str) -> None:
        edit = self._field_edits[name]
        edit.setModified(False)
        if self._paper is None:
            return
        paper = self._paper
        value = edit.text().strip()
        if value == _field_value(paper, name).strip():
            return
        command: LibraryCommand
        if name == "key":
            command = SetKeyCommand(self.library, self.events, paper.id, value)
        elif name == "entrytype":
            command = SetEntryTypeCommand(self.library, self.events, paper.id, value)
        else:
            command = SetFieldsCommand(self.library, self.events, paper.id, {name: value or None})
        if not self._apply(command):
            edit.setText(_field_value(paper, name))  # show what is really stored
            edit.setModified(False)

    # -- slots --------------------------------------------------------------------------------

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
        if not self._loading and name in self._field_edits:
            self._apply_field(name)

    def _on_add_field_edit_return_pressed(self) -> None:
        name = self.add_field_edit.text().strip().lower()
        if self._paper is None or not name:
            return
        if name not in self._field_edits and not self.library.valid_field_name(name):
            self._add_field_error.setText(
                f"“{name}” cannot be a field name: use letters, digits and - _ : . +, "
                "starting with a letter."
            )
            self._add_field_error.show()
            return
        self._add_field_error.hide()
        self.add_field_edit.clear()
        if name not in self._field_edits:
            self._added_names.append(name)
            self._show_rows(self._paper, new_paper=False)
        self.focus_field(name)

    def _on_edit_source_button_clicked(self) -> None:
        if self._paper is None:
            return
        self.apply_edits()  # what was typed is part of the text shown
        if self._paper is None:
            return
        paper_id = self._paper.id
        dialog = EditEntryDialog(
            self.library.entry_text(paper_id), partial(self._replace_entry, paper_id), self
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _replace_entry(self, paper_id: int, text: str) -> db.LibraryError | None:
        command = ReplaceEntryCommand(self.library, self.events, paper_id, text)
        return None if self._apply(command) else command.error
