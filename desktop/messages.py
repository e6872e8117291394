"""The one place Citedesk's message boxes are built.

Two kinds:

* Boxes that do not block (:func:`show_error`, :func:`notify`): shown with ``show()`` (or
  ``open()``, window-modal, when asked), deleted when closed, found in tests by object name.
* Boxes that wait for an answer (:func:`confirm`, :func:`warn`, :func:`critical`,
  :func:`inform`, :func:`about`) go through ``QMessageBox``'s static functions, looked up when
  called, so tests can monkeypatch ``QMessageBox.question`` and friends; :func:`offer` is the
  one blocking box with a button of its own.

Titles are "Citedesk" unless the caller names the action the box is about; extra detail
(usually an error) follows the text after a blank line.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

TITLE = "Citedesk"

Icon = QMessageBox.Icon
Button = QMessageBox.StandardButton


def _with_details(text: str, details: object | None) -> str:
    """``text``, then ``details`` after a blank line when there are any."""
    if details is None or str(details) == "":
        return text
    return f"{text}\n\n{details}"


def notify(
    parent: QWidget | None,
    text: str,
    *,
    informative: str = "",
    title: str = TITLE,
    icon: QMessageBox.Icon = Icon.Warning,
    detailed: str = "",
    name: str = "",
    window_modal: bool = False,
) -> QMessageBox:
    """Show a box with an OK button that does not block, and return it.

    Non-modal (``show()``) by default; ``window_modal`` opens it modal to its window only
    (``open()``) without a nested event loop. Either way it is deleted once closed.
    ``name`` becomes its object name, ``detailed`` its "Show Details…" text.
    """
    box = QMessageBox(icon, title, text, Button.Ok, parent)
    if name:
        box.setObjectName(name)
    if informative:
        box.setInformativeText(informative)
    if detailed:
        box.setDetailedText(detailed)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if window_modal:
        box.open()
    else:
        box.setModal(False)
        box.show()
    return box


def show_error(
    parent: QWidget | None, action: str, error: object, *, name: str = ""
) -> QMessageBox:
    """Say, without blocking, that ``action`` failed: "<action> failed." with the error below.

    A non-modal warning titled "Citedesk", deleted once closed; see :func:`notify`.
    """
    return notify(parent, f"{action} failed.", informative=str(error), name=name)


def confirm(parent: QWidget | None, title: str, text: str, *, default_no: bool = True) -> bool:
    """Ask a Yes/Cancel question (modal, via ``QMessageBox.question``); True for Yes.

    Cancel is the default button (what Return presses) unless ``default_no`` is False.
    """
    default = Button.Cancel if default_no else Button.Yes
    answer = QMessageBox.question(parent, title, text, Button.Yes | Button.Cancel, default)
    return answer == Button.Yes


def warn(parent: QWidget | None, title: str, text: str, details: object | None = None) -> None:
    """A modal warning (via ``QMessageBox.warning``): ``text``, then ``details`` if any."""
    QMessageBox.warning(parent, title, _with_details(text, details))


def critical(
    parent: QWidget | None, text: str, details: object | None = None, *, title: str = TITLE
) -> None:
    """A modal error (via ``QMessageBox.critical``), for what stops Citedesk, such as a
    library that cannot be opened: ``text``, then ``details`` if any."""
    QMessageBox.critical(parent, title, _with_details(text, details))


def inform(
    parent: QWidget | None, text: str, details: object | None = None, *, title: str = TITLE
) -> None:
    """A modal note (via ``QMessageBox.information``): ``text``, then ``details`` if any."""
    QMessageBox.information(parent, title, _with_details(text, details))


def about(parent: QWidget | None, title: str, rich_text: str) -> None:
    """The About box (via ``QMessageBox.about``), with the application's icon."""
    QMessageBox.about(parent, title, rich_text)


def offer(
    parent: QWidget | None,
    text: str,
    informative: str,
    accept_text: str | None,
    *,
    icon: QMessageBox.Icon = Icon.Critical,
    title: str = TITLE,
    name: str = "",
    accept_name: str = "",
) -> bool:
    """A modal box offering one way out beside Close; True when that button was clicked.

    Without ``accept_text`` there is only Close (and the answer is False). ``name`` and
    ``accept_name`` are the object names of the box and of the offered button.
    """
    box = QMessageBox(parent)
    if name:
        box.setObjectName(name)
    box.setIcon(icon)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(informative)
    accept = None
    if accept_text is not None:
        accept = box.addButton(accept_text, QMessageBox.ButtonRole.AcceptRole)
        if accept_name:
            accept.setObjectName(accept_name)
    box.addButton(Button.Close)
    box.exec()
    clicked = accept is not None and box.clickedButton() is accept
    box.deleteLater()
    return clicked
