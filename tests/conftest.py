"""Shared fixtures: real library files in tmp_path, the shared BibTeX corpus where present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.pgfixtures"]

# Qt tests run headless; set before any test module imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
BIBDATA = REPO.parent / "shared" / "bibdata"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def private_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Window settings go to a folder of the test's own, never the user's (see
    desktop/settings.py: CITEDESK_SETTINGS_DIR)."""
    folder = tmp_path / "settings"
    monkeypatch.setenv("CITEDESK_SETTINGS_DIR", str(folder))
    return folder


#: Where lookups go in a test that starts no server: port 9 on loopback, where nothing
#: listens, so a lookup fails at once ("cannot connect") instead of reaching the network.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches doi.org, Crossref, arXiv or Open Library: ``lookup_env`` points
    the lookups at its loopback server; every other test, at nothing."""
    for name in ("DOI", "CROSSREF", "ARXIV", "OPENLIBRARY"):
        monkeypatch.setenv(f"CITEDESK_{name}_URL", NOWHERE)
    monkeypatch.setenv("CITEDESK_ARXIV_INTERVAL", "0")
    # Cite as you write (desktop/cayw.py): each window listens on a free loopback port of
    # its own, never on 23119 where a person's Zotero or Citedesk may be listening.
    monkeypatch.setenv("CITEDESK_CAYW_PORT", "0")
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def bibdata() -> Path:
    """The real-world BibTeX corpus (../shared/bibdata), read in place, never copied."""
    if not BIBDATA.is_dir():
        pytest.skip(f"the shared BibTeX corpus is not at {BIBDATA} (it lives beside the repo)")
    return BIBDATA


@pytest.fixture
def lib_path(tmp_path: Path) -> Path:
    return tmp_path / "library.sqlite"


@pytest.fixture
def seeded(lib_path: Path):
    from citedesk.db import Library

    lib = Library.open(lib_path)
    yield lib
    lib.close()


@pytest.fixture
def empty_lib(lib_path: Path):
    from citedesk.db import Library

    lib = Library.open(lib_path, seed=False)
    yield lib
    lib.close()


@pytest.fixture
def library_path(lib_path: Path) -> Path:
    """The library file a window test opens; a test module may override it."""
    return lib_path


@pytest.fixture
def open_window(qtbot, library_path: Path):
    """Opens a real window over ``library_path`` (again after a close, like a restart)."""
    from citedesk.app import create_window  # Qt only for the tests that ask for a window

    def opener(**kwargs):
        window = create_window(library_path, **kwargs)
        qtbot.addWidget(window)
        qtbot.waitExposed(window)
        return window

    return opener


@pytest.fixture
def window(open_window):
    return open_window()


@pytest.fixture
def bbl(tmp_path: Path):
    """Runs BibTeX 0.99d (style plain, every entry) on a .bib file; returns the .bbl text.

    Skips the test, saying why, where ``bibtex`` is not installed (.ci/run installs it).
    """
    import shutil
    import subprocess

    if shutil.which("bibtex") is None:
        pytest.skip("bibtex is not installed (Debian: texlive-bibtex-extra; .ci/run installs it)")
    runs = iter(range(1_000_000))

    def run(bib: Path) -> str:
        work = tmp_path / f"bbl-{next(runs)}"
        work.mkdir()
        (work / "refs.bib").write_bytes(Path(bib).read_bytes())
        (work / "doc.aux").write_text(
            "\\relax\n\\citation{*}\n\\bibstyle{plain}\n\\bibdata{refs}\n"
        )
        subprocess.run(
            ["bibtex", "-terse", "doc"],
            cwd=work,
            capture_output=True,
            timeout=60,
            env={**os.environ, "openout_any": "a"},
        )
        return (work / "doc.bbl").read_text(encoding="latin-1")

    return run


SHARED_PDFS = REPO.parent / "shared" / "pdfs"


@pytest.fixture
def pdfs() -> Path:
    """Real PDFs (../shared/pdfs, see its PROVENANCE.md), read in place, never copied."""
    if not SHARED_PDFS.is_dir():
        pytest.skip(f"the shared PDFs are not at {SHARED_PDFS} (they live beside the repo)")
    return SHARED_PDFS


# --- Lookup services on loopback: recorded doi.org/Crossref/arXiv answers (tests/lookupserver.py)


@pytest.fixture
def lookup_server():
    """A ReplayServer on 127.0.0.1 (port 0) replaying ../shared/recorded, per test."""
    from tests.lookupserver import RecordingsMissing, ReplayServer, recorded_folder

    try:
        server = ReplayServer()
    except RecordingsMissing as exc:
        pytest.skip(f"../shared/recorded is absent: {recorded_folder()} ({exc})")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def lookup_env(lookup_server, monkeypatch: pytest.MonkeyPatch):
    """The lookup clients' base URLs pointed at ``lookup_server``, with no arXiv pause."""
    for name, value in lookup_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CITEDESK_ARXIV_INTERVAL", "0")
    return lookup_server
