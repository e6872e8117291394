"""Render screenshots of the real window, offscreen: the README's two at 1280x800, and the
window at 1024x640, 1280x800 and 1920x1080 in a light and a dark palette, on the seeded
library and on biblatex's own examples (biblatex-examples.bib).

    python resources/screenshots/make_screenshots.py [--bibdata ../shared/bibdata]
    python resources/screenshots/make_screenshots.py --lookups-only  # lookup.png, refresh.png
    python resources/screenshots/make_screenshots.py --citing-only  # picker.png, bibliography.png

The seeded library (25 papers) is made in a temporary folder. So that the sidebar and the
tag column show what a library in use looks like, a few papers are given tags (with
colours), reading statuses, ratings and a note first, through the same ``db.Library`` calls
the window uses. Settings are throwaway, so a saved layout never changes the pictures.
biblatex-examples.bib is read from the shared corpus (skipped, saying so, where absent).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QSize  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402

from citedesk import db  # noqa: E402
from citedesk.app import create_window, ensure_application  # noqa: E402
from citedesk.settings import Settings  # noqa: E402

HERE = Path(__file__).resolve().parent
SIZE = QSize(1280, 800)
SIZES = (QSize(1024, 640), QSize(1280, 800), QSize(1920, 1080))
BIBDATA = HERE.parents[2] / "shared" / "bibdata"
EXAMPLES = "texlive/biblatex-examples.bib"
EXAMPLES_SELECTED = "aksin"
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


def dark_palette() -> QPalette:
    """A dark palette, as a dark desktop theme gives one (Fusion's roles)."""
    p = QPalette()
    base, window, text = QColor("#1e1f22"), QColor("#2b2d30"), QColor("#dfe1e5")
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, QColor("#26282b")),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Highlight, QColor("#2f65ca")),
        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
        (QPalette.ColorRole.PlaceholderText, QColor("#8c8f94")),
        (QPalette.ColorRole.Mid, QColor("#4e5157")),
        (QPalette.ColorRole.Link, QColor("#6fa8ff")),
    ):
        p.setColor(role, color)
    return p


def shoot(
    library: Path,
    target: Path,
    search: str = "",
    size: QSize = SIZE,
    selected: str = SELECTED,
    dark: bool = False,
) -> None:
    app = ensure_application()
    default = app.palette()
    if dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        window = create_window(library, settings=settings)
        window.resize(size)
        window.reset_layout()
        window.select_key(selected)
        if search:
            window.search_box.setText(search)
            window.search_box.returnPressed.emit()
        for _ in range(5):
            app.processEvents()
        window.grab().save(str(target))
        window.close()
        window.deleteLater()
        app.processEvents()
    if dark:
        app.setPalette(default)
    print(f"wrote {target}")


def shoot_fulltext(library: Path, tmp: Path) -> None:
    """fulltext.png: a word found only in the selected paper's PDF (its page and words)."""
    pdf = HERE.parents[1].parent / "shared" / "pdfs" / "arxiv-1111.2011v2.pdf"
    if not pdf.exists():
        print(f"skipped fulltext.png: {pdf} is absent")
        return
    with_pdf = tmp / "with-pdf.sqlite"
    db.backup_library(library, with_pdf)
    with db.Library.open(with_pdf) as lib:
        lib.attach(lib.require_key(SELECTED), [pdf])
        lib.index_fulltext(workers=1)
    shoot(with_pdf, HERE / "fulltext.png", search="impurity")


