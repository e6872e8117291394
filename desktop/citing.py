"""Citing from the window: Edit ▸ Copy As, the formatted reference in the detail pane, and
File ▸ Export Bibliography.

The keys-only formats (``\\citep{…}``, Pandoc, Typst) and the formatted ones (a citation
or a reference list in a CSL style) all come from ``Library.cite`` and
``Library.bibliography``; this module only says which papers, which style and where the
text goes. Formatted text goes on the clipboard as HTML and as plain text, so a word
processor pastes it with its italics and an editor pastes the words.

The style and locale are desktop preferences (``settings.CITATION_STYLE``,
``CITATION_LOCALE``, the Preferences dialog's Citing tab): a shipped style's name or the
path of the person's own .csl file.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QRadioButton,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from . import db, messages
from . import settings as opts
from .actions import ActionId
from .background import TaskRunner
from .geometry import PreserveGeometry
from .settings import Settings
from .widgets import muted

#: The locales offered (CSL locales: dates, "and", "et al." in that language).
LOCALES = (
    "en-US",
    "en-GB",
    "de-DE",
    "fr-FR",
    "es-ES",
    "it-IT",
    "nl-NL",
    "pt-BR",
    "zh-CN",
    "ja-JP",
)

#: Short names of the shipped styles, for the status bar and menus ("in APA").
SHORT_NAMES = {
    "apa": "APA",
    "ieee": "IEEE",
    "chicago-author-date": "Chicago",
    "modern-language-association": "MLA",
    "harvard-cite-them-right": "Harvard",
    "nature": "Nature",
    "association-for-computing-machinery": "ACM",
    "nlm-citation-sequence": "Vancouver",
}

#: The combo box item that asks for a .csl file.
OTHER_FILE = "\0other"

#: The keys-only formats of Copy As: the action, ``Library.cite``'s format, and brackets.
KEY_FORMATS: dict[ActionId, tuple[str, bool]] = {
    ActionId.COPY_CITEP: ("citep", False),
    ActionId.COPY_AUTOCITE: ("biblatex", False),
    ActionId.COPY_PANDOC: ("pandoc", True),
    ActionId.COPY_TYPST: ("typst", False),
}

#: Export Bibliography's formats: output form -> (label, file suffix).
BIBLIOGRAPHY_FORMATS = {
    "html": ("HTML", ".html"),
    "text": ("Plain text", ".txt"),
    "markdown": ("Markdown", ".md"),
}

#: The formatted references kept for the detail pane (a few hundred papers' worth).
CACHE_SIZE = 512


@functools.cache
def shipped_styles() -> tuple[tuple[str, str], ...]:
    """(name, title) of the shipped common styles (read once: their files never change)."""
    return tuple(db.csl_styles())


def is_file_style(style: str) -> bool:
    """A person's own .csl file rather than a shipped style's name."""
    return style.lower().endswith(".csl") or "/" in style or "\\" in style


def style_name(style: str) -> str:
    """A style as the status bar names it: "APA", or a .csl file's name without .csl."""
    if is_file_style(style):
        return Path(style).stem
    return SHORT_NAMES.get(style, style)


def style_title(style: str) -> str:
    """A style as a list names it: its title ("APA Style 7th edition") or its file name."""
    if is_file_style(style):
        return Path(style).name
    return dict(shipped_styles()).get(style, style)


def chosen_style(settings: Settings) -> tuple[str, str]:
    """The style and locale chosen in Preferences."""
    return settings.get(opts.CITATION_STYLE) or "apa", settings.get(opts.CITATION_LOCALE) or "en-US"


def _references(n: int) -> str:
    return f"{n} reference{'s' if n != 1 else ''}"


def _papers(n: int) -> str:
    return f"{n} paper{'s' if n != 1 else ''}"


def html_entries(entries: Sequence[str]) -> str:
    """Formatted references (HTML each) as CSL's reference list markup."""
    body = "".join(f'  <div class="csl-entry">{entry}</div>\n' for entry in entries)
    return f'<div class="csl-bib-body">\n{body}</div>\n'


def bibliography_document(
    entries: Sequence[str], output: str, title: str = "References", locale: str = "en-US"
) -> str:
    """A reference list as a file: a small HTML page, or paragraphs of text or Markdown.

    ``entries`` are in ``output``'s form already (``Library.bibliography``).
    """
    if output == "html":
        lang = html.escape(locale.split("-")[0] if locale else "en")
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n"
            "<style>\n"
            "body { font-family: Georgia, serif; max-width: 44em; margin: 2em auto; "
            "padding: 0 1em; line-height: 1.5; }\n"
            ".csl-entry { margin: 0 0 0.8em; padding-left: 2em; text-indent: -2em; }\n"
            "</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n" + html_entries(entries) + "</body>\n</html>\n"
        )
    return "\n\n".join(entries) + ("\n" if entries else "")


