"""Papers and their BibTeX fields: reading a paper whole, adding, editing, deleting.

A paper's fields are stored as written (raw BibTeX values), with the values the table
shows, sorts and searches derived from them (:func:`display_columns`) and its people in
``persons``. Every edit derives them again in the same transaction.
"""

from __future__ import annotations

import json
import re
from collections import ChainMap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import bibvalue, bibwrite, derive, entrytypes
from .bibtex import parse_text
from .citekeys import CiteKeys
from .errors import LibraryError, UnknownPaperError
from .latex import ascii_fold, escape_user_text
from .macros import StringMacros
from .names import Person, short_authors
from .personal import Personal
from .queries import SearchIndex
from .store import Store
from .values import Changes, ImportReport, Paper, now


class Papers:
    """The papers table, its people and aliases."""

    def __init__(
        self,
        store: Store,
        index: SearchIndex,
        macros: StringMacros,
        keys: CiteKeys,
        personal: Personal,
    ) -> None:
        self.store = store
        self.conn = store.conn
        self.index = index
        self.macros = macros
        self.keys = keys
        self.personal = personal

    # -- reading --------------------------------------------------------------------------------

    def paper(self, paper_id: int) -> Paper:
        cur = self.conn.execute("SELECT * FROM papers WHERE id = ?", [paper_id])
        row = cur.fetchone()
        if row is None:
            raise UnknownPaperError(f"no paper with id {paper_id}")
        r = dict(zip((d[0] for d in cur.description), row, strict=True))
        people: dict[str, list[Person]] = {"author": [], "editor": []}
        for role, family, given, prefix, suffix in self.conn.execute(
            "SELECT role, family, given, prefix, suffix FROM persons WHERE paper_id = ? "
            "ORDER BY role, position",
            [paper_id],
        ):
            people[role].append(Person(family, given, prefix, suffix))
        return Paper(
            id=r["id"],
            key=r["key"],
            entry_type=r["entry_type"],
            fields=[tuple(x) for x in json.loads(r["fields"])],
            title=r["title"],
            authors=people["author"],
            editors=people["editor"],
            year=r["year"],
            month=r["month"],
            date=r["date"],
            venue=r["venue"],
            volume=r["volume"],
            number=r["number"],
            pages=r["pages"],
            doi=r["doi"],
            url=r["url"],
            arxiv=r["arxiv"],
            abstract=r["abstract"],
            keywords=r["keywords"],
            category=r["category"],
            tags=self.personal.paper_tags(paper_id),
            notes=self.personal.notes(paper_id),
            status=r["status"],
            status_changed=r["status_changed"],
            rating=r["rating"],
            added=r["added"],
            modified=r["modified"],
            edited=r["source"] is None,
            aliases=[
                a
                for (a,) in self.conn.execute(
                    "SELECT alias FROM key_aliases WHERE paper_id = ? ORDER BY rowid", [paper_id]
                )
            ],
        )

    def entry_source(self, paper_id: int) -> str | None:
        row = self.conn.execute("SELECT source FROM papers WHERE id = ?", [paper_id]).fetchone()
        return row[0] if row else None

    # -- the layout: where a paper goes among the imported files' text ---------------------------

    def next_pos(self) -> int:
        """The place after the last paper or block in the library's layout."""
        return int(
            self.conn.execute(
                "SELECT max(coalesce((SELECT max(pos) FROM papers), 0), "
                "coalesce((SELECT max(pos) FROM blocks), 0)) + 1"
            ).fetchone()[0]
        )

    def _lead_at_end(self) -> str:
        """What a paper made in Citedesk is written after in a whole export: a blank line
        after what the layout ends with (nothing in an empty library)."""
        # The last of each table by its place index: ordering their union instead sorted
        # every row (140 ms at 100,000 papers).
        last = [
            row
            for row in (
                self.conn.execute(
                    "SELECT pos, coalesce(source, '') FROM papers ORDER BY pos DESC LIMIT 1"
                ).fetchone(),
                self.conn.execute(
                    "SELECT pos, source FROM blocks ORDER BY pos DESC LIMIT 1"
                ).fetchone(),
            )
            if row is not None and row[0] is not None
        ]
        if not last:
            return ""
        return "\n" if max(last)[1].endswith("\n") else "\n\n"

    # -- derived values ---------------------------------------------------------------------------

    def _columns(
        self, fields: list[tuple[str, str]], macros: Mapping[str, str] | None = None
    ) -> tuple[dict[str, Any], derive.Derived]:
        f = derive.field_map(fields)
        parent = None
        if "crossref" in f:
            parent_key = bibvalue.evaluate(f["crossref"]).strip()
            row = self.conn.execute(
                "SELECT fields FROM papers WHERE key = ? COLLATE NOCASE", [parent_key]
            ).fetchone()
            if row:
                parent = derive.field_map(tuple(x) for x in json.loads(row[0]))
        d = derive.derive(fields, self.macros.current() if macros is None else macros, parent)
        return display_columns(d), d

    def _write_persons(self, paper_id: int, d: derive.Derived) -> None:
        self.conn.execute("DELETE FROM persons WHERE paper_id = ?", [paper_id])
        rows = [
            (paper_id, role, i, p.family, p.given, p.prefix, p.suffix)
            for role, people in (("author", d.authors), ("editor", d.editors))
            for i, p in enumerate(people)
        ]
        self.conn.executemany("INSERT INTO persons VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def rederive(
        self, paper_id: int, fields: list[tuple[str, str]], macros: Mapping[str, str]
    ) -> None:
        """Inside a write: derive a paper's values and people again with these macros (an
        import does, for entries whose crossref parent or macros came later)."""
        cols, d = self._columns(fields, macros)
        sets = ", ".join(f"{c} = ?" for c in cols)
        self.conn.execute(f"UPDATE papers SET {sets} WHERE id = ?", [*cols.values(), paper_id])
        self._write_persons(paper_id, d)

    def rederive_all(self) -> int:
        """Derive every paper's shown values again (the rules changed), each with the
        macros in force at its place, and index them anew, in one write. Returns how many."""
        with self.store.write():
            strings = self.conn.execute(
                "SELECT pos, name, value FROM blocks WHERE kind = 'string' ORDER BY pos"
            ).fetchall()
            here: dict[str, str] = {}
            macros = ChainMap(here, self.macros.current())
            n = 0
            rows = self.conn.execute(
                "SELECT id, pos, fields FROM papers ORDER BY pos IS NULL, pos, id"
            ).fetchall()
            for pid, pos, fields_json in rows:
                while n < len(strings) and pos is not None and strings[n][0] < pos:
                    here[strings[n][1].lower()] = bibvalue.evaluate(strings[n][2], here)
                    n += 1
                self.rederive(pid, [tuple(x) for x in json.loads(fields_json)], macros)
            self.index.rebuild()
        return len(rows)

    # -- writing ----------------------------------------------------------------------------------

    def _insert_paper(
        self,
        key: str,
        entry_type: str,
        fields: list[tuple[str, str]],
        source: str | None,
        stamp: str,
        **extra: Any,
    ) -> int:
        cols, d = self._columns(fields)
        row = {
            "key": key,
            "entry_type": entry_type,
            "fields": json.dumps(fields),
            "source": source,
            "added": stamp,
            "modified": stamp,
            "pos": self.next_pos(),
            "lead": self._lead_at_end(),
            **cols,
            **extra,
        }
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        pid = int(
            self.conn.execute(
                f"INSERT INTO papers({names}) VALUES ({marks})", list(row.values())
            ).lastrowid
            or 0
        )
        self._write_persons(pid, d)
        return pid

    def add_paper(
        self,
        fields: Sequence[tuple[str, str]] | dict[str, str],
        entry_type: str = "article",
        key: str | None = None,
    ) -> Changes:
        """Add a paper typed by a person: values are LaTeX text, made safe by :func:`field_raw`."""
        items = list(fields.items()) if isinstance(fields, dict) else list(fields)
        raw = [(name.lower(), field_raw(name, value)) for name, value in items if value.strip()]
        stamp = now()
        with self.store.write() as w:
            if key:
                if self.keys.key_taken(key):
                    raise LibraryError(f"citation key {key!r} is already used")
            else:
                key = self.keys.generate_key(raw)
            pid = self._insert_paper(key, entry_type.lower(), raw, None, stamp)
            w.created_papers([pid])
            self.index.update([pid])
        return w.result(Changes(added={pid}, status=True))

    def update_fields(self, paper_id: int, changes: dict[str, str | None]) -> Changes:
        """Set or remove fields (values are LaTeX text as shown in an editor).

        The names BibLaTeX and BibTeX give one thing are kept agreeing where an entry has
        both (:func:`entrytypes.paired_changes`: a new year is written into the date too).
        The entry's original text is dropped, so export writes it in the clean layout.
        """
        for name in changes:
            if not entrytypes.valid_field_name(name.lower()):
                raise LibraryError(
                    f"{name!r} cannot be a field name: use letters, digits and - _ : . +, "
                    "starting with a letter"
                )
        with self.store.write() as w:
            p = self.paper(paper_id)
            fields = list(p.fields)
            texts = {name.lower(): bibvalue.evaluate(raw) for name, raw in reversed(fields)}
            lowered = entrytypes.paired_changes(texts, changes)
            out: list[tuple[str, str]] = []
            seen = set()
            for name, raw in fields:
                lname = name.lower()
                if lname in lowered:
                    if lname in seen:
                        continue
                    seen.add(lname)
                    value = lowered[lname]
                    if value is None or not value.strip():
                        continue
                    out.append((name, field_raw(lname, value)))
                else:
                    out.append((name, raw))
            for lname, value in lowered.items():
                if lname not in seen and value is not None and value.strip():
                    out.append((lname, field_raw(lname, value)))
            if out == fields:
                return Changes()
            self.replace_fields(paper_id, out)
        return w.result(Changes(papers={paper_id}, fields=True))

    def set_fields_raw(
        self, paper_id: int, fields: list[tuple[str, str]], source: str | None = None
    ) -> Changes:
        """Make a paper's fields exactly these raw values (and its text ``source``)."""
        with self.store.write() as w:
            self.replace_fields(paper_id, fields, source)
        return w.result(Changes(papers={paper_id}, fields=True))

    def replace_fields(
        self, paper_id: int, fields: list[tuple[str, str]], source: str | None = None
    ) -> None:
        """Inside a write: make a paper's raw fields (and original text) these, and derive
        its values again with the macros in force at its place."""
        for name, raw in fields:
            if not bibvalue.is_well_formed(raw):
                raise LibraryError(f"field {name} has an unbalanced value: {raw[:60]}")
        w = self.store.recording()
        w.capture("papers", "id", [paper_id])
        w.capture("persons", "paper_id", [paper_id])
        cols, d = self._columns(fields, self.macros.at(paper_id))
        cols.update(fields=json.dumps(fields), source=source, modified=now())
        sets = ", ".join(f"{c} = ?" for c in cols)
        self.conn.execute(f"UPDATE papers SET {sets} WHERE id = ?", [*cols.values(), paper_id])
        self._write_persons(paper_id, d)
        self.index.update([paper_id])

    def set_entry_type(self, paper_id: int, entry_type: str) -> Changes:
        """Change an entry's type (@article, @misc...); its text is written anew."""
        return self.set_entry_types([paper_id], entry_type)

    def set_entry_types(self, ids: Iterable[int], entry_type: str) -> Changes:
        """Change the type of several entries in one write (those of another type)."""
        entry_type = entry_type.strip().lower()
        if not entry_type.isidentifier():
            raise LibraryError(f"{entry_type!r} cannot be an entry type")
        ids = list(dict.fromkeys(ids))
        with self.store.write() as w:
            w.capture("papers", "id", ids, only=["entry_type", "source", "modified"])
            changed = {
                pid
                for (pid,) in self.conn.execute(
                    "UPDATE papers SET entry_type = ?, source = NULL, modified = ? "
                    "WHERE id IN (SELECT value FROM json_each(?)) AND entry_type != ? "
                    "RETURNING id",
                    [entry_type, now(), json.dumps(ids), entry_type],
                ).fetchall()
            }
        return w.result(Changes(papers=changed, fields=True)) if changed else Changes()

    def replace_entry(self, paper_id: int, text: str) -> Changes:
        """Make a paper what BibTeX ``text`` (one entry) says: its type, key and fields.

        Nothing is changed when the text is not exactly one well-formed entry, or its key
        cannot be a key or is another paper's: the :class:`LibraryError` says what and on
        which line.
        """
        parsed = parse_text(text, "the entry")
        problems = [str(f) for f in parsed.failures]
        if not problems and len(parsed.entries) != 1:
            problems.append(f"the text holds {len(parsed.entries)} entries, not one")
        if not problems and parsed.blocks:
            block = parsed.blocks[0]
            problems.append(f"the text holds a @{block.kind} besides the entry")
        if problems:
            raise LibraryError("; ".join(problems))
        entry = parsed.entries[0]
        where = f"the entry:{entry.line}"
        for name, raw in entry.fields:
            if not entrytypes.valid_field_name(name.lower()):
                raise LibraryError(f"{where}: {name!r} cannot be a field name")
            if not bibvalue.is_well_formed(raw):
                raise LibraryError(f"{where}: field {name} has unbalanced braces")
        if not entry.key.strip() or any(c in entry.key for c in " ,{}\"#%'()=\\"):
            raise LibraryError(f"{where}: {entry.key!r} cannot be a citation key")
        entry_type = entry.entry_type.strip().lower()
        if not entry_type.isidentifier():
            raise LibraryError(f"{where}: {entry_type!r} cannot be an entry type")
        fields = [(name.lower(), raw) for name, raw in entry.fields]
        with self.store.write() as w:
            before = self.conn.execute(
                "SELECT key, entry_type, fields FROM papers WHERE id = ?", [paper_id]
            ).fetchone()
            if before is None:
                raise UnknownPaperError(f"no paper with id {paper_id}")
            clash = self.keys.id_for_key(entry.key)
            if clash is not None and clash != paper_id:
                raise LibraryError(f"{where}: citation key {entry.key!r} is already used")
            if (before[0], before[1], before[2]) == (entry.key, entry_type, json.dumps(fields)):
                return Changes()
            changes = Changes(papers={paper_id}, fields=True)
            self.replace_fields(paper_id, fields)
            self.conn.execute(
                "UPDATE papers SET entry_type = ? WHERE id = ?", [entry_type, paper_id]
            )
            if entry.key != before[0]:
                changes.merge(self.keys.set_key(paper_id, entry.key))
        return w.result(changes)

    # -- deleting -------------------------------------------------------------------------------

    def delete_papers(self, ids: Iterable[int]) -> Changes:
        """Delete papers with their tags, notes and aliases (undo brings them back whole)."""
        ids = sorted(set(ids))
        arg = json.dumps(ids)
        with self.store.write() as w:
            w.capture_papers(ids)
            gone = {
                pid
                for (pid,) in self.conn.execute(
                    "DELETE FROM papers WHERE id IN (SELECT value FROM json_each(?)) RETURNING id",
                    [arg],
                ).fetchall()
            }
            self.index.remove(sorted(gone))
            if not gone:
                return Changes()
        return w.result(Changes(removed=gone, tags=True, notes=True, status=True))

    def delete_import(self, report: ImportReport) -> Changes:
        """Take back an import whole: its papers, and its files' @strings, @comments and
        text (undo brings them back)."""
        arg = json.dumps(sorted(report.file_ids))
        sel = "IN (SELECT value FROM json_each(?))"
        with self.store.write() as w:
            changes = self.delete_papers(report.changes.added)
            w.capture("blocks", "file_id", report.file_ids)
            w.capture("files", "id", report.file_ids)
            gone = self.conn.execute(f"DELETE FROM blocks WHERE file_id {sel}", [arg]).rowcount
            self.conn.execute(f"DELETE FROM files WHERE id {sel}", [arg])
            self.macros.forget()
        changes.blocks = gone > 0
        return w.result(changes) if changes else changes


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def field_raw(name: str, text: str) -> str:
    """The raw value for LaTeX text typed into a field editor.

    Verbatim fields (URL, DOI) are kept as typed; elsewhere a bare ``&``, ``%`` or ``#``
    outside math is escaped, since a person typing it means the character. Braces are
    balanced so the value can never end the field or the entry early.
    """
    # Control characters mean nothing in a .bib file (a NUL would even end it for some
    # readers); line ends become plain newlines, as the reader makes them on import.
    text = _CONTROL_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = " ".join(text.split()) if name.lower() not in ("abstract", "note") else text.strip()
    if name.lower() in bibwrite.VERBATIM_FIELDS:
        return bibvalue.brace(text.replace("{", "").replace("}", ""))
    out = []
    in_math = False
    prev = ""
    for c in text:
        if c == "$" and prev != "\\":
            in_math = not in_math
        if not in_math and c in "&%#" and prev != "\\":
            out.append(escape_user_text(c))
        else:
            out.append(c)
        prev = c
    return bibvalue.brace("".join(out))


