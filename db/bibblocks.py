"""bibtexparser's blocks checked by BibTeX's rules, and read again where it gets them wrong.

:func:`db.bibtex.parse_text` hands the text that :mod:`db.bibfast` does not read to
bibtexparser; :class:`_TextReader` takes the blocks it gives back, checks each against
BibTeX's own rules and has :mod:`db.bibsplit` read again those it rejected or misread.
Kept apart from parse_text so that the reader's many checks do not bury how a text is read.
"""

from __future__ import annotations

import re

from bibtexparser import model

from . import bibsplit, bibvalue
from .bibitems import Failure, ParsedBlock, ParsedEntry, ParsedFile
from .latex import collapse_space

#: Characters that never occur in a text file; a share of them marks binary data.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
#: Field names, entry types and keys bibtexparser accepted but BibTeX would not read that
#: way: a name holding spaces or ``%`` comes from a comment line it did not recognise.
_FIELD_NAME = re.compile(r"[^\s\"#%'(),={}]+")
_ENTRY_TYPE = re.compile(r"(?!\d)\w+")  # (BibTeX's types start with no digit)
_KEY = re.compile(r"[^\s,{}\"=]*")
#: The ``@type`` of a block start (bibtexparser's), as a failed block's text may end in it.
_HEAD = re.compile(r"@\w*[ \t]*")


def _explain(error: object, followed: bool = False) -> str:
    """bibtexparser's reason for giving up on a block, in words a person can act on.

    ``followed``: the text read goes on with a block start (see bibsplit.read_block), so
    its end is where the next entry starts, worded as when the whole text is read.
    """
    reason = collapse_space(str(getattr(error, "abort_reason", "") or error or ""))
    reason = reason.replace("`", "'")
    if not reason:
        return "not valid BibTeX"
    if reason.startswith("Unexpectedly reached end of file"):
        if followed:
            return "the entry is not closed before the next entry starts"
        return "the file ends before this entry is closed (a '}' is missing)"
    rules = [
        (
            r"Unexpected block start: '@\w*[ \t]*'\. Was still looking for .*",
            "the entry is not closed before the next entry starts",
        ),
        (
            r"Expected a '=' after entry key '(.*)', but found the end of the entry.*",
            "field {0} has no '=' and no value",
        ),
        (
            r"Expected a '=' after entry key,? but found '(.*)'\.?",
            "expected '=' after a field name, found '{0}'",
        ),
        (
            r"Expected comma after entry key, but found (.*)",
            "a comma is missing after the citation key (found '{0}')",
        ),
        (
            r"Expected equals sign after field key, but found (.*)",
            "@string: expected '=' after the macro name, found '{0}'",
        ),
        (
            r"Expected either a ',' or '(.)' after a closed entry field value, but found a (.*) "
            r"before\.",
            "a comma is missing after a field value (found '{1}')",
        ),
    ]
    for pattern, message in rules:
        m = re.fullmatch(pattern, reason)
        if m:
            return message.format(*(g.strip()[:40] for g in m.groups()))
    return reason[:300]


#: Field names _FIELD_NAME has accepted (a file uses a few dozen): short ones, and so many.
_KNOWN_FIELD_NAMES: set[str] = set()


def _field_names_ok(names: list[str]) -> bool:
    """Every name matches _FIELD_NAME; names seen before are looked up, not matched again."""
    if _KNOWN_FIELD_NAMES.issuperset(names):
        return True
    if not all(_FIELD_NAME.fullmatch(name) for name in names):
        return False
    if len(_KNOWN_FIELD_NAMES) < 4096:
        _KNOWN_FIELD_NAMES.update(name for name in names if len(name) <= 64)
    return True


#: The bytes of _CONTROL's characters but U+FFFD in UTF-8 (all below 0x80): the others go.
_NOT_CONTROL_BYTES = bytes(
    b for b in range(256) if not (b <= 8 or b == 0x0B or 0x0E <= b <= 0x1F or b == 0x7F)
)