# -- choosing a style ------------------------------------------------------------------------


class StyleCombo(QComboBox):
    """The shipped styles by title, a person's own .csl file, and "Other .csl file…".

    Choosing "Other .csl file…" asks for a file; cancelled, the choice stays as it was.
    :meth:`choice` is a style name or a file path, as ``Library.bibliography`` takes it.
    """

    def __init__(self, current: str, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for name, title in shipped_styles():
            self.addItem(title, name)
        self.insertSeparator(self.count())
        self.addItem("Other .csl file…", OTHER_FILE)
        self.set_choice(current)
        self._previous = self.currentIndex()
        self.activated.connect(self._on_activated)

    def choice(self) -> str:
        data = self.currentData()
        return data if isinstance(data, str) and data != OTHER_FILE else "apa"

    def set_choice(self, style: str) -> None:
        index = self.findData(style)
        if index < 0 and is_file_style(style):
            index = self._add_file(style)
        self.setCurrentIndex(max(index, 0))
        self._previous = self.currentIndex()

    def _add_file(self, path: str) -> int:
        index = self.count() - 1  # before "Other .csl file…"
        self.insertItem(index, Path(path).name, path)
        self.setItemData(index, path, Qt.ItemDataRole.ToolTipRole)
        return index

    def _on_activated(self, index: int) -> None:
        if self.itemData(index) != OTHER_FILE:
            self._previous = index
            return
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Choose a citation style",
            opts.start_folder(self._settings),
            "CSL styles (*.csl);;All files (*)",
        )
        if not path:
            self.setCurrentIndex(self._previous)
            return
        opts.remember_folder(self._settings, path)
        self.set_choice(path)


def locale_combo(current: str) -> QComboBox:
    combo = QComboBox()
    combo.addItems(LOCALES)
    if current not in LOCALES:
        combo.addItem(current)
    combo.setCurrentText(current)
    return combo


# -- Copy As ---------------------------------------------------------------------------------