def display_columns(d: derive.Derived) -> dict[str, Any]:
    """The papers columns shown, sorted and searched, from an entry's derived values.

    A module function, not a method, so that import workers compute the same values.
    """
    # The authors named (not "others"), else the editors; "et al." when the authors (the
    # editors, if there are no authors) include "others". Counted, not searched twice.
    authors, editors = d.authors, d.editors
    named = [p for p in authors if not p.is_others]
    if authors:
        others = len(named) < len(authors)
        if not named:
            named = [p for p in editors if not p.is_others]
    else:
        named = [p for p in editors if not p.is_others]
        others = len(named) < len(editors)
    return {
        "title": d.title,
        "title_sort": ascii_fold(d.title).lower().lstrip("\"'({[ "),
        "authors": short_authors([p.display_family for p in named[:3]], others),
        "authors_full": "; ".join([p.display for p in (authors or editors)]),
        "first_author": ascii_fold(named[0].display_family).lower() if named else "",
        "year": d.year,
        "month": d.month,
        "date": d.date,
        "venue": d.venue,
        "volume": d.volume,
        "number": d.number,
        "pages": d.pages,
        "doi": d.doi,
        "url": d.url,
        "arxiv": d.arxiv,
        "abstract": d.abstract,
        "keywords": d.keywords,
        "category": d.category,
    }
