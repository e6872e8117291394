"""The library's @string macros: read once, kept until the library changes."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping

from . import bibvalue
from .store import Store


class StringMacros:
    """The @string macros of every imported file, evaluated (lower-case name -> text)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn
        self._cache: dict[str, str] | None = None
        self._version = 0  # data_version() when the macros were read
        store.after_rollback.append(self.forget)

    def forget(self) -> None:
        """Read them again next time: this connection has added or removed some."""
        self._cache = None

    def current(self) -> dict[str, str]:
        """The macros in force after everything (the last definition of each)."""
        # Another connection (the window's import worker, another process) may have added
        # some since they were read; data_version() changes when it commits.
        version = self.store.data_version()
        if self._cache is None or self._version != version:
            out: dict[str, str] = {}
            # In file order: a macro defined again holds from its new definition on (as in
            # BibTeX), so the last definition is the one in force after everything.
            for name, value in self.conn.execute(
                "SELECT name, value FROM blocks WHERE kind = 'string' ORDER BY pos"
            ):
                out[name.lower()] = bibvalue.evaluate(value, out)
            self._cache = out
            self._version = version
        return self._cache

    def at(self, paper_id: int) -> Mapping[str, str]:
        """The macros in force at a paper's place: a macro defined more than once has, for
        a paper of a file, the value its file gave it before the paper (as in BibTeX)."""
        macros = self.current()
        if (
            self.conn.execute(
                "SELECT 1 FROM blocks WHERE kind = 'string' GROUP BY name COLLATE NOCASE "
                "HAVING count(*) > 1 LIMIT 1"
            ).fetchone()
            is None
        ):
            return macros  # no macro is defined twice: the usual library
        here: dict[str, str] = {}
        for name, value in self.conn.execute(
            "SELECT name, value FROM blocks WHERE kind = 'string' AND pos < "
            "(SELECT pos FROM papers WHERE id = ?) ORDER BY pos",
            [paper_id],
        ):
            here[name.lower()] = bibvalue.evaluate(value, here)
        return ChainMap(here, macros)