class CopyAs(QObject):
    """Edit ▸ Copy As: the selected papers cited as each kind of document wants them.

    ``selected_ids`` gives the table's selection, in its order.
    """

    def __init__(
        self,
        library: db.Library,
        settings: Settings,
        selected_ids: Callable[[], list[int]],
        status: QStatusBar,
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self._library = library
        self._settings = settings
        self._selected_ids = selected_ids
        self._status = status
        self._window = window

    def connect_actions(self, actions: dict[ActionId, QAction]) -> None:
        for action_id, (fmt, brackets) in KEY_FORMATS.items():
            actions[action_id].triggered.connect(
                lambda _checked=False, f=fmt, b=brackets, a=actions[action_id]: self.copy_keys(
                    f, b, a.text().replace("&", "")
                )
            )
        actions[ActionId.COPY_FORMATTED_CITATION].triggered.connect(self.copy_formatted_citation)
        actions[ActionId.COPY_FORMATTED_REFERENCE].triggered.connect(self.copy_formatted_reference)

    def copy_keys(self, fmt: str, brackets: bool = False, what: str = "") -> None:
        """The citation of the selected papers' keys, as ``Library.cite`` writes ``fmt``."""
        ids = self._ids("copy a citation of them")
        if not ids:
            return
        try:
            text = self._library.cite(ids, fmt, brackets=brackets)
        except db.LibraryError as exc:
            messages.warn(self._window, "Copy As", "Nothing was copied.", exc)
            return
        QGuiApplication.clipboard().setText(text)
        self._status.showMessage(f"Copied {what or fmt} for {_papers(len(ids))}.", 4000)

    def copy_formatted_citation(self) -> None:
        """The in-text citation, "(Wang et al., 2023; Wu et al., 2022)", as HTML and text."""
        ids = self._ids("copy their citation")
        if not ids:
            return
        style, locale = chosen_style(self._settings)
        try:
            text, rich = [
                self._library.cite(
                    ids, "formatted-citation", style=style, locale=locale, output=output
                )
                for output in ("text", "html")
            ]
        except db.LibraryError as exc:
            messages.warn(self._window, "Copy As", "Nothing was copied.", exc)
            return
        self._put(text, rich)
        self._status.showMessage(
            f"Copied the citation of {_papers(len(ids))} in {style_name(style)}.", 4000
        )

    def copy_formatted_reference(self) -> None:
        """The selected papers' references, as a reference list writes them."""
        ids = self._ids("copy their references")
        if not ids:
            return
        style, locale = chosen_style(self._settings)
        try:
            text = self._library.bibliography(ids, style, locale, "text")
            rich = self._library.bibliography(ids, style, locale, "html")
        except db.LibraryError as exc:
            messages.warn(self._window, "Copy As", "Nothing was copied.", exc)
            return
        if not text:
            self._status.showMessage(f"{style_name(style)} has no reference list.", 6000)
            return
        self._put("\n".join(text), html_entries(rich))
        self._status.showMessage(f"Copied {_references(len(text))} in {style_name(style)}.", 4000)

    def update_texts(self, actions: dict[ActionId, QAction]) -> None:
        """Name the chosen style in the formatted actions ("Formatted Reference (APA)")."""
        name = style_name(chosen_style(self._settings)[0])
        actions[ActionId.COPY_FORMATTED_CITATION].setText(f"&Formatted Citation ({name})")
        actions[ActionId.COPY_FORMATTED_REFERENCE].setText(f"Formatted &Reference ({name})")

    def _ids(self, what: str) -> list[int]:
        ids = self._selected_ids()
        if not ids:
            self._status.showMessage(f"No papers are selected: select some to {what}.", 6000)
        return ids

    @staticmethod
    def _put(text: str, rich: str) -> None:
        data = QMimeData()
        data.setText(text)
        data.setHtml(rich)
        QGuiApplication.clipboard().setMimeData(data)


# -- the detail pane's formatted reference ------------------------------------------------------


class FormattedReference(QWidget):
    """The shown paper's reference in the chosen style (under its BibTeX).

    Formatting takes about 10 ms a paper (90 ms the first time a style is read), so it is
    done only while the widget is visible, after the selection has painted (a 0 ms timer;
    a burst of selections formats the last one only), and kept per paper, entry and style.
    """

    def __init__(self, library: db.Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("formattedReference")
        self._library = library
        self._style, self._locale = "apa", "en-US"
        self._paper: tuple[int, str] | None = None  # (id, its BibTeX)
        self._shown: tuple[object, ...] | None = None
        self._cache: dict[tuple[object, ...], str] = {}
        self.caption = muted(QLabel())
        self.caption.setObjectName("referenceCaption")
        self.reference = QLabel()
        self.reference.setObjectName("referenceText")
        self.reference.setTextFormat(Qt.TextFormat.RichText)
        self.reference.setWordWrap(True)
        self.reference.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.reference)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self._render)

    def set_style(self, style: str, locale: str) -> None:
        if (style, locale) != (self._style, self._locale):
            self._style, self._locale = style, locale
            self._schedule()

    def show_paper(self, paper_id: int | None, entry_text: str = "") -> None:
        self._paper = (paper_id, entry_text) if paper_id is not None else None
        self._schedule()

    def text(self) -> str:
        """The reference as shown (HTML)."""
        return self.reference.text()

    def _key(self) -> tuple[object, ...] | None:
        if self._paper is None:
            return None
        return (*self._paper, self._style, self._locale)

    def _schedule(self) -> None:
        key = self._key()
        if key is None or key == self._shown:
            return
        cached = self._cache.get(key)
        if cached is not None:
            self._show(key, cached)
            return
        self._shown = None
        self.reference.clear()  # never another paper's reference, even for a moment
        if self.isVisible():
            self._soon.start()

    def _render(self) -> None:
        key = self._key()
        if key is None or key == self._shown or not self.isVisible():
            return
        paper_id = key[0]
        assert isinstance(paper_id, int)
        try:
            entries = self._library.bibliography([paper_id], self._style, self._locale, "html")
            text = entries[0] if entries else "<i>This style has no reference list.</i>"
        except db.LibraryError as exc:
            text = f"<i>{html.escape(str(exc))}</i>"
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = text
        self._show(key, text)

    def _show(self, key: tuple[object, ...], text: str) -> None:
        self._shown = key
        self.caption.setText(f"Reference ({style_title(self._style)}):")
        self.reference.setText(text)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._schedule()


# -- Export Bibliography -------------------------------------------------------------------------


