"""Starting the window: ``create_window`` for tests and scripts, ``run`` for the command.

``run(..., screenshot=FILE)`` renders the window to a PNG with no screen (Qt's offscreen
platform) and exits; it uses throwaway settings so a person's saved layout neither changes
the picture nor is changed by it.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMessageLogContext, QSettings, QSize, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from . import db, messages
from .settings import APPLICATION, ORGANISATION, Settings

if TYPE_CHECKING:
    from .mainwindow import MainWindow

DEFAULT_SCREENSHOT_SIZE = "1280x800"


def resource_path(name: str) -> Path:
    return Path(str(files("citedesk.resources").joinpath(name)))


def app_icon() -> QIcon:
    return QIcon(str(resource_path("citedesk.svg")))


def ensure_application() -> QApplication:
    """The running QApplication, created (and named) if there is none yet."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "citedesk"])
    assert isinstance(app, QApplication)
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANISATION)
    app.setDesktopFileName("citedesk")
    app.setWindowIcon(app_icon())
    return app


def create_window(
    path: str | os.PathLike[str], *, seed: bool = True, settings: Settings | None = None
) -> MainWindow:
    """Open the library at ``path`` and return the shown main window (no event loop).

    Raises ``db.LibraryError`` when the library cannot be opened.
    """
    ensure_application()
    from .mainwindow import MainWindow

    library = db.Library.open(path, seed=seed)
    try:
        window = MainWindow(library, settings or Settings.open())
    except BaseException:
        library.close()
        raise
    window.setWindowIcon(app_icon())
    window.show()
    return window


def open_window(path: str | os.PathLike[str], *, seed: bool = True) -> MainWindow | None:
    """:func:`create_window`, telling the person why when the library cannot be opened.

    For a damaged library the newest backup is offered; once it is restored (the damaged
    file kept beside it) the window opens on it. None when there is no window.
    """
    try:
        return create_window(path, seed=seed)
    except db.LibraryDamagedError as exc:
        from .backups import offer_backup

        if not offer_backup(exc):
            return None
    except db.LibraryError as exc:
        messages.critical(None, "The library cannot be opened.", exc)
        return None
    try:
        return create_window(path, seed=seed)
    except db.LibraryError as exc:
        messages.critical(None, "The library cannot be opened.", exc)
        return None


def parse_size(text: str) -> QSize:
    m = re.fullmatch(r"\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*", text)
    if not m:
        raise ValueError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 1280x800")
    return QSize(int(m.group(1)), int(m.group(2)))


def run(
    library_path: str | os.PathLike[str],
    *,
    empty: bool = False,
    screenshot: str | os.PathLike[str] | None = None,
    select: str | None = None,
    size: str | None = None,
) -> int:
    """The ``citedesk`` window (exit code of the event loop), or a screenshot of it."""
    if screenshot is not None:
        return _screenshot(
            library_path,
            Path(screenshot),
            empty=empty,
            select=select,
            size=size or DEFAULT_SCREENSHOT_SIZE,
        )
    app = ensure_application()
    window = open_window(library_path, seed=not empty)
    if window is None:
        return 1
    if size:
        try:
            window.resize(parse_size(size))
        except ValueError as exc:
            print(f"citedesk: {exc}", file=sys.stderr)
    if select and not window.select_key(select):
        window.statusBar().showMessage(f"No paper with citation key {select}", 8000)
    return app.exec()


def _quiet_offscreen(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Drop the offscreen platform's harmless chatter; let everything else through."""
    if "does not support propagateSizeHints" in message:
        return
    print(message, file=sys.stderr)


def _screenshot(
    library_path: str | os.PathLike[str],
    target: Path,
    *,
    empty: bool,
    select: str | None,
    size: str,
) -> int:
    try:
        wanted = parse_size(size)
    except ValueError as exc:
        print(f"citedesk: {exc}", file=sys.stderr)
        return 2
    if not os.environ.get("QT_QPA_PLATFORM") and QApplication.instance() is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = ensure_application()
    previous = qInstallMessageHandler(_quiet_offscreen)
    try:
        return _render(app, library_path, target, empty=empty, select=select, wanted=wanted)
    finally:
        qInstallMessageHandler(previous)


def _render(
    app: QApplication,
    library_path: str | os.PathLike[str],
    target: Path,
    *,
    empty: bool,
    select: str | None,
    wanted: QSize,
) -> int:
    with tempfile.TemporaryDirectory(prefix="citedesk-shot-") as tmp:
        settings = Settings(QSettings(str(Path(tmp) / "citedesk.ini"), QSettings.Format.IniFormat))
        try:
            window = create_window(library_path, seed=not empty, settings=settings)
        except db.LibraryError as exc:
            print(f"citedesk: {exc}", file=sys.stderr)
            return 1
        try:
            window.resize(wanted)
            window.reset_layout()
            if select and not window.select_key(select):
                print(f"citedesk: no paper with citation key {select!r}", file=sys.stderr)
                return 1
            for _ in range(3):
                app.processEvents()
            target.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(target)):
                print(f"citedesk: cannot write {target}", file=sys.stderr)
                return 1
        finally:
            window.close()
            window.deleteLater()
            app.processEvents()
    return 0
