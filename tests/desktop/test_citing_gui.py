"""Edit ▸ Copy As, the citation style in Preferences, the detail pane's formatted reference
and File ▸ Export Bibliography, driven through the window's widgets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QFileDialog

from citedesk.actions import ActionId
from citedesk.citing import BibliographyDialog
from citedesk.db import csl
from citedesk.mainwindow import MainWindow
from tests.desktop.helpers import click, click_row, open_dialog, open_preferences


def select_two(qtbot, window: MainWindow) -> list[str]:
    """Select the table's first two papers; their keys, in the selection's order."""
    click_row(qtbot, window, 0)
    click_row(qtbot, window, 1, Qt.KeyboardModifier.ControlModifier)
    ids = window.selected_ids()
    assert len(ids) == 2
    rows = window.library.rows(ids)
    return [rows[i].key for i in ids]


def titles(window: MainWindow) -> list[str]:
    rows = window.library.rows(window.selected_ids())
    return [row.title for row in rows.values()]


def choose_style(qtbot, window: MainWindow, style: str) -> None:
    prefs = open_preferences(qtbot, window)
    prefs.tabs.setCurrentIndex(prefs.tabs.count() - 1)
    combo = prefs.findChild(QComboBox, "citationStyle")
    qtbot.waitUntil(combo.isVisible)
    combo.setCurrentIndex(combo.findData(style))
    prefs.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (ActionId.COPY_CITE, "\\cite{{{0},{1}}}"),
        (ActionId.COPY_CITEP, "\\citep{{{0},{1}}}"),
        (ActionId.COPY_AUTOCITE, "\\autocite{{{0},{1}}}"),
        (ActionId.COPY_PANDOC, "[@{0}; @{1}]"),
        (ActionId.COPY_TYPST, "@{0} @{1}"),
    ],
)
def test_copy_as_puts_each_format_on_the_clipboard(
    qtbot, window: MainWindow, action: ActionId, expected: str
) -> None:
    keys = select_two(qtbot, window)
    menu = window.menuBar().findChild(type(window.menuBar().actions()[0].menu()), "menuCopyAs")
    assert window.action(action) in menu.actions()
    window.action(action).trigger()
    assert QGuiApplication.clipboard().text() == expected.format(*keys)


def test_formatted_reference_is_copied_as_html_and_text_by_its_shortcut(
    qtbot, window: MainWindow
) -> None:
    select_two(qtbot, window)
    window.activateWindow()
    qtbot.keyClick(
        window.table,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier,
    )
    data = QGuiApplication.clipboard().mimeData()
    assert data.hasHtml()
    text, rich = data.text(), data.html()
    assert len(text.splitlines()) == 2
    for title in titles(window):
        assert title.split(":")[0] in text
    assert rich.count('class="csl-entry"') == 2 and "<i>" in rich
    assert window.status_bar.currentMessage() == "Copied 2 references in APA."


def test_formatted_citation_is_in_text(qtbot, window: MainWindow) -> None:
    select_two(qtbot, window)
    window.action(ActionId.COPY_FORMATTED_CITATION).trigger()
    data = QGuiApplication.clipboard().mimeData()
    assert data.text().startswith("(") and data.text().endswith(")")
    assert data.text().count(";") == 1
    assert data.hasHtml()


def test_the_style_chosen_in_preferences_is_used_by_the_next_copy(
    qtbot, window: MainWindow
) -> None:
    select_two(qtbot, window)
    choose_style(qtbot, window, "ieee")
    window.action(ActionId.COPY_FORMATTED_REFERENCE).trigger()
    lines = QGuiApplication.clipboard().text().splitlines()
    assert [line[:3] for line in lines] == ["[1]", "[2]"]
    assert window.status_bar.currentMessage() == "Copied 2 references in IEEE."
    assert "(IEEE)" in window.action(ActionId.COPY_FORMATTED_REFERENCE).text()


def test_another_csl_file_is_chosen_in_preferences_and_remembered_by_path(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "my-journal.csl"
    shutil.copy(csl.style_path("ieee"), own)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(own), ""))
    prefs = open_preferences(qtbot, window)
    prefs.tabs.setCurrentIndex(prefs.tabs.count() - 1)
    combo = prefs.findChild(QComboBox, "citationStyle")
    qtbot.waitUntil(combo.isVisible)
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_End)  # "Other .csl file…"
    assert combo.currentText() == "my-journal.csl"
    prefs.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    select_two(qtbot, window)
    window.action(ActionId.COPY_FORMATTED_REFERENCE).trigger()
    assert QGuiApplication.clipboard().text().startswith("[1]")
    assert window.status_bar.currentMessage() == "Copied 2 references in my-journal."
    again = open_preferences(qtbot, window)
    assert again.findChild(QComboBox, "citationStyle").currentData() == str(own)


def test_the_cite_as_you_write_port_is_set_in_preferences(qtbot, window: MainWindow) -> None:
    from PySide6.QtWidgets import QCheckBox, QSpinBox

    from citedesk import settings as opts

    prefs = open_preferences(qtbot, window)
    prefs.tabs.setCurrentIndex(prefs.tabs.count() - 1)
    enabled = prefs.findChild(QCheckBox, "caywEnabled")
    port = prefs.findChild(QSpinBox, "caywPort")
    qtbot.waitUntil(enabled.isVisible)
    assert enabled.isChecked() and port.value() == 23119
    click(qtbot, enabled)
    assert not port.isEnabled()
    prefs.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert window.settings.get(opts.CAYW_ENABLED) is False


def test_the_detail_pane_shows_the_reference_when_its_tab_shows_and_follows_the_style(
    qtbot, window: MainWindow
) -> None:
    click_row(qtbot, window, 0)
    reference = window.detail.reference
    assert reference.text() == ""  # the Info tab shows: nothing formatted yet
    window.detail.tabs.setCurrentIndex(2)
    title = titles(window)[0].split(":")[0]
    qtbot.waitUntil(lambda: title in reference.text())
    assert "<i>" in reference.text()
    assert "APA" in reference.caption.text()
    choose_style(qtbot, window, "ieee")
    qtbot.waitUntil(lambda: reference.text().startswith("[1]"))
    click_row(qtbot, window, 1)
    other = titles(window)[0].split(":")[0]
    qtbot.waitUntil(lambda: other in reference.text())


@pytest.mark.parametrize(
    ("output", "suffix"), [("html", ".html"), ("text", ".txt"), ("markdown", ".md")]
)
def test_export_bibliography_writes_the_selected_papers_references(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output, suffix
) -> None:
    dest = tmp_path / "refs"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    select_two(qtbot, window)
    wanted = [t.split(":")[0] for t in titles(window)]
    dialog = open_dialog(
        qtbot, window, ActionId.EXPORT_BIBLIOGRAPHY, BibliographyDialog, "bibliographyDialog"
    )
    assert dialog.selection_button.isChecked()
    dialog.format.setCurrentIndex(dialog.format.findData(output))
    click(qtbot, dialog.choose_button)
    written = dest.with_suffix(suffix)
    assert window.status_bar.currentMessage() == "Formatting 2 references in APA…"
    qtbot.waitUntil(lambda: written.is_file() and not window.bibliographies.running)
    text = written.read_text(encoding="utf-8")
    for title in wanted:
        assert title in text
    if output == "html":
        assert text.startswith("<!DOCTYPE html>") and "<title>References</title>" in text
        assert text.count('<div class="csl-entry">') == 2
    else:
        assert len(text.strip().split("\n\n")) == 2
        assert ("*" in text) == (output == "markdown")
    assert window.status_bar.currentMessage().startswith("Wrote 2 references in APA to ")