class BibliographyDialog(PreserveGeometry, QDialog):
    """Which papers (the selection, this view, all), in which style, as what file."""

    SELECTION, VIEW, ALL = range(3)

    def __init__(
        self,
        library: db.Library,
        selected: Sequence[int],
        view: db.Query,
        view_label: str,
        parent: QWidget | None = None,
        *,
        settings: Settings,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("bibliographyDialog")
        self.setWindowTitle("Export Bibliography")
        self._selected = tuple(selected)
        self._view = view
        self._counts = (len(self._selected), library.count(view), library.count(db.Query()))
        self.group = QButtonGroup(self)
        self.selection_button = QRadioButton(f"Selected papers ({self._counts[0]})")
        self.selection_button.setObjectName("bibliographySelection")
        self.view_button = QRadioButton(f"Papers in this view — {view_label} ({self._counts[1]})")
        self.view_button.setObjectName("bibliographyView")
        self.all_button = QRadioButton(f"All papers ({self._counts[2]})")
        self.all_button.setObjectName("bibliographyAll")
        for i, button in enumerate((self.selection_button, self.view_button, self.all_button)):
            self.group.addButton(button, i)
        self.selection_button.setEnabled(bool(self._selected))
        (self.selection_button if self._selected else self.view_button).setChecked(True)
        style, locale = chosen_style(settings)
        self.locale = locale
        self.style = StyleCombo(style, settings)
        self.style.setObjectName("bibliographyStyle")
        self.format = QComboBox()
        self.format.setObjectName("bibliographyFormat")
        for output, (label, suffix) in BIBLIOGRAPHY_FORMATS.items():
            self.format.addItem(f"{label} ({suffix})", output)
        form = QFormLayout()
        form.addRow("Style:", self.style)
        form.addRow("Format:", self.format)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.choose_button = buttons.addButton(
            "Choose File…", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.choose_button.setObjectName("bibliographyChooseFile")
        self.choose_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Format the references of which papers?"))
        for button in (self.selection_button, self.view_button, self.all_button):
            layout.addWidget(button)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
        self.restore_geometry(settings)

    def query(self) -> db.Query:
        scope = self.group.checkedId()
        if scope == self.SELECTION:
            return db.Query(ids=self._selected)
        return self._view if scope == self.VIEW else db.Query()

    def count(self) -> int:
        return self._counts[self.group.checkedId()]

    def output(self) -> str:
        data = self.format.currentData()
        return data if isinstance(data, str) else "html"


class BibliographyExport(QObject):
    """File ▸ Export Bibliography: the dialog, the file, the formatting in a worker thread
    (1,000 papers take several seconds), and what came of it.

    Signals:
        finished(str, int, str): the file, references written, and an error ('' if none).
    """

    finished = Signal(str, int, str)

    def __init__(
        self, library: db.Library, settings: Settings, window: QWidget, status: QStatusBar
    ) -> None:
        super().__init__(window)
        self._library = library
        self._settings = settings
        self._window = window
        self._status = status
        self._runner = TaskRunner(library.path, self)

    @property
    def running(self) -> bool:
        return self._runner.running

    def export(self, selected: Sequence[int], view: db.Query, view_label: str) -> None:
        dialog = BibliographyDialog(
            self._library, selected, view, view_label, self._window, settings=self._settings
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._write(dialog))
        dialog.open()

    def shutdown(self) -> None:
        self._runner.wait()

    def _write(self, dialog: BibliographyDialog) -> None:
        query, n, output = dialog.query(), dialog.count(), dialog.output()
        style, locale = dialog.style.choice(), dialog.locale
        if n == 0:
            self._status.showMessage("No papers to format: nothing was written.", 6000)
            return
        label, suffix = BIBLIOGRAPHY_FORMATS[output]
        start = str(Path(opts.start_folder(self._settings)) / f"references{suffix}")
        path, _ = QFileDialog.getSaveFileName(
            self._window,
            "Export Bibliography",
            start,
            f"{label} files (*{suffix});;All files (*)",
        )
        if not path:
            return
        if not Path(path).suffix:
            path += suffix
        opts.remember_folder(self._settings, path)
        name = style_name(style)

        def job(library: db.Library) -> int:
            entries = library.bibliography(library.paper_ids(query), style, locale, output)
            text = bibliography_document(entries, output, "References", locale)
            db.write_export(path, text.encode("utf-8"))
            return len(entries)

        def done(written: int | None, error: str) -> None:
            if error:
                self._status.clearMessage()
                messages.warn(self._window, "Export Bibliography", "Nothing was written.", error)
            else:
                self._status.showMessage(
                    f"Wrote {_references(written or 0)} in {name} to {path}", 8000
                )
            self.finished.emit(path, written or 0, error)

        self._status.showMessage(f"Formatting {_references(n)} in {name}…")
        self._runner.run(job, done)