def _control_count(text: str) -> int:
    """``len(_CONTROL.findall(text))``, with bytes methods that run 10x faster than it."""
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _NOT_CONTROL_BYTES)) + data.count("\ufffd".encode())


class _Lines:
    """Offsets of line starts, found on demand and in order (only failures need them)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line = 0
        self.pos = 0

    def offset(self, line: int) -> int:
        if line < self.line:
            self.line, self.pos = 0, 0
        while self.line < line:
            j = self.text.find("\n", self.pos)
            if j < 0:
                break
            self.pos = j + 1
            self.line += 1
        return self.pos


def _add_entry(
    result: ParsedFile,
    seen: dict[str, int],
    key: str,
    entry_type: str,
    fields: list[tuple[str, str]],
    source: str,
    line: int,
    start: int = -1,
) -> None:
    """Add an entry read, unless an entry taken before has its key (as written)."""
    first = seen.get(key)
    if first is not None:
        result.failures.append(
            Failure(
                result.path,
                line,
                f"duplicate key {key!r}: the entry on line {first} already "
                "has it; this one was not imported",
                key,
            )
        )
        return
    seen[key] = line
    result.add_entry(ParsedEntry(key, entry_type.lower(), fields, source, result.path, line, start))
    if len({k.lower() for k, _ in fields}) != len(fields):
        names = [k.lower() for k, _ in fields]
        twice = sorted({n for n in names if names.count(n) > 1})
        what = f"fields {', '.join(twice)} are" if len(twice) > 1 else f"field {twice[0]} is"
        result.warnings.append(
            Failure(result.path, line, f"{what} given more than once; BibTeX uses the first", key)
        )


class _TextReader:
    """parse_text's state: bibtexparser's blocks, with bibsplit for those it gets wrong."""

    def __init__(
        self,
        text: str,
        result: ParsedFile,
        first_line: int,
        followed: bool = False,
        seen: dict[str, int] | None = None,
        base: int = 0,
    ) -> None:
        self.text = text
        self.base = base  # offset of ``text`` in the whole text parse_text reads
        self.seen = {} if seen is None else seen  # key -> line of the entry taken with it
        self.followed = followed  # see bibsplit.read_block
        self.result = result
        self.name = result.path
        self.first_line = first_line
        self.lines = _Lines(text)
        self.last_offset = 0
        self.last_end = 0  # where the last block located ends
        self.here: int | None = None  # offset of the block being read
        #: After bibsplit read a block, bibtexparser's blocks before this offset are fragments.
        self.resume: int | None = None
        self.resume_line = 0
        #: How far our reader went in blocks it found invalid: blocks that start inside that
        #: span get bibtexparser's word only, so hostile input cannot make the work quadratic.
        self.failed_to = 0
        #: Where the text between blocks (a comment to BibTeX) now runs from: the end of the
        #: last block, entry or failed block read. Binary junk in it gets a warning.
        self.comment_from = 0
        self.counted = 0  # self.text up to here has self.counted_lines line ends
        self.counted_lines = 0

    def took(self, start: int, end: int) -> None:
        """A block, entry or failed block is at ``text[start:end]`` (offsets in the whole
        text); the text since the one before it is a comment."""
        start -= self.base
        if start < 0:
            return  # not located
        if start > self.comment_from:
            self.binary_check(self.comment_from, start)
        self.comment_from = max(self.comment_from, end - self.base)

    def finish(self) -> None:
        self.took(self.base + len(self.text), self.base + len(self.text))

    def locate(self, block: model.Block) -> int | None:
        """Offset of a bibtexparser block in the text (it gives only a line)."""
        raw = block.raw or ""
        if not raw:
            return None
        line_start = self.lines.offset(block.start_line or 0)
        # Blocks come in order: look past the last one first (its raw text may repeat in
        # it), then from its start (a block can begin on the mark that ended the last).
        at = self.text.find(raw, max(line_start, self.last_end))
        if at < 0:
            at = self.text.find(raw, max(line_start, self.last_offset))
        if at < 0:
            at = self.text.find(raw, line_start)
        if at >= 0:
            end = at + len(raw)
            if type(block) is model.ParsingFailedBlock:
                # Its text may end in the head of the block start that ended it: that block
                # starts there, not after it.
                k = raw.rfind("@")
                if k > 0 and _HEAD.fullmatch(raw, k):
                    end = at + k
            self.last_offset, self.last_end = at, end
        return at if at >= 0 else None

    def read(self, blocks: list[model.Block]) -> None:
        for block in blocks:
            line = (block.start_line or 0) + self.first_line
            # Every block is located, so that the next is looked for past it (see locate).
            self.here = at = self.locate(block)
            if self.resume is not None:
                if at is None:
                    at = self.resume
                while self.resume is not None and self.resume <= at:
                    # Text between the end of what bibsplit read and bibtexparser's next block:
                    # a piece of an aborted block may have hidden real blocks there.
                    start, start_line = self.resume, self.resume_line
                    self.region(start, at, start_line)
                if self.resume is not None:
                    continue  # a piece of a block bibsplit has read whole
            self.block(block, line)
        if self.resume is not None:
            self.region(self.resume, len(self.text), self.resume_line)
        self.finish()

    def block(self, block: model.Block, line: int) -> None:
        raw = block.raw or ""
        if (
            "\\" in raw
            and ("\\{" in raw or "\\}" in raw)
            and not isinstance(block, model.ImplicitComment)
        ):
            # bibtexparser takes a brace after a backslash as escaped; BibTeX counts it.
            self.fallback(block, line)
            return
        # (Most blocks are entries: the type test spares them an ABC isinstance check.)
        if (
            type(block) is not model.Entry
            and isinstance(block, model.DuplicateFieldKeyBlock)
            and block.ignore_error_block
        ):
            block = block.ignore_error_block  # BibTeX reads it, using the first of each field
        if isinstance(block, model.Entry):
            keys = [f.key for f in block.fields]
            values = [f.value for f in block.fields]
            if (
                _ENTRY_TYPE.fullmatch(block.entry_type)
                and _KEY.fullmatch(block.key)
                and _field_names_ok(keys)
                and all(map(bibvalue.is_well_formed, values))
            ):
                self.entry(
                    block.key,
                    block.entry_type,
                    list(zip(keys, values, strict=True)),
                    *self.located(block.raw),
                    line,
                )
            else:
                self.fallback(block, line)
        elif isinstance(block, model.String):
            if _FIELD_NAME.fullmatch(block.key) and bibvalue.is_well_formed(block.value):
                self.add_block(
                    ParsedBlock("string", block.key, block.value, *self.located(block.raw))
                )
            else:
                self.fallback(block, line)
        elif isinstance(block, model.Preamble):
            if bibvalue.is_well_formed(block.value.strip()):
                self.add_block(ParsedBlock("preamble", None, block.value, *self.located(block.raw)))
            else:
                self.fallback(block, line)
        elif isinstance(block, model.ExplicitComment):
            self.add_block(ParsedBlock("comment", None, block.comment, *self.located(block.raw)))
        elif isinstance(block, model.ImplicitComment):
            self.comment(raw, line)
        elif isinstance(block, model.DuplicateBlockKeyBlock):
            # A macro defined again: the importer compares the two. An entry: entry() says
            # whether an entry it took has the key (bibtexparser also counts entries that
            # were rejected, such as one in a commented-out copy).
            if block.ignore_error_block is not None:
                self.block(block.ignore_error_block, line)
        elif isinstance(block, model.ParsingFailedBlock):
            self.fallback(block, line)

    def located(self, raw: str | None) -> tuple[str, int]:
        """A block's text stripped, and where it starts in the whole text (-1: unknown)."""
        raw = raw or ""
        source = raw.strip()
        if self.here is None:
            return source, -1
        return source, self.base + self.here + len(raw) - len(raw.lstrip())

    def entry(
        self,
        key: str,
        entry_type: str,
        fields: list[tuple[str, str]],
        source: str,
        start: int,
        line: int,
    ) -> None:
        _add_entry(self.result, self.seen, key, entry_type, fields, source, line, start)
        self.took(start, start + len(source))

    def add_block(self, block: ParsedBlock) -> None:
        self.result.add_block(block)
        self.took(block.start, block.start + len(block.source))

    def fallback(self, block: model.Block, line: int) -> None:
        """A block bibtexparser rejected or misread: read it by BibTeX's own rules."""
        at = self.here
        if at is None or at < self.failed_to:
            key = getattr(block, "key", None)
            if key is None:
                m = re.match(r"@\w+\s*[{(]\s*([^,\s]{1,80})\s*,", block.raw or "")
                key = m.group(1) if m else None
            self.result.failures.append(
                Failure(
                    self.name, line, _explain(getattr(block, "error", None), self.followed), key
                )
            )
            return
        item = bibsplit.read_block(self.text, at, line, followed=self.followed)
        self.add(item)
        if isinstance(item, bibsplit.Block):
            self.resume = item.end
            self.resume_line = line + self.text.count("\n", at, item.end)

    def region(self, start: int, end: int, line: int) -> None:
        """Blocks bibtexparser lost inside pieces of a block bibsplit read whole."""
        self.resume = None
        gap_end = max(start, end)
        for item in bibsplit.split(self.text, start, gap_end, line, followed=self.followed):
            self.add(item)
            if item.end > gap_end and isinstance(item, bibsplit.Block):
                self.resume = item.end
                self.resume_line = item.line + self.text.count("\n", item.start, item.end)

    def add(self, item: bibsplit.Block | bibsplit.Problem) -> None:
        result, name = self.result, self.name
        if isinstance(item, bibsplit.Problem):
            self.failed_to = max(self.failed_to, item.end)
            self.took(self.base + item.start, self.base + item.end)
            message = item.message
            if _CONTROL.search(self.text, item.start, min(item.end + 1, len(self.text))):
                message = "binary data (not text) inside this block: " + message
            key = item.key if item.key is None or len(item.key) <= 80 else item.key[:80] + "…"
            result.failures.append(Failure(name, item.line, message, key))
            return
        raw = self.text[item.start : item.end]
        source = raw.strip()
        start = self.base + item.start + len(raw) - len(raw.lstrip())
        if item.kind == "entry":
            self.entry(item.key or "", item.entry_type, item.fields, source, start, item.line)
        else:
            self.add_block(ParsedBlock(item.kind, item.key, item.value, source, start))
        if item.had_comments:
            result.warnings.append(
                Failure(
                    name,
                    item.line,
                    "has '%' comment lines inside; they were left out of the "
                    "fields (BibTeX itself would reject them; biber skips them)",
                    item.key if item.kind == "entry" else None,
                )
            )

    def comment(self, raw: str, line: int) -> None:
        """Text bibtexparser found no block in: blocks BibTeX starts there are read.

        bibtexparser sees a block start only in ``@type{`` with blanks at most between;
        BibTeX also in ``@ type{``, ``@type`` and ``{`` on the next line, and in types with
        characters other than letters and digits (``@www-inproceedings{``).
        """
        at = self.here
        if at is not None and "@" in raw:
            start = max(at, self.failed_to)
            m = bibsplit.find_start(self.text, start, at + len(raw))
            if m is not None:
                self.region(m.start(), at + len(raw), line + self.text.count("\n", at, m.start()))

    def binary_check(self, start: int, end: int) -> None:
        """Text between blocks is a comment; binary junk there is worth a word."""
        marks = [m.start() for m in _CONTROL.finditer(self.text, start, end)]
        if len(marks) >= 4:
            self.counted_lines += self.text.count("\n", self.counted, marks[0])
            self.counted = marks[0]
            first = self.first_line + self.counted_lines
            last = first + self.text.count("\n", marks[0], marks[-1])
            where = f"lines {first}-{last} hold" if last > first else f"line {first} holds"
            self.result.binary_lines.append((first, last))
            self.result.warnings.append(
                Failure(
                    self.name,
                    first,
                    f"{where} binary data (not text) between entries; it was skipped",
                )
            )
