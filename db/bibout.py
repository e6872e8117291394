"""BibTeX out: the export part of a library.

What an export writes, in what order, encoding and line ends; whole exports give the
imported files back as they were (see :meth:`Exports._export_parts`). Profiles and the
transforms they apply are :mod:`db.export`; auto-exports, :mod:`db.autoexport`.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence

from . import bibvalue, bibwrite, derive, filefields, options
from . import export as export_mod
from .attachments import files_folder
from .citekeys import CiteKeys
from .errors import LibraryError, UnknownPaperError
from .export import ExportProfile
from .queries import Queries
from .store import Store
from .values import Changes, Query

#: How an export orders its entries (see :meth:`Exports.export_text`).
EXPORT_ORDERS = ("library", "key")


class Exports:
    """.bib text for the whole library or a selection, export profiles, .aux selections."""

    def __init__(self, store: Store, queries: Queries, keys: CiteKeys) -> None:
        self.store = store
        self.conn = store.conn
        self.queries = queries
        self.keys = keys

    def entry_text(self, paper_id: int) -> str:
        """Exactly the text export writes for this paper."""
        row = self.conn.execute(
            "SELECT key, entry_type, fields, source FROM papers WHERE id = ?", [paper_id]
        ).fetchone()
        if row is None:
            raise UnknownPaperError(f"no paper with id {paper_id}")
        return self.text_of(*row)

    def file_fields(self, ids: Sequence[int] | None) -> dict[int, list[filefields.FileRef]]:
        """The files a profile with ``files`` writes, for papers with files."""
        folder = files_folder(self.store)
        sql = (
            "SELECT paper_id, stored, path, description, mime FROM attachments "
            + ("" if ids is None else "WHERE paper_id IN (SELECT value FROM json_each(?)) ")
            + "ORDER BY paper_id, role != 'main', position"
        )
        refs: dict[int, list[filefields.FileRef]] = {}
        for pid, stored, path, description, mime in self.conn.execute(
            sql, [] if ids is None else [json.dumps(list(ids))]
        ):
            full = str(folder / path) if stored else path
            kind = "PDF" if mime == "application/pdf" else (mime or "")
            refs.setdefault(pid, []).append(filefields.FileRef(full, description, kind))
        return refs

    @staticmethod
    def with_file_field(fields_json: str, refs: Sequence[filefields.FileRef]) -> str:
        """An entry's fields with its ``file`` field listing ``refs``; the web addresses
        its own ``file`` field had (no attachment holds them) are kept after them."""
        fields = [(n, v) for n, v in json.loads(fields_json)]
        urls = [r for r in filefields.file_refs(fields) if r.is_url]
        value = "{" + filefields.format_file_field([*refs, *urls]) + "}"
        kept = [(n, v) for n, v in fields if n.lower() not in ("file", "files")]
        return json.dumps([*kept, ("file", value)])

    def text_of(
        self,
        key: str,
        entry_type: str,
        fields_json: str,
        source: str | None,
        profile: ExportProfile | None = None,
        aliases: Sequence[str] = (),
    ) -> str:
        """The text export writes for an entry as it is stored, with a profile or without."""
        if profile is not None:
            text = export_mod.render_entry(entry_type, key, fields_json, profile, aliases)
            if text is not None:
                return text
            # The profile changes nothing: the entry as it came (or as it is stored).
        if source is not None:
            return source  # (no JSON to decode: most of a large export is this line)
        fields = [tuple(x) for x in json.loads(fields_json)]
        return bibwrite.format_entry(entry_type, key, fields)

    def profile(self, name: str | None = None, dialect: str | None = None) -> ExportProfile:
        """A named export profile (saved in the library, or built in), or a dialect's default."""
        if name:
            stored = self.store.setting(options.EXPORT_PROFILES)
            if name in stored:
                return ExportProfile.from_json(stored[name])
            if name in export_mod.BUILTIN_PROFILES:
                return export_mod.BUILTIN_PROFILES[name]
            raise LibraryError(
                f"no export profile named {name!r}; profiles: {', '.join(self.profile_names())}"
            )
        return export_mod.BUILTIN_PROFILES[dialect or "biblatex"]

    def profile_names(self) -> list[str]:
        return export_mod.profile_names(self.store.setting(options.EXPORT_PROFILES))

    def save_profile(self, profile: ExportProfile) -> Changes:
        with self.store.write():  # read and written in one transaction: no lost update
            stored = self.store.setting(options.EXPORT_PROFILES)
            stored[profile.name] = profile.to_json()
            return self.store.change_setting(options.EXPORT_PROFILES, stored)

    def remove_profile(self, name: str) -> Changes:
        with self.store.write():
            stored = self.store.setting(options.EXPORT_PROFILES)
            if name not in stored:
                raise LibraryError(f"no saved export profile named {name!r}")
            del stored[name]
            return self.store.change_setting(options.EXPORT_PROFILES, stored)

    def aliases(self, ids: Sequence[int] | None) -> dict[int, list[str]]:
        """Each paper's old keys (of all papers, or of ``ids``), oldest first."""
        out: dict[int, list[str]] = {}
        cur = self.conn.execute("SELECT paper_id, alias FROM key_aliases ORDER BY rowid")
        wanted = set(ids) if ids is not None else None
        for pid, alias in cur:
            if wanted is None or pid in wanted:
                out.setdefault(pid, []).append(alias)
        return out

    def _with_crossref_parents(self, ids: Sequence[int]) -> list[int]:
        """Add the entries that the given ones crossref (or xdata), transitively."""
        result = list(dict.fromkeys(ids))
        seen = set(result)
        frontier = list(result)
        while frontier:
            rows = self.conn.execute(
                "SELECT fields FROM papers WHERE id IN (SELECT value FROM json_each(?))",
                [json.dumps(frontier)],
            ).fetchall()
            frontier = []
            for (fields_json,) in rows:
                f = derive.field_map(tuple(x) for x in json.loads(fields_json))
                for name in ("crossref", "xdata"):
                    if name not in f:
                        continue
                    for parent_key in bibvalue.evaluate(f[name]).split(","):
                        pid = self.keys.id_for_key(parent_key.strip())
                        if pid is not None and pid not in seen:
                            seen.add(pid)
                            result.append(pid)
                            frontier.append(pid)
        return result

    def export_text(
        self,
        query: Query | None = None,
        profile: ExportProfile | None = None,
        ids: Sequence[int] | None = None,
        extra_keys: dict[int, list[str]] | None = None,
        *,
        order: str = "library",
    ) -> tuple[str, int]:
        """The .bib text for the papers a query (or ``ids``) selects, and how many entries.

        With no profile every untouched entry is its original text. ``extra_keys`` writes
        further copies of a paper under old keys (for BibTeX, which knows no ``ids``).
        ``order``: "library" (the files' own order, see :meth:`_export_parts`) or "key"
        (by citation key, whatever the layout: the same papers give the same text in every
        library, e.g. two members of a group). Line ends are ``\\n``; :meth:`encode_export`
        gives the bytes a file gets.
        """
        if order not in EXPORT_ORDERS:
            raise ValueError(f"unknown export order {order!r}; choose one of {EXPORT_ORDERS}")
        count = [0]
        parts = self._export_parts(query, profile, ids, extra_keys, count, by_key=order == "key")
        return "".join(parts), count[0]

    @staticmethod
    def _is_whole(query: Query | None, ids: Sequence[int] | None) -> bool:
        return ids is None and (query is None or query == Query())

    def _export_parts(
        self,
        query: Query | None,
        profile: ExportProfile | None,
        ids: Sequence[int] | None,
        extra_keys: dict[int, list[str]] | None,
        count: list[int],
        by_key: bool = False,
    ) -> Iterator[str]:
        """The pieces of an export in order, streamed from SQL; joined they are
        :meth:`export_text`, and ``count[0]`` gets the number of entries.

        The library's layout decides the order: papers and blocks in the order of the files
        they came from (see ``pos`` in :mod:`db.schema`), so an @string redefined holds
        for the entries after it, as in the file. A whole-library export writes the files
        as they were: the text between entries, @comments and the end of each file in
        place. A selection writes its entries with the @string and @preamble blocks they
        need (:meth:`selection_blocks`), one blank line apart. Autoexport builds the same
        bytes in SQL (:meth:`db.autoexport.AutoExports.autoexport_data`).

        ``by_key``: the entries by citation key (case-insensitive), after the @string and
        @preamble blocks (in file order, so each entry still sees its values): those a
        selection needs, or for the whole library all of them. Never the text between
        entries nor the @comments: they are the files' layout, which differs between
        libraries holding the same papers (a group's members), and the export must not.
        """
        everything = self._is_whole(query, ids)
        whole = everything and not by_key
        if ids is None and not everything:
            ids = self.queries.paper_ids(query, sort="added")
        if whole:
            kinds = ""
        elif everything:
            kinds = "AND kind IN ('string', 'preamble')"
        else:
            kinds = "AND id IN (SELECT value FROM json_each(?))"
        selected = "" if ids is None else "WHERE id IN (SELECT value FROM json_each(?))"
        sql = (
            f"SELECT pos, 0 AS is_block, id, key, entry_type, fields, source, lead FROM papers "
            f"{selected} UNION ALL SELECT pos, 1, kind, name, value, NULL, source, lead "
            f"FROM blocks WHERE 1 {kinds}"
        )
        if by_key:  # the blocks in file order, then the entries by key
            sql = (
                f"SELECT * FROM ({sql}) ORDER BY is_block DESC, "
                "CASE WHEN is_block THEN pos END, key COLLATE NOCASE, key, pos"
            )
        else:
            sql += " ORDER BY pos"
        cur = self.conn.execute(
            sql,
            [] if ids is None else [json.dumps(list(ids)), json.dumps(self.selection_blocks(ids))],
        )
        aliases = self.aliases(ids) if profile is not None and profile.dialect == "biblatex" else {}
        files = self.file_fields(ids) if profile is not None and profile.files else {}
        parent_keys = self.crossref_targets() if profile is not None else set()
        parents: list[str] = []
        previous: str | None = None  # the text of the last piece (None: nothing yet)
        last_kind = ""

        def separator(lead: str | None) -> str:
            if whole and lead is not None:
                return lead
            return "" if previous is None else "\n\n"

        for _pos, is_block, a, b, c, fields_json, source, lead in cur:
            if is_block:
                kind, name, value = a, b, c
                text = source
                if profile is not None and kind == "string":
                    new_value = export_mod.transform_string(value, profile)
                    if new_value != value:
                        text = bibwrite.format_string(name, new_value)
            else:
                kind, pid, key, entry_type = "entry", a, b, c
                if pid in files:
                    fields_json, source = self.with_file_field(fields_json, files[pid]), None
                texts = [
                    self.text_of(
                        key, entry_type, fields_json, source, profile, aliases.get(pid, ())
                    )
                ]
                count[0] += 1
                for old in (extra_keys or {}).get(pid, []):
                    texts.append(self.text_of(old, entry_type, fields_json, None, profile))
                text = "\n\n".join(texts)
                # BibTeX wants an entry's crossref parent after it: parents go last.
                if key.lower() in parent_keys:
                    parents.append(text)
                    continue
            yield separator(lead) + text
            previous, last_kind = text, kind
        for text in parents:
            yield separator(None) + text
            previous, last_kind = text, "entry"
        if previous is not None and not (whole and last_kind == "text"):
            yield "\n"  # a file's own end (a 'text' block) is written as it was

    def selection_blocks(self, ids: Sequence[int]) -> list[int]:
        """The blocks an export of these papers (not the whole library) writes with them.

        The @strings their fields use, and those these use in turn (every definition of
        each name: kept in file order, each entry still sees the value it saw in its
        file); the @preambles of the files they came from (BibTeX and biber need the
        commands a file defines for its own entries). Never an @comment, nor another
        file's preamble: a selection is not those files (JabRef's settings of one file
        do not belong in another). The auto-export uses the same blocks.
        """
        if not ids:
            return []
        arg = json.dumps(list(ids))
        found: list[int] = []
        definitions: dict[str, list[tuple[int, str]]] = {}
        for block_id, name, value in self.conn.execute(
            "SELECT id, name, value FROM blocks WHERE kind = 'string'"
        ):
            definitions.setdefault(name.lower(), []).append((block_id, value))
        if definitions:
            # Only a value that is not one delimited group can name a macro: SQL leaves out
            # the rest (nearly every field) before Python reads any.
            candidates = self.conn.execute(
                "SELECT DISTINCT json_extract(f.value, '$[1]') FROM papers p, "
                "json_each(p.fields) f WHERE p.id IN (SELECT value FROM json_each(?)) "
                "AND (substr(json_extract(f.value, '$[1]'), 1, 1) NOT IN ('{', '\"') "
                "OR instr(json_extract(f.value, '$[1]'), '#') > 0)",
                [arg],
            )
            frontier = [n for n in macro_names(v for (v,) in candidates) if n in definitions]
            used = set(frontier)
            while frontier:
                for block_id, value in definitions[frontier.pop()]:
                    found.append(block_id)
                    for name in macro_names([value]):
                        if name in definitions and name not in used:
                            used.add(name)
                            frontier.append(name)
        preambles = self.conn.execute(
            "SELECT id, coalesce(file_id, 0) FROM blocks WHERE kind = 'preamble'"
        ).fetchall()
        if preambles:
            # The files they came from; 0 for a paper made in Citedesk (or kept from a library
            # older than file layouts). A file's text ends with a block of its own after its
            # last entry, so a paper's file is that of the first block with a file after it,
            # provided the same import added both (a paper made in Citedesk before a later
            # import would otherwise pass for one of that import's).
            files = {
                file_id
                for (file_id,) in self.conn.execute(
                    "SELECT DISTINCT CASE WHEN f.imported = p.added THEN f.id ELSE 0 END "
                    "FROM papers p LEFT JOIN files f ON f.id = ("
                    "SELECT b.file_id FROM blocks b WHERE b.pos > p.pos AND b.file_id IS NOT NULL "
                    "ORDER BY b.pos LIMIT 1) WHERE p.id IN (SELECT value FROM json_each(?))",
                    [arg],
                )
            }
            found += [block_id for block_id, file_id in preambles if file_id in files]
        return found

    def crossref_targets(self) -> set[str]:
        """The lower-cased keys that papers crossref. The rows are read in one statement:
        row by row, a background export gave up Python's lock at each and waited for it
        while the window was busy (100 rows took 300 ms)."""
        (children,) = self.conn.execute(
            "SELECT json_group_array(json(fields)) FROM papers WHERE fields LIKE '%rossref%'"
        ).fetchone()
        out = set()
        for fields in json.loads(children):
            f = derive.field_map(tuple(x) for x in fields)
            if "crossref" in f:
                out.add(bibvalue.evaluate(f["crossref"]).strip().lower())
        return out

    def _file_formats(self) -> list[tuple[str, str]]:
        """(encoding, line end) of the imported files that still have text in the library."""
        return [
            (e, n)
            for e, n in self.conn.execute(
                "SELECT DISTINCT encoding, newline FROM files WHERE id IN "
                "(SELECT file_id FROM blocks WHERE file_id IS NOT NULL) ORDER BY encoding, newline"
            )
        ]

    def export_format(self, keep_encoding: bool = False) -> tuple[str, str]:
        """The encoding and line end an export is written in.

        Line ends are those of the imported files when they all use the same (else LF).
        The encoding is UTF-8, or with ``keep_encoding`` that of the imported files, which
        must then agree (a file read as UTF-8 with a few Windows-1252 lines stays UTF-8).
        """
        formats = self._file_formats()
        newlines = {n for _, n in formats}
        newline = newlines.pop() if len(newlines) == 1 else "\n"
        if not keep_encoding:
            return "utf-8", newline
        encodings = {_WRITE_ENCODING.get(e, "utf-8") for e, _ in formats}
        if len(encodings) > 1:
            raise LibraryError(
                "the library's files came in different encodings ("
                + ", ".join(sorted(encodings))
                + "); export without keeping the encoding "
                "(UTF-8)"
            )
        return (encodings.pop() if encodings else "utf-8"), newline

    def encode_export(self, text: str, keep_encoding: bool = False) -> bytes:
        """An export's text as the bytes of the file (see :meth:`export_format`)."""
        encoding, newline = self.export_format(keep_encoding)
        return _encode_piece(text, encoding, newline, first=True)

    def export(
        self,
        dest: str | os.PathLike[str],
        query: Query | None = None,
        profile: ExportProfile | None = None,
        *,
        keep_encoding: bool = False,
    ) -> int:
        """Write a .bib file atomically; returns the number of entries written.

        The text is streamed from SQL to the file a megabyte at a time, never held whole.
        A selection with no papers writes nothing (:class:`LibraryError`): a file of bare
        macros is no one's bibliography.
        """
        ids = None
        if not self._is_whole(query, None):
            ids = self.queries.paper_ids(query, sort="added")
            if not ids:
                raise LibraryError("nothing to export: no paper matches; no file was written")
        count = [0]
        encoding, newline = self.export_format(keep_encoding)
        try:
            with bibwrite.atomic_writer(dest, "latin-1") as fh:
                out = fh.buffer
                buffer: list[str] = []
                size = 0
                first = True
                for part in self._export_parts(query, profile, ids, None, count):
                    buffer.append(part)
                    size += len(part)
                    if size >= 1 << 20:
                        fh.flush()
                        out.write(_encode_piece("".join(buffer), encoding, newline, first))
                        buffer, size, first = [], 0, False
                fh.flush()
                out.write(_encode_piece("".join(buffer), encoding, newline, first))
        except OSError as exc:
            raise LibraryError(f"cannot write {dest}: {exc.strerror or exc}") from None
        return count[0]

    def aux_selection(
        self, aux_path: str | os.PathLike[str], profile: ExportProfile | None = None
    ) -> tuple[list[int] | None, list[str], dict[int, list[str]]]:
        """What a document's .aux cites: (ids or None for all, missing keys, alias copies)."""
        cited = export_mod.read_aux(aux_path)
        if cited.everything:
            return None, [], {}
        ids: list[int] = []
        missing: list[str] = []
        copies: dict[int, list[str]] = {}
        for key in cited.keys:
            pid = self.keys.id_for_key(key)
            if pid is None:
                missing.append(key)
                continue
            ids.append(pid)
            current = self.conn.execute("SELECT key FROM papers WHERE id = ?", [pid]).fetchone()[0]
            if current.lower() != key.lower() and (profile is None or profile.dialect == "bibtex"):
                copies.setdefault(pid, []).append(key)
        return self._with_crossref_parents(ids), missing, copies

    def export_aux(
        self,
        aux_path: str | os.PathLike[str],
        dest: str | os.PathLike[str],
        profile: ExportProfile | None = None,
    ) -> tuple[int, list[str]]:
        """Write exactly the entries a document cites; returns (entries, keys not found).

        When the library has none of them, nothing is written (:class:`LibraryError`).
        """
        ids, missing, copies = self.aux_selection(aux_path, profile)
        if ids == []:
            raise LibraryError(nothing_cited(aux_path, missing))
        text, n = self.export_text(None, profile, ids=ids, extra_keys=copies)
        write_export(dest, self.encode_export(text))
        return n, missing