#: What the Add by Identifier shot looks up: a reference list as one pastes it.
LOOKUP_TEXT = (
    "[1] H. S. Frank, The structure of ordinary water, Science 169 (1970), "
    "doi:10.1126/science.169.3946.635\n"
    "[2] J. M. Murray, A. Del Maestro, Z. Tesanovic, arXiv:1111.2011v2\n"
    "[3] C. Stanley, T. Windisch, Heat-bath random walks with Markov bases, arXiv:1605.08386\n"
    "[4] A. Gould et al., Frequency of hot Jupiters, arXiv:astro-ph/0601001\n"
    "[5] A DOI with a typo: 10.1126/science.169.3946.6350\n"
)
#: The published version of arXiv 1111.2011 (Phys. Rev. B), as doi.org's CSL-JSON gives it.
PRB_DOI = "10.1103/PhysRevB.85.115117"
PRB_CSL = {
    "type": "article-journal",
    "title": "Quantum criticality for extended nodes on a Bethe lattice in the large "
    "connectivity limit",
    "author": [
        {"family": "Murray", "given": "James M."},
        {"family": "Del Maestro", "given": "Adrian"},
        {"family": "Tešanović", "given": "Zlatko"},
    ],
    "container-title": "Physical Review B",
    "volume": "85",
    "issue": "11",
    "page": "115117",
    "issued": {"date-parts": [[2012, 3, 14]]},
    "DOI": PRB_DOI,
    "publisher": "American Physical Society (APS)",
}


def replay_server():
    """The loopback server of the tests (recorded doi.org, Crossref and arXiv answers),
    its URLs put in the environment; None where tests/lookupserver.py or the recordings
    are absent."""
    sys.path.insert(0, str(HERE.parents[1]))
    try:
        from tests.lookupserver import ReplayServer
    except ImportError:
        return None
    try:
        server = ReplayServer().start()
    except FileNotFoundError:
        return None
    os.environ.update(server.env())
    os.environ["CITEDESK_ARXIV_INTERVAL"] = "0"
    return server


def _settle(app, done, seconds: float = 20.0) -> None:
    """Let the event loop run until ``done()`` (a lookup's thread answers meanwhile)."""
    import time

    end = time.monotonic() + seconds
    while not done() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()


def _grab(app, widget, name: str) -> None:
    """Let the widget paint, then save it as resources/screenshots/NAME."""
    _settle(app, lambda: True)
    widget.grab().save(str(HERE / name))
    print(f"wrote {HERE / name}")


def _close(app, window) -> None:
    window.close()
    window.deleteLater()
    app.processEvents()


