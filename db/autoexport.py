"""Auto-exports: .bib files kept current after every change.

Each is a spec in the library's settings (``{path, tag, aux, profile, saved}``; ``saved``
names a saved search, read again at each run so the file follows the search as it is).
Its content is built in one SQL statement (:meth:`AutoExports.autoexport_data`) and a file
is written only when that content changed, so an edit costs little while many files are
kept.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import bibwrite, options
from . import export as export_mod
from .bibout import Exports, write_export
from .errors import LibraryError
from .queries import Queries
from .saved import find, saved_query
from .store import Store
from .values import Changes, Query


class AutoExports:
    """The auto-export specs, their content, and rewriting the files that changed."""

    def __init__(self, store: Store, queries: Queries, exports: Exports) -> None:
        self.store = store
        self.conn = store.conn
        self.queries = queries
        self.exports = exports

    def autoexports(self) -> list[dict[str, Any]]:
        """Files kept current after every change: {path, tag, aux, profile, saved}."""
        return self.store.setting(options.AUTOEXPORTS)

    def add_autoexport(
        self,
        path: str | os.PathLike[str],
        *,
        tag: str | None = None,
        aux: str | os.PathLike[str] | None = None,
        profile: str | None = None,
        saved: str | None = None,
    ) -> Changes:
        if sum(bool(x) for x in (tag, aux, saved)) > 1:
            raise LibraryError(
                "an auto-export follows a tag, an .aux file or a saved search, not several"
            )
        if profile:
            self.exports.profile(profile)
        if saved:
            saved_query(self.store, saved)  # refuses an unknown name
            saved = find(self.store.setting(options.SAVED_SEARCHES), saved)
        target = str(Path(path).expanduser().resolve())
        entry: dict[str, Any] = {
            "path": target,
            "tag": tag,
            "aux": str(Path(aux).expanduser().resolve()) if aux else None,
            "profile": profile,
        }
        if saved:
            entry["saved"] = saved
        with self.store.write():
            current = [a for a in self.autoexports() if a["path"] != target]
            return self.store.change_setting(options.AUTOEXPORTS, [*current, entry])

    def remove_autoexport(self, path: str | os.PathLike[str]) -> Changes:
        target = str(Path(path).expanduser().resolve())
        with self.store.write():
            current = self.autoexports()
            kept = [a for a in current if a["path"] != target and a["path"] != str(path)]
            if len(kept) == len(current):
                raise LibraryError(f"no auto-export writes {path}")
            return self.store.change_setting(options.AUTOEXPORTS, kept)

    def autoexport_data(self, spec: dict[str, Any]) -> bytes:
        """An auto-export's content: the UTF-8 bytes that ``export_text`` gives for it.

        SQLite joins the pieces of the file (``group_concat`` over the stored entry texts)
        in one statement, and returns it already encoded (``CAST AS BLOB``). Python is
        called back only for the entries it has to write itself: edited ones, a profile's,
        copies under old keys. Read row by row, a background export gave up Python's lock
        once per entry and, while the window was busy, waited to get it back each time: at
        10,000 entries 0.45-1.0 s where 0.15 s would do; this way 0.05-0.13 s. The order and
        text are those of :meth:`db.bibout.Exports._export_parts`; tests compare the two byte
        for byte.
        """
        profile = self.exports.profile(spec["profile"]) if spec.get("profile") else None
        ids: Sequence[int] | None = None
        copies: dict[int, list[str]] = {}
        if spec.get("aux"):
            ids, _, copies = self.exports.aux_selection(spec["aux"], profile)
        elif spec.get("tag"):
            ids = self.queries.paper_ids(Query(tag=spec["tag"]), sort="added")
        elif spec.get("saved"):
            ids = self.queries.paper_ids(saved_query(self.store, spec["saved"]), sort="added")
        aliases = (
            self.exports.aliases(ids)
            if profile is not None and profile.dialect == "biblatex"
            else {}
        )
        files = self.exports.file_fields(ids) if profile is not None and profile.files else {}
        failures: list[BaseException] = []

        def entry(pid: int, key: str, entry_type: str, fields_json: str, source: str | None) -> str:
            try:
                if pid in files:
                    fields_json = self.exports.with_file_field(fields_json, files[pid])
                    source = None
                texts = [
                    self.exports.text_of(
                        key, entry_type, fields_json, source, profile, aliases.get(pid, ())
                    )
                ]
                texts += [
                    self.exports.text_of(old, entry_type, fields_json, None, profile)
                    for old in copies.get(pid, ())
                ]
                return "\n\n".join(texts)
            except BaseException as exc:  # sqlite3 would report only "raised exception"
                failures.append(exc)
                raise

        self.conn.create_function("citedesk_autoexport_entry", 5, entry)
        string_text = "source"
        if profile is not None:
            string_profile = profile

            def string(name: str, value: str, source: str) -> str:
                try:
                    new_value = export_mod.transform_string(value, string_profile)
                    return source if new_value == value else bibwrite.format_string(name, new_value)
                except BaseException as exc:
                    failures.append(exc)
                    raise

            self.conn.create_function("citedesk_autoexport_string", 3, string)
            string_text = "citedesk_autoexport_string(name, value, source)"
        # Entries without a stored text (edited ones), or with copies, need Python; with a
        # profile, every entry does.
        entry_text = "citedesk_autoexport_entry(id, key, entry_type, fields, source)"
        if profile is None:
            entry_text = (
                f"CASE WHEN source IS NULL OR id IN (SELECT value FROM json_each("
                f":copies)) THEN {entry_text} ELSE source END"
            )
        block_text = "source"
        if profile is not None:
            block_text = f"CASE WHEN kind = 'string' THEN {string_text} ELSE source END"
        whole = ids is None
        selected = "1" if whole else "id IN (SELECT value FROM json_each(:ids))"
        kinds = "1" if whole else "id IN (SELECT value FROM json_each(:blocks))"
        # BibTeX wants an entry's crossref parent after it: with a profile, parents go last.
        parents = self._autoexport_parent_ids() if profile is not None else []
        params = {
            "copies": json.dumps(list(copies)),
            "ids": json.dumps(list(ids or ())),
            # The @strings and @preambles a selection needs, as export_text writes them.
            "blocks": json.dumps(self.exports.selection_blocks(ids or ())),
            "parents": json.dumps(parents),
            "whole": whole,
        }
        in_parents = "id IN (SELECT value FROM json_each(:parents))"
        # The rules of _export_parts: the order of the layout, each piece after its lead
        # (in a whole export) or a blank line; parents last; no blank line before the first
        # piece, and a line end after the last unless it is the end of a file. Each section
        # is one statement over the place indexes, with no sort of the text itself.
        piece = "CASE WHEN :whole AND lead IS NOT NULL THEN lead ELSE char(10, 10) END"
        layout = (
            f"SELECT pos, lead, {entry_text} AS text, 'entry' AS kind FROM papers "
            f"WHERE {selected} AND NOT {in_parents} UNION ALL "
            f"SELECT pos, lead, {block_text}, kind FROM blocks WHERE {kinds}"
        )
        sections = [
            f"SELECT CAST(group_concat({piece} || text, '') AS BLOB) FROM ({layout} ORDER BY pos)",
            f"SELECT CAST(group_concat(char(10, 10) || text, '') AS BLOB) FROM ("
            f"SELECT pos, {entry_text} AS text FROM papers WHERE {selected} AND {in_parents} "
            f"ORDER BY pos)",
        ]
        try:
            main, late = (self.conn.execute(sql, params).fetchone()[0] for sql in sections)
        except Exception:
            if failures:  # SQLite says only that a function raised: raise what it raised
                raise failures[0] from None
            raise
        if main is None and late is None:  # None: nothing in that section
            return b""
        ends = (
            f"SELECT pos, lead, 'entry' FROM papers WHERE {selected} AND NOT {in_parents}",
            f"SELECT pos, lead, kind FROM blocks WHERE {kinds}",
        )
        first_lead, _ = self._layout_end(ends, params, "ASC")
        _, last_kind = self._layout_end(ends, params, "DESC")
        data = (main or b"") + (late or b"")
        if main is None or not (whole and first_lead is not None):
            data = data[2:]  # the first piece has no blank line before it
        if not (whole and last_kind == "text" and late is None):
            data += b"\n"
        _, newline = self.exports.export_format()
        return data if newline == "\n" else data.replace(b"\n", newline.encode())

    def _layout_end(
        self, layout: tuple[str, str], params: dict[str, Any], direction: str
    ) -> tuple[str | None, str | None]:
        """The lead and kind of the first (ASC) or last (DESC) item of an export's layout
        (``layout``: fixed SQL over papers and over blocks, made by :meth:`autoexport_data`).

        Each table is read by its place index; ordering their union would sort every row.
        """
        rows = [
            row
            for sql in layout
            for row in [
                self.conn.execute(f"{sql} ORDER BY pos {direction} LIMIT 1", params).fetchone()
            ]
            if row is not None
        ]
        if not rows:
            return None, None
        pos, lead, kind = (min if direction == "ASC" else max)(rows, key=lambda r: r[0])
        return lead, kind

    def _autoexport_parent_ids(self) -> list[int]:
        """The ids of the papers that others crossref (see :meth:`Exports.crossref_targets`)."""
        targets = self.exports.crossref_targets()
        if not targets:
            return []
        (keyed,) = self.conn.execute(
            "SELECT json_group_array(json_array(id, key)) FROM papers"
        ).fetchone()
        return [pid for pid, key in json.loads(keyed) if key.lower() in targets]

    def run_autoexports(
        self, write: Callable[[Path, bytes], None] = write_export
    ) -> list[tuple[str, str]]:
        """Rewrite each auto-export whose content changed (with ``write``, atomic by
        default); leave the others untouched.

        Returns (path, 'written' | 'unchanged' | 'error: ...') for each.
        """
        results = []
        for spec in self.autoexports():
            path = Path(spec["path"])
            try:
                data = self.autoexport_data(spec)
                try:
                    # Sizes first: a changed export usually differs in length, and then
                    # the old file need not be read at all.
                    same = path.stat().st_size == len(data) and path.read_bytes() == data
                except OSError:
                    same = False
                if same:
                    results.append((str(path), "unchanged"))
                    continue
                write(path, data)
                results.append((str(path), "written"))
            except LibraryError as exc:
                results.append((str(path), f"error: {exc}"))
        return results
