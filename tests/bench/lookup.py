"""Lookup figures against issue 15's budgets, on a loopback server (no network).

    python -m tests.bench.lookup [--delay 0.05] [--count 100] [--runs 3] [--no-window]

- lookup-overhead: Citedesk's time per DOI above the server's own, measured against a bare
  httpx client asking the same URLs one after another (the server waits ``--delay`` per
  request, as a distant one would). Budget: 20 ms per identifier.
- lookup-100-dois: 100 DOIs at once (looked up, previewed, added in one import) against the
  time a polite client needs for 100 sequential requests divided by the concurrency it may
  use on that host (doi.org: 3). Budget: 1.2x.
- lookup-window: the window's largest pause (a 10 ms heartbeat timer) while the Add by
  Identifier dialog looks up the 100 DOIs. Budget: 100 ms.

The server replays the recorded doi.org answer for 10.1126/science.169.3946.635, registered
under 100 made-up DOIs, so each lookup takes doi.org's real redirect chain (two requests).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx  # noqa: E402

from tests.lookupserver import ReplayServer  # noqa: E402

FRANK = "10.1126/science.169.3946.635"
CSL = "application/vnd.citationstyles.csl+json"


def made_up_dois(server: ReplayServer, count: int) -> list[str]:
    """``count`` DOIs answering the recorded CSL-JSON record, each with its own title."""
    with httpx.Client(follow_redirects=True) as client:
        record = client.get(f"{server.url}/doi/{FRANK}", headers={"Accept": CSL}).json()
    dois = []
    for i in range(count):
        doi = f"10.5555/bench.{i:04d}"
        item = dict(record, DOI=doi, title=f"{record['title']} {i}")
        server.add_doi_answer(doi, CSL, json.dumps(item))
        dois.append(doi)
    return dois


def bare_sequential(server: ReplayServer, dois: list[str]) -> float:
    """A polite client's time: one request after another, redirects followed."""
    with httpx.Client(follow_redirects=True) as client:
        started = time.perf_counter()
        for doi in dois:
            r = client.get(f"{server.url}/doi/{doi}", headers={"Accept": CSL})
            r.raise_for_status()
            json.loads(r.text)
        return time.perf_counter() - started


def citedesk_each(server: ReplayServer, dois: list[str], folder: Path) -> float:
    """Citedesk asking the same DOIs one at a time (no cache), each previewed."""
    from citedesk.db import Library
    from citedesk.db.identifiers import Identifier

    library = Library.open(folder / "each.sqlite", seed=False)
    started = time.perf_counter()
    for doi in dois:
        with library.lookup() as lk:
            (o,) = lk.run([Identifier("doi", doi)], fresh=True)
        assert o.found is not None, o.error
        library.preview_found([o.found])
    elapsed = time.perf_counter() - started
    library.close()
    return elapsed


def citedesk_all(server: ReplayServer, dois: list[str], folder: Path) -> float:
    """100 DOIs pasted at once: found in the text, looked up, previewed, added."""
    from citedesk.db import Library
    from citedesk.db.identifiers import find_identifiers

    library = Library.open(folder / f"all-{time.monotonic_ns()}.sqlite", seed=False)
    text = "\n".join(f"[{i}] Someone. A paper. doi:{d}" for i, d in enumerate(dois))
    started = time.perf_counter()
    ids = find_identifiers(text)
    with library.lookup() as lk:
        outcomes = lk.run(ids)
        library.save_lookup_cache(lk.fresh_answers)
    found = [o.found for o in outcomes if o.found is not None]
    previews = library.preview_found(found)
    report = library.add_found([p.found for p in previews])
    elapsed = time.perf_counter() - started
    assert len(report.added) == len(dois), report.summary()
    library.close()
    return elapsed


def window_pause(server: ReplayServer, dois: list[str], folder: Path) -> float:
    """The longest gap between 10 ms heartbeats of the real window while the DOIs, pasted,
    are looked up and their 100 previews listed (the seeded library open)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer

    from citedesk.app import create_window, ensure_application
    from citedesk.lookupdialog import AddByIdentifierDialog
    from citedesk.settings import Settings

    app = ensure_application()
    settings = Settings(QSettings(str(folder / "citedesk.ini"), QSettings.Format.IniFormat))
    window = create_window(str(folder / f"window-{time.monotonic_ns()}.sqlite"), settings=settings)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def beat() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(beat)
    timer.start()
    dialog = window.lookups.add_by_identifier("\n".join(f"doi:{d}" for d in dois), start=True)
    assert isinstance(dialog, AddByIdentifierDialog)
    deadline = time.monotonic() + 120
    while dialog.running and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.001)
    for _ in range(20):  # the previews painted
        app.processEvents()
        time.sleep(0.005)
    timer.stop()
    rows = len(dialog.checked_rows())
    assert rows == len(dois), f"{rows} rows checked of {len(dois)}"
    dialog.reject()
    window.close()
    app.processEvents()
    return max(gaps)


def report(name: str, figure: str, budget: str, passed: bool) -> bool:
    """One line: the figure, its budget, PASS or FAIL."""
    print(f"{name:<17} {figure}   budget {budget}   {'PASS' if passed else 'FAIL'}", flush=True)
    return passed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--delay", type=float, default=0.05, help="server's seconds per request")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-window", action="store_true")
    args = ap.parse_args(argv)
    ok = True
    with ReplayServer() as server, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(server.env())
        os.environ["CITEDESK_ARXIV_INTERVAL"] = "0"
        folder = Path(tmp)
        dois = made_up_dois(server, args.count)
        server.delay = args.delay
        few = dois[:20]
        overhead = []
        for _ in range(args.runs):
            bare = bare_sequential(server, few)
            ours = citedesk_each(server, few, folder)
            overhead.append((ours - bare) / len(few))
        per_id = statistics.median(overhead) * 1000
        ok &= report(
            "lookup-overhead",
            f"{per_id:6.1f} ms per identifier above the server's own time (bare httpx vs "
            f"Citedesk, {len(few)} DOIs, server {args.delay * 1000:.0f} ms per request)",
            "20 ms",
            per_id <= 20,
        )
        concurrency = 3
        sequential = statistics.median(bare_sequential(server, dois) for _ in range(args.runs))
        ours_all = statistics.median(citedesk_all(server, dois, folder) for _ in range(args.runs))
        polite = sequential / concurrency
        ok &= report(
            f"lookup-{args.count}-dois",
            f"{ours_all:6.2f} s (found, looked up, previewed, added) vs {sequential:.2f} s "
            f"sequential / {concurrency} = {polite:.2f} s   ratio {ours_all / polite:.2f}",
            "1.2",
            ours_all / polite <= 1.2,
        )
        if not args.no_window:
            pause = window_pause(server, dois, folder)
            ok &= report(
                "lookup-window",
                f"{pause:6.0f} ms longest pause of a 10 ms heartbeat in the window while "
                f"{args.count} pasted DOIs are looked up and listed",
                "100 ms",
                pause <= 100,
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
