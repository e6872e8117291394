"""Render the README's screenshots of the real window, offscreen, at 1280x800.

    python resources/screenshots/make_screenshots.py

The library is the seeded one (25 papers) in a temporary folder. So that the sidebar and
the tag column show what a library in use looks like, a few papers are given tags (with
colours), reading statuses, ratings and a note first, through the same ``db.Library`` calls
the window uses. Settings are throwaway, so a saved layout never changes the pictures.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QSize  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from citedesk import db  # noqa: E402
from citedesk.app import create_window  # noqa: E402
from citedesk.settings import Settings  # noqa: E402

HERE = Path(__file__).resolve().parent
SIZE = QSize(1280, 800)
SELECTED = "wang2023theoreticalanalysisnoise"

TAGS = {
    "sgd-noise": (
        "#d9822b",
        [
            "wang2023theoreticalanalysisnoise",
            "wu2022alignmentpropertysgd",
            "ziyin2024parametersymmetrynoise",
            "zhang2026learningdynamicstwolayer",
        ],
    ),
    "flat-minima": (
        "#3a7bd5",
        [
            "wang2023theoreticalanalysisnoise",
            "wu2022alignmentpropertysgd",
            "zhou2024sharpnessawareminimizationefficiently",
        ],
    ),
    "transformers": (
        "#8e5bd0",
        [
            "wang2024understandingexpressivepower",
            "wang2025sharpnessdisparityprinciple",
            "wang2024transformersgetrich",
        ],
    ),
    "llm-training": (
        "#2e9e6a",
        [
            "zhu2026acceleratingllmpretraining",
            "wang2025gradpower",
            "wang2025sharpnessdisparityprinciple",
            "wang2026fastcatchuplate",
        ],
    ),
    "theory": (
        None,
        [
            "wang2022generalizationerrorbounds",
            "wang2022earlystageconvergence",
            "wang2023achievingmarginmaximization",
            "wang2023understandingmultiphaseoptimization",
        ],
    ),
    "reading-group": (
        "#c94f6d",
        ["wang2023theoreticalanalysisnoise", "huang2025lowprobabilitytokenssustain"],
    ),
}
STATUS = {
    "read": [
        "wang2023theoreticalanalysisnoise",
        "wu2022alignmentpropertysgd",
        "wang2022generalizationerrorbounds",
    ],
    "reading": ["zhou2024sharpnessawareminimizationefficiently", "wang2025gradpower"],
}
RATINGS = {
    "wang2023theoreticalanalysisnoise": 4,
    "wu2022alignmentpropertysgd": 5,
    "wang2022generalizationerrorbounds": 3,
}
NOTE = (
    "## Takeaways\n\n- Noise covariance aligns with the **local Hessian**.\n"
    "- Compare with the alignment measure of Wu et al. 2022.\n"
)


def populate(path: Path) -> None:
    with db.Library.open(path) as lib:
        for name, (color, keys) in TAGS.items():
            lib.add_tags([lib.require_key(k) for k in keys], [name])
            if color:
                lib.set_tag_color(name, color)
        for status, keys in STATUS.items():
            lib.set_status([lib.require_key(k) for k in keys], status)
        for key, stars in RATINGS.items():
            lib.set_rating([lib.require_key(key)], stars)
        lib.add_note(lib.require_key(SELECTED), NOTE)


def shoot(library: Path, target: Path, search: str = "") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        window = create_window(library, settings=settings)
        app = QApplication.instance()
        window.resize(SIZE)
        window.reset_layout()
        window.select_key(SELECTED)
        if search:
            window.search_box.setText(search)
            window.search_box.returnPressed.emit()
        for _ in range(3):
            app.processEvents()
        window.grab().save(str(target))
        window.close()
        window.deleteLater()
        app.processEvents()
    print(f"wrote {target}")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library.sqlite"
        populate(library)
        shoot(library, HERE / "main.png")
        shoot(library, HERE / "search.png", search="sgd")
    return 0


if __name__ == "__main__":
    sys.exit(main())
