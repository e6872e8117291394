"""Saved searches, and the papers' "last opened" time behind the reading queue.

A saved search is a name for what the window's search box and sidebar narrow the table
to: the typed text (words, fields, tags, status, years, full text) and a tag or a reading
status. They are kept in one library setting (:data:`db.options.SAVED_SEARCHES`), so every
write here is one settings write: undoable, and seen by every window and script. A search
is stored as its text, never as the papers it found, so it follows the library.

Names are unique without regard to case and kept as first typed. An auto-export that
follows a saved search (db/autoexport.py) stores its name: renaming the search carries the
auto-export along in the same write, and removing a search an auto-export follows is
refused, naming the file, so that no file silently stops being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import options
from .errors import LibraryError, UnknownPaperError
from .store import Store
from .values import STATUSES, Changes, Query, normal_tag, now


@dataclass(frozen=True)
class SavedSearch:
    """A search kept under a name; ``query`` holds its text, tag and status only."""

    name: str
    query: Query


def normal_name(name: str) -> str:
    """A name as stored: runs of white space made one space, none at the ends."""
    return " ".join(name.replace("\x00", "").split())


def stored(query: Query) -> dict[str, Any]:
    """What a saved search keeps of a query. Keys, ids and "recently added" are not
    searches a person types, so a query with them cannot be saved."""
    if query.keys or query.ids or query.recent_days is not None or query.queue:
        raise LibraryError(
            "only the search text, a tag and a reading status can be saved as a search"
        )
    if query.status is not None and query.status not in STATUSES:
        raise LibraryError(
            f"unknown reading status {query.status!r}; choose one of {', '.join(STATUSES)}"
        )
    tag = normal_tag(query.tag) if query.tag is not None else None
    return {"search": query.search.strip(), "tag": tag or None, "status": query.status}


def from_stored(value: dict[str, Any]) -> Query:
    return Query(
        search=str(value.get("search") or ""),
        tag=value.get("tag") or None,
        status=value.get("status") or None,
    )


def narrowed(query: Query, search: str) -> Query:
    """``query`` with more words typed: both must match (the syntax has no OR, so the
    texts side by side mean both). A quote the saved text left open is closed first."""
    extra = search.strip()
    if not extra:
        return query
    base = query.search.strip()
    if base.count('"') % 2:
        base += '"'
    return Query(
        search=f"{base} {extra}".strip(),
        tag=query.tag,
        status=query.status,
        keys=query.keys,
        ids=query.ids,
        recent_days=query.recent_days,
        queue=query.queue,
    )


def find(searches: dict[str, dict[str, Any]], name: str) -> str | None:
    """The stored spelling of ``name`` (compared without case), or None."""
    wanted = normal_name(name).casefold()
    return next((n for n in searches if n.casefold() == wanted), None)


def saved_query(store: Store, name: str) -> Query:
    """The query saved as ``name``; LibraryError naming it when there is none."""
    searches = store.setting(options.SAVED_SEARCHES)
    found = find(searches, name)
    if found is None:
        raise LibraryError(f"no saved search is called {name!r}")
    return from_stored(searches[found])


class SavedSearches:
    """Reading and writing the saved searches; every write is one undoable settings write."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self) -> list[SavedSearch]:
        """Every saved search, in order of name (without case)."""
        searches = self.store.setting(options.SAVED_SEARCHES)
        return [
            SavedSearch(name, from_stored(searches[name]))
            for name in sorted(searches, key=lambda n: (n.casefold(), n))
        ]

    def query_of(self, name: str) -> Query:
        return saved_query(self.store, name)

    def save(self, name: str, query: Query) -> Changes:
        """Save a new search; a name in use (in any case) is refused."""
        clean = self._checked_name(name)
        value = stored(query)
        with self.store.write():
            searches = self.store.setting(options.SAVED_SEARCHES)
            if find(searches, clean) is not None:
                raise LibraryError(f"a saved search is already called {find(searches, clean)!r}")
            searches[clean] = value
            return self.store.change_setting(options.SAVED_SEARCHES, searches)

    def update(self, name: str, query: Query) -> Changes:
        """Give a saved search another query; the same query again changes nothing."""
        value = stored(query)
        with self.store.write():
            searches = self.store.setting(options.SAVED_SEARCHES)
            found = self._existing(searches, name)
            if searches[found] == value:
                return Changes()
            searches[found] = value
            return self.store.change_setting(options.SAVED_SEARCHES, searches)

    def rename(self, old: str, new: str) -> Changes:
        """Rename a saved search (a change of case only is a rename too); auto-exports that
        follow it follow the new name, in the same write."""
        clean = self._checked_name(new)
        with self.store.write() as w:
            searches = self.store.setting(options.SAVED_SEARCHES)
            found = self._existing(searches, old)
            if clean == found:
                return Changes()
            clash = find(searches, clean)
            if clash is not None and clash != found:
                raise LibraryError(f"a saved search is already called {clash!r}")
            # Rebuilt in the same order, with the entry under its new name.
            renamed = {(clean if n == found else n): v for n, v in searches.items()}
            changes = self.store.change_setting(options.SAVED_SEARCHES, renamed)
            exports = self.store.setting(options.AUTOEXPORTS)
            if any(spec.get("saved") == found for spec in exports):
                for spec in exports:
                    if spec.get("saved") == found:
                        spec["saved"] = clean
                changes.merge(self.store.change_setting(options.AUTOEXPORTS, exports))
        return w.result(changes)  # one undo for both settings

    def remove(self, name: str) -> Changes:
        """Remove a saved search; refused while an auto-export follows it."""
        with self.store.write():
            searches = self.store.setting(options.SAVED_SEARCHES)
            found = self._existing(searches, name)
            files = [
                spec["path"]
                for spec in self.store.setting(options.AUTOEXPORTS)
                if spec.get("saved") == found
            ]
            if files:
                raise LibraryError(
                    f"the saved search {found!r} keeps {', '.join(files)} current; remove that "
                    "auto-export first"
                )
            del searches[found]
            return self.store.change_setting(options.SAVED_SEARCHES, searches)

    def mark_opened(self, paper_id: int) -> Changes:
        """Note that a paper's file or link was opened, now.

        Not an edit: no undo is captured (the returned changes have none), so the undo
        history stays as it was; the changes name the paper so a view showing the time can
        read it again.
        """
        with self.store.write():
            cur = self.store.conn.execute(
                "UPDATE papers SET opened = ? WHERE id = ?", [now(), paper_id]
            )
            if cur.rowcount == 0:
                raise UnknownPaperError(f"no paper with id {paper_id}")
        return Changes(papers={paper_id})

    # -- inside -------------------------------------------------------------------------------

    @staticmethod
    def _checked_name(name: str) -> str:
        clean = normal_name(name)
        if not clean:
            raise LibraryError("a saved search needs a name")
        return clean

    @staticmethod
    def _existing(searches: dict[str, dict[str, Any]], name: str) -> str:
        found = find(searches, name)
        if found is None:
            raise LibraryError(f"no saved search is called {name!r}")
        return found
