"""Looking papers up by their identifiers, many at once, politely.

A :class:`Lookup` is one session: it takes the identifiers found in what the person typed
or pasted (:func:`db.identifiers.find_identifiers`) and gives one :class:`Outcome` per
identifier, in the order asked: the record found, or one line saying what went wrong where.
DOIs and ISBNs are asked one request each, a few at once; arXiv ids go in batches of up to
50 per request, one request every 3 s (its terms). A preprint arXiv knows to be published
gets its published record too (:attr:`Found.published`).

Threads, not processes: the work is waiting for servers. The session never touches the
library: answers for the response cache are read through a read-only connection of its own
(:class:`CacheReader`) and handed back in :attr:`Lookup.fresh_answers`, for the library's
owner to keep with ``Library.save_lookup_cache`` (a write from another connection would
make an open window reload everything).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from .http import DEFAULT_CONTACT, CachedAnswer, Cancelled, Http, SourceError
from .identifiers import Identifier
from .sources import (
    ARXIV_BATCH,
    Candidates,
    Endpoints,
    Found,
    arxiv_search,
    crossref_search,
    lookup_arxiv,
    lookup_doi,
    lookup_isbn,
    match_score,
    published_version,
)
from .store import Connection, SQLiteError, read_only

log = logging.getLogger(__name__)

#: The environment variable naming the contact address sent with every request.
CONTACT_VAR = "CITEDESK_CONTACT"
#: Seconds to wait for a server before calling it stalled (``CITEDESK_LOOKUP_TIMEOUT``).
TIMEOUT_VAR = "CITEDESK_LOOKUP_TIMEOUT"


@dataclass
class Outcome:
    """What one identifier gave: a record, or why not."""

    asked: Identifier
    found: Found | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.found is not None


#: progress(done, total, outcome): called from the lookup's threads as each id finishes.
ProgressFn = Callable[[int, int, Outcome], None]


class CacheReader:
    """Reads the library's response cache on a read-only connection of its own."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: Connection | None = None

    def __call__(self, url: str, accept: str, max_age: float) -> tuple[int, str, bytes] | None:
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = read_only(self.path)
                row = self._conn.execute(
                    "SELECT status, content_type, body FROM lookup_cache "
                    "WHERE url = ? AND accept = ? AND fetched >= ?",
                    [url, accept, time.time() - max_age],
                ).fetchone()
            except SQLiteError:
                return None  # no cache (an older file, a locked one): ask the server
        return None if row is None else (int(row[0]), str(row[1]), bytes(row[2]))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class Lookup:
    """One lookup session (see the module docstring). Thread-safe; :meth:`cancel` from
    any thread stops it at the next request, wait or chunk."""

    def __init__(
        self,
        endpoints: Endpoints | None = None,
        *,
        contact: str = "",
        cache: CacheReader | None = None,
        timeout: float | None = None,
        workers: int = 8,
    ) -> None:
        self.endpoints = endpoints or Endpoints.from_env()
        if timeout is None:
            try:
                timeout = float(os.environ.get(TIMEOUT_VAR, "") or 15.0)
            except ValueError:
                timeout = 15.0
        self.http = Http(
            # The environment (a script's, a shared machine's) overrides the library's.
            contact=os.environ.get(CONTACT_VAR, "").strip() or contact or DEFAULT_CONTACT,
            gates=self.endpoints.gates(),
            cache_get=cache,
            read_timeout=timeout,
            connect_timeout=min(5.0, timeout),
        )
        self.cache = cache
        self.workers = workers

    @property
    def fresh_answers(self) -> list[CachedAnswer]:
        return list(self.http.fresh)

    def cancel(self) -> None:
        """Stop now: no new request, and the ones under way are hung up on."""
        self.http.abort()

    @property
    def cancelled(self) -> bool:
        return self.http.cancel.is_set()

    def close(self) -> None:
        self.http.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Lookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- by identifier ------------------------------------------------------------------------

    def run(
        self,
        ids: Sequence[Identifier],
        progress: ProgressFn | None = None,
        *,
        fresh: bool = False,
        published: bool = True,
    ) -> list[Outcome]:
        """Look every identifier up; one Outcome each, in the order given.

        ``fresh`` skips the cache (a refresh). ``published``: an arXiv preprint with a DOI
        also gets its published record. Raises Cancelled when stopped.
        """
        outcomes: dict[str, Outcome] = {}
        for i in ids:
            outcomes.setdefault(i.work, Outcome(i))
        total = len(outcomes)
        done = 0
        lock = threading.Lock()

        def finish(outcome: Outcome) -> None:
            nonlocal done
            with lock:
                done += 1
                n = done
            if progress is not None:
                progress(n, total, outcome)

        def one(ident: Identifier) -> None:
            outcome = outcomes[ident.work]
            try:
                if ident.kind == "doi":
                    outcome.found = lookup_doi(self.http, self.endpoints, ident.value, fresh=fresh)
                elif ident.kind == "isbn":
                    outcome.found = lookup_isbn(self.http, self.endpoints, ident.value, fresh=fresh)
                else:
                    outcome.error = f"cannot look up {ident}"
            except SourceError as exc:
                outcome.error = str(exc)
            except Cancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - an answer no rule foresaw
                outcome.error = f"{_FIRST_SOURCE[ident.kind]}: {_unforeseen(ident, exc)}"
            finish(outcome)

        def arxiv(batch: list[Identifier]) -> None:
            try:
                answers = lookup_arxiv(
                    self.http, self.endpoints, [i.value for i in batch], fresh=fresh
                )
            except Cancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - an answer no rule foresaw
                answers = {i.value: SourceError("arXiv", _unforeseen(i, exc)) for i in batch}
            for ident in batch:
                outcome = outcomes[ident.work]
                answer = answers.get(ident.value)
                if isinstance(answer, Found):
                    outcome.found = self.complete(answer, fresh) if published else answer
                else:
                    outcome.error = str(answer or f"arXiv: nothing came back for {ident.value}")
                finish(outcome)

        arxiv_ids = [i for i in ids if i.kind == "arxiv" and outcomes[i.work].asked is i]
        others = [i for i in ids if i.kind != "arxiv" and outcomes[i.work].asked is i]
        tasks: list[Callable[[], None]] = [
            partial(arxiv, arxiv_ids[s : s + ARXIV_BATCH])
            for s in range(0, len(arxiv_ids), ARXIV_BATCH)
        ]
        tasks += [partial(one, i) for i in others]
        self._run_all(tasks)
        return list(outcomes.values())

    def _run_all(self, tasks: list[Callable[[], None]]) -> None:
        if not tasks:
            return
        if len(tasks) == 1:
            tasks[0]()
        else:
            with ThreadPoolExecutor(min(self.workers, len(tasks)), "lookup") as pool:
                futures: list[Future[None]] = [pool.submit(t) for t in tasks]
                try:
                    for f in futures:
                        f.result()
                except BaseException:
                    self.cancel()
                    raise
        if self.cancelled:
            raise Cancelled

    # -- by title and author ----------------------------------------------------------------

    def search(self, title: str, author: str = "", year: str = "") -> Candidates:
        """arXiv's and Crossref's matches for a paper known by title, first author and year,
        scored (:func:`match_score`), best first."""
        out = Candidates()
        lock = threading.Lock()

        def ask(source: Callable[..., list[Found]]) -> None:
            try:
                found = source(self.http, self.endpoints, title, author)
            except SourceError as exc:
                with lock:
                    out.problems.append(str(exc))
                return
            for f in found:
                f.score = match_score(f, title, author, year)
            with lock:
                out.found.extend(found)

        self._run_all([lambda: ask(arxiv_search), lambda: ask(crossref_search)])
        # Best first; at equal scores the published record (Crossref) before the preprint.
        out.found.sort(key=lambda f: (-f.score, f.source == "arXiv"))
        return out

    def complete(self, found: Found, fresh: bool = True) -> Found:
        """An arXiv record made whole: with a DOI, it gets its published record (the
        preprint, with the DOI arXiv gives, stays right when that lookup fails)."""
        doi = found.get("doi")
        if found.source == "arXiv" and doi and found.published is None:
            try:
                record = lookup_doi(self.http, self.endpoints, doi, fresh=fresh)
                found.published = published_version(found, record)
                found.published.score = found.score  # a match was made on the preprint
            except SourceError:
                pass
            except Cancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - an answer no rule foresaw
                log.warning("published version of %s: %s", found.identifier, exc)
        return found


def _unforeseen(ident: Identifier, exc: BaseException) -> str:
    """An answer our reading did not foresee: one line for people, the rest for the log."""
    log.warning("looking up %s", ident, exc_info=exc)
    return f"the answer could not be read ({type(exc).__name__}: {exc})"[:300]


#: Where an identifier is first asked (what its error names when nothing else does).
_FIRST_SOURCE = {"doi": "doi.org", "arxiv": "arXiv", "isbn": "Open Library"}
