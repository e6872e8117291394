"""Citation keys: finding a paper by its key (or an old one), and giving keys.

Keys never change by themselves: a new key is asked for (:meth:`CiteKeys.set_key`,
:meth:`CiteKeys.regenerate_keys`) and the old one stays as an alias for old documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from . import derive, keys, options
from .errors import LibraryError, UnknownPaperError
from .macros import StringMacros
from .store import Store
from .values import Changes, now


class CiteKeys:
    """Keys and their aliases, and the library's key pattern."""

    def __init__(self, store: Store, macros: StringMacros) -> None:
        self.store = store
        self.conn = store.conn
        self.macros = macros

    @property
    def key_pattern(self) -> str:
        return self.store.setting(options.KEY_PATTERN)

    def set_key_pattern(self, pattern: str) -> Changes:
        keys.check_pattern(pattern)
        return self.store.change_setting(options.KEY_PATTERN, pattern)

    def id_for_key(self, key: str) -> int | None:
        row = self.conn.execute(
            "SELECT id FROM papers WHERE key = ? COLLATE NOCASE", [key]
        ).fetchone()
        if row:
            return int(row[0])
        row = self.conn.execute(
            "SELECT paper_id FROM key_aliases WHERE alias = ?", [key]
        ).fetchone()
        return int(row[0]) if row else None

    def require_key(self, key: str) -> int:
        pid = self.id_for_key(key)
        if pid is None:
            raise UnknownPaperError(f"no paper with citation key {key!r}")
        return pid

    def key_taken(self, key: str) -> bool:
        """A paper has the key, or had it (an alias)."""
        return (
            self.conn.execute(
                "SELECT 1 FROM papers WHERE key = ? COLLATE NOCASE UNION ALL "
                "SELECT 1 FROM key_aliases WHERE alias = ?",
                [key, key],
            ).fetchone()
            is not None
        )

    def generate_key(self, fields: list[tuple[str, str]], pattern: str | None = None) -> str:
        """A new unique key for these fields by the library's key pattern."""
        d = derive.derive(fields, self.macros.current())
        base = keys.format_key(
            pattern or self.key_pattern, d.authors or d.editors, str(d.year or ""), d.title
        )
        return keys.unique_key(base, self.key_taken)

    def set_key(self, paper_id: int, new_key: str, keep_alias: bool = True) -> Changes:
        """Change a citation key on request; the old key stays as an alias for old documents."""
        new_key = new_key.strip()
        if not new_key or any(c in new_key for c in " ,{}\"#%'()=\\"):
            raise LibraryError(f"{new_key!r} cannot be a citation key")
        with self.store.write() as w:
            w.capture("papers", "id", [paper_id], only=["key", "source", "modified"])
            w.capture("key_aliases", "paper_id", [paper_id])
            row = self.conn.execute("SELECT key FROM papers WHERE id = ?", [paper_id]).fetchone()
            if row is None:
                raise UnknownPaperError(f"no paper with id {paper_id}")
            old = row[0]
            if old == new_key:
                return Changes()
            clash = self.id_for_key(new_key)
            if clash is not None and clash != paper_id:
                raise LibraryError(f"citation key {new_key!r} is already used")
            self.conn.execute("DELETE FROM key_aliases WHERE alias = ?", [new_key])
            if keep_alias and old.lower() != new_key.lower():
                self.conn.execute(
                    "INSERT OR REPLACE INTO key_aliases(alias, paper_id) VALUES (?, ?)",
                    [old, paper_id],
                )
            self.conn.execute(
                "UPDATE papers SET key = ?, source = NULL, modified = ? WHERE id = ?",
                [new_key, now(), paper_id],
            )
        return w.result(Changes(papers={paper_id}, fields=True, keys={paper_id: (old, new_key)}))

    def plan_keys(
        self, ids: Iterable[int] | None = None, pattern: str | None = None
    ) -> dict[int, tuple[str, str]]:
        """Which keys :meth:`regenerate_keys` would change, {id: (old, new)}: a read only.

        Papers are taken in date-added order, so the a, b, c suffixes do not depend on the
        order of the ids given; a key given to one paper is taken for the next.
        """
        pattern = pattern or self.key_pattern
        keys.check_pattern(pattern)
        wanted = None if ids is None else set(ids)
        planned: dict[int, tuple[str, str]] = {}
        claimed: set[str] = set()
        macros = self.macros.current()  # regenerating keys defines no @string
        rows = self.conn.execute("SELECT id, key, fields FROM papers ORDER BY added, id")
        for pid, old, fields_json in rows.fetchall():
            if wanted is not None and pid not in wanted:
                continue
            fields = [tuple(x) for x in json.loads(fields_json)]
            d = derive.derive(fields, macros)
            base = keys.format_key(pattern, d.authors or d.editors, str(d.year or ""), d.title)
            suffix = old[len(base) :] if old.startswith(base) else None
            if suffix == "" or (
                suffix
                and suffix.isalpha()
                and suffix.islower()
                and (base.lower() in claimed or self.id_for_key(base) not in (None, pid))
            ):
                continue  # already this pattern's key, or its suffixed form: stable

            def taken(k: str, pid: int = pid) -> bool:
                if k.lower() in claimed:
                    return True
                other = self.id_for_key(k)
                return other is not None and other != pid

            new = keys.unique_key(base, taken)
            if new != old:
                planned[pid] = (old, new)
                claimed.add(new.lower())
        return planned

    def regenerate_keys(
        self, ids: Iterable[int] | None = None, pattern: str | None = None
    ) -> Changes:
        """Give papers new keys by the pattern, on request only; old keys stay as aliases.

        The change's ``keys`` holds {id: (old, new)} for the keys that changed.
        """
        changes = Changes()
        with self.store.write() as w:
            for pid, (_old, new) in self.plan_keys(ids, pattern).items():
                changes.merge(self.set_key(pid, new))
        return w.result(changes) if changes else changes
