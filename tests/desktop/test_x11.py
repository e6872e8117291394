"""The real window on a real X server (Xvfb), through Qt's xcb platform plugin: the plugin
loads (every xcb library it links is installed), the window opens and paints.

The other window tests run offscreen, which loads none of the X11 libraries. This one starts
Xvfb and a separate Python with ``QT_QPA_PLATFORM=xcb``, and skips, saying so, where Xvfb is
not installed (Debian: xvfb; .ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

#: Opens the window over a library, then after a second grabs it from the X server's screen
#: (not the widget's own rendering) and quits.
SHOW_AND_GRAB = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from citedesk.app import create_window

window = create_window(sys.argv[1])
app = QApplication.instance()
print("platform", app.platformName(), flush=True)

def grab():
    shot = window.screen().grabWindow(window.winId())
    ok = not shot.isNull() and shot.save(sys.argv[2])
    window.close()
    app.exit(0 if ok else 3)

QTimer.singleShot(1000, grab)
sys.exit(app.exec())
"""


@pytest.fixture
def display() -> Iterator[str]:
    """A new Xvfb server on a free display (Xvfb picks it and tells it once it listens)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (Debian: xvfb; .ci/run installs it)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as ready:
            number = ready.readline().strip()  # empty if Xvfb exited instead
        if not number:
            server.wait(timeout=10)
            pytest.fail(f"Xvfb did not start: {server.stderr.read().decode(errors='replace')}")
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stderr.close()


def test_the_window_opens_and_paints_on_an_x_server(display: str, tmp_path: Path) -> None:
    shot = tmp_path / "x11.png"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "xcb",
        "DISPLAY": display,
        "CITEDESK_SETTINGS_DIR": str(tmp_path / "settings"),
    }
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run(
        [sys.executable, "-c", SHOW_AND_GRAB, str(tmp_path / "lib.sqlite"), str(shot)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "could not load the qt platform plugin" not in proc.stderr.lower(), proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert "platform xcb" in proc.stdout
    image = QImage(str(shot))
    assert image.width() >= 600 and image.height() >= 400
    colors = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colors) > 20, "the screenshot is blank"