def _window_with(library: Path, tmp: Path):
    settings = Settings(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    window = create_window(library, settings=settings)
    window.resize(SIZE)
    window.reset_layout()
    return window


def shoot_lookup_preview(library: Path, tmp: Path) -> None:
    """lookup.png: Add by Identifier after a pasted reference list was looked up: found,
    a published preprint with its version choice, one the library has, one not found."""
    import json

    server = replay_server()
    if server is None:
        print("skipped lookup.png: tests/lookupserver.py or ../shared/recorded is absent")
        return
    try:
        server.add_doi_answer(
            PRB_DOI, "application/vnd.citationstyles.csl+json", json.dumps(PRB_CSL)
        )
        copy = tmp / "lookup.sqlite"
        db.backup_library(library, copy)
        with db.Library.open(copy) as lib:  # the library has the hot Jupiters already
            lib.import_text(
                "@article{gould2006hotjupiters, author = {Gould, Andrew and others}, title = "
                "{Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit "
                "Surveys Toward the Galactic Bulge and Carina}, year = {2006}, eprint = "
                "{astro-ph/0601001}, eprinttype = {arxiv}}"
            )
        app = ensure_application()
        window = _window_with(copy, tmp)
        dialog = window.lookups.add_by_identifier(LOOKUP_TEXT, start=True)
        dialog.resize(1100, 720)
        _settle(app, lambda: not dialog.running)
        dialog.results.setCurrentItem(dialog.results.topLevelItem(1))
        _grab(app, dialog, "lookup.png")
        dialog.reject()
        _close(app, window)
    finally:
        server.stop()


def shoot_refresh_diff(library: Path, tmp: Path) -> None:
    """refresh.png: Refresh from Sources on the selected paper, found by title and author
    at arXiv (a newer version), its differences field by field."""
    server = replay_server()
    if server is None:
        print("skipped refresh.png: tests/lookupserver.py or ../shared/recorded is absent")
        return
    try:
        with db.Library.open(library) as lib:
            paper = lib.paper(lib.require_key(SELECTED))
        abstract = paper.text("abstract").replace("Lastly, extensive", "Extensive")
        server.add_arxiv_entry(
            "2310.00692v2", paper.title, ["Mingze Wang", "Lei Wu"], "2024-05-21", abstract
        )
        app = ensure_application()
        window = _window_with(library, tmp)
        window.select_key(SELECTED)
        dialog = window.lookups.refresh(window.selected_ids())
        dialog.resize(960, 620)
        _settle(app, lambda: not dialog.running)
        dialog.diff.setCurrentItem(dialog.diff.topLevelItem(dialog.diff.topLevelItemCount() - 1))
        _grab(app, dialog, "refresh.png")
        dialog.reject()
        _close(app, window)
    finally:
        server.stop()


def shoot_picker(library: Path, tmp: Path) -> None:
    """picker.png: the cite-as-you-write picker (Quick Cite) with one paper picked and a
    second search typed."""
    app = ensure_application()
    window = _window_with(library, tmp)
    window.cayw.pick_to_clipboard()
    picker = window.cayw.picker
    picker.resize(900, 380)
    picker.search_box.setText("alignment sgd")
    _settle(app, lambda: True)
    picker.add_current()
    picker.search_box.setText("sharpness")
    picker.matches.setCurrentRow(1)
    _grab(app, picker, "picker.png")
    picker.reject()
    _close(app, window)


def shoot_bibliography(library: Path, tmp: Path) -> None:
    """bibliography.png: what File ▸ Export Bibliography writes as HTML (APA, the papers
    tagged sgd-noise, flat-minima or theory), as a browser shows it."""
    from PySide6.QtWidgets import QTextBrowser

    from citedesk.citing import bibliography_document

    app = ensure_application()
    with db.Library.open(library, seed=False) as lib:
        ids = sorted(
            set(lib.paper_ids(db.Query(tag="sgd-noise")))
            | set(lib.paper_ids(db.Query(tag="flat-minima")))
            | set(lib.paper_ids(db.Query(tag="theory")))
        )
        page = bibliography_document(lib.bibliography(ids, "apa", "en-US", "html"), "html")
    (tmp / "references.html").write_text(page, encoding="utf-8")
    browser = QTextBrowser()
    browser.setObjectName("bibliographyPreview")
    browser.setWindowTitle("references.html")
    browser.document().setDocumentMargin(28)
    browser.setHtml(page)
    browser.resize(900, 640)
    browser.show()
    _grab(app, browser, "bibliography.png")
    _close(app, browser)
    app.processEvents()


def main() -> int:
    bibdata = BIBDATA
    if "--bibdata" in sys.argv:
        bibdata = Path(sys.argv[sys.argv.index("--bibdata") + 1])
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library.sqlite"
        populate(library)
        if "--citing-only" in sys.argv:  # just picker.png and bibliography.png
            shoot_picker(library, Path(tmp))
            shoot_bibliography(library, Path(tmp))
            return 0
        if "--lookups-only" not in sys.argv:
            shoot(library, HERE / "main.png")
            shoot(library, HERE / "search.png", search="sgd")
        shoot_lookup_preview(library, Path(tmp))
        shoot_refresh_diff(library, Path(tmp))
        if "--lookups-only" in sys.argv:  # just the two dialogs (lookup.png, refresh.png)
            return 0
        shoot_fulltext(library, Path(tmp))
        shoot_picker(library, Path(tmp))
        shoot_bibliography(library, Path(tmp))
        for size in SIZES:
            for dark in (False, True):
                name = f"seed-{size.width()}x{size.height()}-{'dark' if dark else 'light'}.png"
                shoot(library, HERE / name, size=size, dark=dark)
        examples = bibdata / EXAMPLES
        if not examples.exists():
            print(f"skipped biblatex-examples: {examples} is absent")
            return 0
        other = Path(tmp) / "examples.sqlite"
        with db.Library.open(other, seed=False) as lib:
            lib.import_files([examples])
        for size in SIZES:
            for dark in (False, True):
                name = f"examples-{size.width()}x{size.height()}-{'dark' if dark else 'light'}.png"
                shoot(other, HERE / name, size=size, selected=EXAMPLES_SELECTED, dark=dark)
    return 0


if __name__ == "__main__":
    sys.exit(main())