class _Lookups(Mapping[str, str]):
    """Macros that know none, and note each name a value looks up (see :func:`macro_names`)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.names.add(name)
        return False

    def __getitem__(self, name: str) -> str:
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def macro_names(raw_values: Iterable[str]) -> set[str]:
    """The macro names (lower case) these raw field values use, as BibTeX reads them:
    ``jan``, ``"x" # tpami``; never a word inside braces or quotes, nor a number."""
    lookups = _Lookups()
    for raw in raw_values:
        bibvalue.evaluate(raw, lookups)
    return lookups.names


#: How a file's encoding, as the importer records it, is written back.
_WRITE_ENCODING = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "cp1252": "cp1252",
    "utf-8+cp1252": "utf-8",
    "utf-8-sig+cp1252": "utf-8-sig",
    "utf-16-le": "utf-16-le",
    "utf-16-be": "utf-16-be",
    "utf-16-le+bom": "utf-16-le+bom",
    "utf-16-be+bom": "utf-16-be+bom",
    "utf-16": "utf-16-le+bom",
}


def _c1_bytes(exc: UnicodeError) -> tuple[bytes, int]:
    """Write U+0080-U+009F as the byte of the same number: the five bytes Windows-1252
    leaves undefined are read as those characters (see db.bibdecode), and go back as they came."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    chunk = exc.object[exc.start : exc.end]
    if all(0x80 <= ord(c) <= 0x9F for c in chunk):
        return chunk.encode("latin-1"), exc.end
    raise exc


codecs.register_error("citedesk-c1", _c1_bytes)


def _encode_piece(text: str, encoding: str, newline: str, first: bool) -> bytes:
    """A piece of an export as bytes: line ends and encoding applied, a BOM before the first."""
    if newline != "\n":
        text = text.replace("\n", newline)
    bom = ""
    if encoding.endswith("+bom"):
        encoding = encoding[:-4]
        bom = "\ufeff" if first else ""
    elif encoding == "utf-8-sig":
        encoding = "utf-8"
        bom = "\ufeff" if first else ""
    try:
        return (bom + text).encode(encoding, "citedesk-c1" if encoding == "cp1252" else "strict")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end]
        around = exc.object[max(0, exc.start - 30) : exc.end + 10].replace("\n", " ")
        raise LibraryError(
            f"{bad!r} cannot be written in {encoding} (near “{around}”); export in UTF-8, "
            "without keeping the file's encoding"
        ) from None


def nothing_cited(aux_path: str | os.PathLike[str], missing: Sequence[str]) -> str:
    """One line for an .aux export that found nothing to write."""
    name = os.path.basename(aux_path)
    if not missing:
        return f"nothing to export: {name} cites no keys (run LaTeX on the document first)"
    shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
    keys = "the key" if len(missing) == 1 else f"any of the {len(missing)} keys"
    return f"nothing to export: the library lacks {keys} {name} cites ({shown}); no file written"


def write_export(dest: str | os.PathLike[str], text: str | bytes) -> None:
    try:
        bibwrite.atomic_write(dest, text)
    except OSError as exc:
        raise LibraryError(f"cannot write {dest}: {exc.strerror or exc}") from None
