"""desktop/messages.py: the one place message boxes are built.

Boxes that do not block are looked at directly; boxes that wait are answered by a click
from a QTimer, or through the patched static functions the other GUI tests rely on.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from citedesk import messages


@pytest.fixture
def parent(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def answer_when_shown(qtbot: QtBot, pick: Callable[[QMessageBox], QAbstractButton | None]) -> None:
    """Click the button ``pick`` chooses on the modal message box once it shows."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        button = pick(box)
        assert button is not None
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)


# -- boxes that do not block ---------------------------------------------------------------------


def test_show_error_is_a_non_modal_warning_deleted_on_close(qtbot: QtBot, parent: QWidget) -> None:
    box = messages.show_error(parent, "Set key", ValueError("the key is taken"), name="oops")
    assert parent.findChild(QMessageBox, "oops") is box
    assert box.isVisible() and not box.isModal()
    assert QApplication.activeModalWidget() is None
    assert box.windowTitle() == "Citedesk"
    assert box.icon() == QMessageBox.Icon.Warning
    assert box.text() == "Set key failed."
    assert box.informativeText() == "the key is taken"
    assert [box.buttonRole(b) for b in box.buttons()] == [QMessageBox.ButtonRole.AcceptRole]
    assert box.testAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    with qtbot.waitSignal(box.destroyed, timeout=2000):
        box.close()
    assert parent.findChild(QMessageBox, "oops") is None


def test_notify_can_be_window_modal_with_details(qtbot: QtBot, parent: QWidget) -> None:
    box = messages.notify(
        parent,
        "Wrote 2 entries.",
        title="Export",
        icon=messages.Icon.Information,
        detailed="a\nb",
        name="result",
        window_modal=True,
    )
    assert box.isVisible()
    assert box.windowModality() == Qt.WindowModality.WindowModal
    assert (box.windowTitle(), box.text(), box.detailedText()) == (
        "Export",
        "Wrote 2 entries.",
        "a\nb",
    )
    assert box.icon() == QMessageBox.Icon.Information
    assert box.informativeText() == ""
    with qtbot.waitSignal(box.destroyed, timeout=2000):
        box.button(QMessageBox.StandardButton.Ok).click()


# -- boxes that wait for an answer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("button", "expected"),
    [(QMessageBox.StandardButton.Yes, True), (QMessageBox.StandardButton.Cancel, False)],
)
def test_confirm_is_true_only_for_yes(
    qtbot: QtBot, parent: QWidget, button: QMessageBox.StandardButton, expected: bool
) -> None:
    seen: list[tuple[str, str, QMessageBox.StandardButton]] = []

    def pick(box: QMessageBox) -> QAbstractButton | None:
        default = box.defaultButton()
        seen.append((box.windowTitle(), box.text(), box.standardButton(default)))
        return box.button(button)

    answer_when_shown(qtbot, pick)
    assert messages.confirm(parent, "Delete tag", "Delete the tag?") is expected
    assert seen == [("Delete tag", "Delete the tag?", QMessageBox.StandardButton.Cancel)]


def test_confirm_goes_through_question_so_tests_can_patch_it(
    parent: QWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple] = []

    def question(*args):
        asked.append(args)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    assert messages.confirm(parent, "Delete papers", "Sure?", default_no=False)
    [(who, title, text, buttons, default)] = asked
    assert (who, title, text) == (parent, "Delete papers", "Sure?")
    assert buttons == QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel
    assert default == QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Cancel)
    assert not messages.confirm(parent, "Delete papers", "Sure?")


@pytest.mark.parametrize(
    ("function", "static", "title"),
    [
        (
            lambda p: messages.warn(p, "Export", "Nothing was exported.", "disk full"),
            "warning",
            "Export",
        ),
        (
            lambda p: messages.critical(p, "Nothing was exported.", "disk full"),
            "critical",
            "Citedesk",
        ),
        (
            lambda p: messages.inform(p, "Nothing was exported.", "disk full"),
            "information",
            "Citedesk",
        ),
    ],
)
def test_blocking_boxes_put_the_details_after_a_blank_line(
    parent: QWidget, monkeypatch: pytest.MonkeyPatch, function, static: str, title: str
) -> None:
    shown: list[tuple] = []
    monkeypatch.setattr(QMessageBox, static, lambda *args: shown.append(args))
    function(parent)
    assert shown == [(parent, title, "Nothing was exported.\n\ndisk full")]


def test_warn_without_details_is_just_the_text(
    parent: QWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[tuple] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args))
    messages.warn(parent, "Regenerate citation keys", "bad pattern")
    messages.warn(parent, "Regenerate citation keys", "bad pattern", "")
    assert shown == [(parent, "Regenerate citation keys", "bad pattern")] * 2


def test_a_real_warning_box_is_modal_and_closes_on_ok(qtbot: QtBot, parent: QWidget) -> None:
    seen: list[tuple[str, str, QMessageBox.Icon]] = []

    def pick(box: QMessageBox) -> QAbstractButton | None:
        seen.append((box.windowTitle(), box.text(), box.icon()))
        return box.button(QMessageBox.StandardButton.Ok)

    answer_when_shown(qtbot, pick)
    messages.warn(parent, "Preferences", "Nothing was changed.", "bad pattern")
    assert seen == [
        ("Preferences", "Nothing was changed.\n\nbad pattern", QMessageBox.Icon.Warning)
    ]


@pytest.mark.parametrize("take", [True, False])
def test_offer_is_true_only_when_the_offered_button_is_clicked(
    qtbot: QtBot, parent: QWidget, take: bool
) -> None:
    seen: list[tuple[str, str, str, QMessageBox.Icon]] = []

    def pick(box: QMessageBox) -> QAbstractButton | None:
        seen.append((box.objectName(), box.text(), box.informativeText(), box.icon()))
        if take:
            return box.findChild(QAbstractButton, "restoreBackup")
        return box.button(QMessageBox.StandardButton.Close)

    answer_when_shown(qtbot, pick)
    taken = messages.offer(
        parent,
        "The file is damaged.",
        "Restore it?",
        "Restore Newest Backup",
        name="damagedLibrary",
        accept_name="restoreBackup",
    )
    assert taken is take
    assert seen == [
        ("damagedLibrary", "The file is damaged.", "Restore it?", QMessageBox.Icon.Critical)
    ]


def test_offer_without_a_way_out_has_only_close(qtbot: QtBot, parent: QWidget) -> None:
    buttons: list[list[str]] = []

    def pick(box: QMessageBox) -> QAbstractButton | None:
        buttons.append([b.text().replace("&", "") for b in box.buttons()])
        return box.button(QMessageBox.StandardButton.Close)

    answer_when_shown(qtbot, pick)
    assert not messages.offer(parent, "The file is damaged.", "no backup", None)
    assert buttons == [["Close"]]
