"""A small BibTeX reader that follows BibTeX's own rules, for what bibtexparser gets wrong.

bibtexparser 2.1 refuses or misreads some valid BibTeX: a ``"`` inside braces inside a
quoted value (``"{\\verb="x"}"``); a brace after a backslash, which it takes as escaped
where BibTeX counts it (``{T. {Te\\{v}zak}}`` is one value, ``{a \\{\\&} b}`` too);
entries whose start it does not see (``@ inproceedings{``, ``@www-inproceedings{``, a line
break before the ``{``); and ``%`` comment lines between the fields of an entry, which biber
and JabRef accept and which bibtexparser sometimes misreads silently as part of a field
name. :func:`db.bibtex.parse_text` hands such blocks to :func:`read_block`, which reads one
block by BibTeX's grammar and either returns it (raw values with their delimiters, as the
empty parse stack gives them) or says in words what is wrong and on which line.

Its one leniency: a ``"`` right after a backslash does not end a quoted value (as with
bibtexparser; BibTeX would end it there).

Everything here is a loop with counters: no recursion, so 100,000-deep braces are fine, and
time and memory stay linear in the size of the text. Like bibtexparser, a line that starts
with ``@type{`` ends a block that was not closed, so one missing brace cannot swallow the
rest of a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

#: Where a block starts: what bibtexparser takes for one too (``@type{`` or ``@type(``).
#: At the start of a line it also ends any block still open (see the module docstring).
BLOCK_START = re.compile(r"@(\w*)[ \t]*([{(])")
#: Where BibTeX starts a block: ``@``, white space, an identifier (not starting with a
#: digit), white space, then ``{`` or ``(``; white space includes line breaks
#: (``@InProceedings`` then ``{`` on the next line). It is found anywhere outside a block.
#: An ``@`` is an identifier character (``@t@{`` is of type ``t@``), though not the first
#: here: BibTeX reads ``@`` at the end of a comment line and ``@misc{`` on the next as an
#: entry of type ``@misc``, where a line starting a block starts one for Citedesk.
BIBTEX_START = re.compile(
    r"@[ \t\n]*+([^\x00-\x20\x7f\"#%'(),={}@0-9][^\x00-\x20\x7f\"#%'(),={}]*+)[ \t\n]*+([{(])"
)
#: Either: what read_block reads (BibTeX's rule first, then bibtexparser's, say ``@{``).
_ANY_START = re.compile(BIBTEX_START.pattern + "|" + BLOCK_START.pattern)
#: A field name, @string name or macro: BibTeX's identifier characters.
IDENTIFIER = re.compile(r"[^\s\"#%'(),={}]+")
_GAP = re.compile(r"(?:\s+|%[^\n]*)*")
_KEY_BRACE = re.compile(r"[^\s,{}\"=]*")
_KEY_PAREN = re.compile(r"[^\s,{}\"=)]*")
# Marks inside a value: a brace (escaped or not: BibTeX counts every one), a quote that no
# backslash precedes, or a line that starts a block.
_NEW_BLOCK = r"\n(?=[ \t]*@\w*[ \t]*[{(])"
_BRACED_MARK = re.compile(r"[{}]|" + _NEW_BLOCK)
_QUOTED_MARK = re.compile(r'[{}]|(?<!\\)"|' + _NEW_BLOCK)
_COMMENT_MARK = _BRACED_MARK
_PAREN_COMMENT_MARK = re.compile(r"[{})]|" + _NEW_BLOCK)


@dataclass
class Block:
    """One block read by BibTeX's rules: an entry, @string, @preamble or @comment."""

    kind: str
    start: int
    end: int
    line: int
    entry_type: str = ""
    key: str | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    value: str = ""
    had_comments: bool = False


@dataclass
class Problem:
    """A block that is not valid BibTeX: what is wrong, in words, and where it starts."""

    message: str
    start: int
    end: int
    line: int
    key: str | None = None


class _Abort(Exception):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def _show(text: str, pos: int) -> str:
    """The token at ``pos`` quoted for a message: 'year', '}' or 'the end of the file'."""
    if pos >= len(text):
        return "the end of the file"
    m = IDENTIFIER.match(text, pos, pos + 30)
    token = m.group(0) if m else text[pos]
    if token == "\n":
        return "a line break"
    return repr(token)


def _opened(delimiter: str, line: int, owner: str) -> str:
    what = "the '{'" if delimiter == "{" else "the quote"
    return f"{what} opened on line {line} in {owner}"


class _Reader:
    def __init__(self, text: str, start: int, line: int, followed: bool = False) -> None:
        self.text = text
        self.followed = followed
        self.start = start
        self.line = line
        self.pos = start
        self.key: str | None = None
        self.had_comments = False

    def line_at(self, pos: int) -> int:
        return self.line + self.text.count("\n", self.start, min(pos, len(self.text)))

    def gap(self) -> bool:
        """Skip white space and ``%`` comment lines; True when a comment was skipped."""
        m = _GAP.match(self.text, self.pos)
        end = m.end() if m else self.pos
        commented = "%" in self.text[self.pos : end]
        self.had_comments |= commented
        self.pos = end
        return commented

    def at_new_block(self) -> bool:
        """True when the reader stands on ``@type{`` at the start of a line."""
        text, pos = self.text, self.pos
        if not text.startswith("@", pos):
            return False
        before = text.rfind("\n", self.start, pos)
        if before < 0 or text[before + 1 : pos].strip(" \t"):
            return False
        return BLOCK_START.match(text, pos) is not None

    def not_closed(self, subject: str) -> _Abort:
        """``subject`` was still open at the end of the text or at a line starting a block."""
        if self.pos >= len(self.text) and not self.followed:
            where = f"the file ends (line {self.line_at(self.pos)})"
        else:
            where = f"the next entry starts (line {self.line_at(self.pos)})"
        return _Abort(f"{subject} is not closed before {where}", self.pos)

    def expect_more(self, what: str, hint: str = "") -> None:
        if self.pos >= len(self.text) or self.at_new_block():
            abort = self.not_closed(what)
            abort.message += hint
            raise abort

    def value(self, owner: str, close: str) -> str:
        """Read a value (parts joined by ``#``) and return its raw text, delimiters kept."""
        text = self.text
        parts: list[str] = []
        commented = False
        first = self.pos
        while True:
            commented |= self.gap()
            self.expect_more(owner)
            pos = self.pos
            if not parts:
                first = pos
            c = text[pos]
            if c in '{"':
                opened_line = self.line_at(pos)
                depth = 0
                end = -1
                marks = _BRACED_MARK if c == "{" else _QUOTED_MARK
                for m in marks.finditer(text, pos if c == "{" else pos + 1):
                    ch = m.group(0)
                    if ch == "{":
                        depth += 1
                    elif ch == "}":
                        depth -= 1
                        if c == "{" and depth == 0:
                            end = m.end()
                            break
                        if depth < 0:
                            raise _Abort(
                                f"{owner}: the quoted value opened on line {opened_line} has "
                                f"a '}}' without a matching '{{' on line {self.line_at(m.start())}",
                                m.start(),
                            )
                    elif ch == '"':
                        if depth == 0:
                            end = m.end()
                            break
                    elif ch == "\n":
                        self.pos = m.start() + 1
                        self.gap()
                        raise self.not_closed(_opened(c, opened_line, owner))
                if end < 0:
                    self.pos = len(text)
                    raise self.not_closed(_opened(c, opened_line, owner))
                parts.append(text[pos:end])
                self.pos = end
            else:
                bare = IDENTIFIER.match(text, pos)
                if bare is None:
                    raise _Abort(
                        f"{owner} has no value: expected '{{', '\"', a number or a "
                        f"macro name on line {self.line_at(pos)} but found "
                        f"{_show(text, pos)}",
                        pos,
                    )
                parts.append(bare.group(0))
                self.pos = bare.end()
            value_end = self.pos
            comment_after = self.gap()
            if text.startswith("#", self.pos):
                commented |= comment_after
                self.pos += 1
                continue
            # Raw text as written; a comment between '#' parts is left out.
            return " # ".join(parts) if commented else text[first:value_end]

    def read(self) -> Block:
        text = self.text
        m = _ANY_START.match(text, self.pos)
        if m is None:
            raise _Abort("'@' is not followed by an entry type and '{'", self.pos)
        written = m.group(1) or m.group(3) or ""
        entry_type = written.lower()
        if not entry_type:
            raise _Abort("'@' is not followed by an entry type (like @article)", self.pos + 1)
        if entry_type[0].isdigit():
            raise _Abort(
                f"the entry type {written!r} starts with a digit, which BibTeX does not allow",
                self.pos + 1,
            )
        close = "}" if (m.group(2) or m.group(4)) == "{" else ")"
        self.pos = m.end()
        head = f"@{written}"
        if entry_type == "comment":
            return self._comment(close)
        if entry_type == "preamble":
            raw = self.value(head, close)
            self._close(head, close)
            return self._block("preamble", entry_type, value=raw)
        if entry_type == "string":
            self.gap()
            self.expect_more(head)
            name = IDENTIFIER.match(text, self.pos)
            if name is None:
                raise _Abort(
                    f"{head}: expected a macro name on line {self.line_at(self.pos)}, "
                    f"found {_show(text, self.pos)}",
                    self.pos,
                )
            self.key = name.group(0)
            self.pos = name.end()
            self._equals(f"{head} {self.key}")
            raw = self.value(f"{head} {self.key}", close)
            self._close(f"{head} {self.key}", close)
            return self._block("string", entry_type, key=self.key, value=raw)
        return self._entry(entry_type, close)

    def _entry(self, entry_type: str, close: str) -> Block:
        text = self.text
        self.gap()
        self.expect_more(f"@{entry_type}")
        km = (_KEY_BRACE if close == "}" else _KEY_PAREN).match(text, self.pos)
        self.key = km.group(0) if km else ""
        self.pos = km.end() if km else self.pos
        self.gap()
        fields: list[tuple[str, str]] = []
        entry = "the entry"
        self.expect_more(entry)
        if text.startswith(close, self.pos):
            self.pos += 1
            return self._block("entry", entry_type, key=self.key, fields=fields)
        if not text.startswith(",", self.pos):
            if not self.key:
                raise _Abort(
                    f"expected a citation key after '@{entry_type}{{' on line "
                    f"{self.line_at(self.pos)}, found {_show(text, self.pos)}",
                    self.pos,
                )
            if text.startswith("=", self.pos):
                raise _Abort(
                    f"the entry has no citation key: '@{entry_type}{{' is followed by "
                    f"field {self.key!r} on line {self.line_at(self.pos)}",
                    self.pos,
                )
            raise _Abort(
                f"a comma is missing after the citation key {self.key!r} on line "
                f"{self.line_at(self.pos)} (found {_show(text, self.pos)})",
                self.pos,
            )
        self.pos += 1
        hint = f"; its closing '{close}' is missing"
        while True:
            self.gap()
            self.expect_more(entry, hint)
            if text.startswith(close, self.pos):
                self.pos += 1
                return self._block("entry", entry_type, key=self.key, fields=fields)
            name = IDENTIFIER.match(text, self.pos)
            if name is None:
                found = _show(text, self.pos)
                if text.startswith(",", self.pos):
                    found = "a second ','"
                raise _Abort(
                    f"expected a field name on line {self.line_at(self.pos)}, found {found}",
                    self.pos,
                )
            self.pos = name.end()
            self._equals(f"field {name.group(0)}")
            value_line = self.line_at(self.pos)
            raw = self.value(f"field {name.group(0)}", close)
            fields.append((name.group(0), raw))
            hint = f"; its closing '{close}' is missing"
            if "\n" in raw:
                # A '}' missing earlier makes a braced value run on over the next fields.
                hint = (
                    f"; is a '}}' missing in field {name.group(0)}? Its value runs from "
                    f"line {value_line} to line {value_line + raw.count(chr(10))}"
                )
            self.expect_more(entry, hint)
            if text.startswith(",", self.pos):
                self.pos += 1
            elif not text.startswith(close, self.pos):
                raise _Abort(
                    f"a comma is missing after the value of field {name.group(0)} "
                    f"(found {_show(text, self.pos)} on line "
                    f"{self.line_at(self.pos)})",
                    self.pos,
                )

    def _equals(self, owner: str) -> None:
        self.gap()
        self.expect_more(owner)
        if not self.text.startswith("=", self.pos):
            raise _Abort(
                f"{owner}: expected '=' on line {self.line_at(self.pos)}, found "
                f"{_show(self.text, self.pos)}",
                self.pos,
            )
        self.pos += 1

    def _close(self, owner: str, close: str) -> None:
        self.gap()
        self.expect_more(owner)
        if not self.text.startswith(close, self.pos):
            raise _Abort(
                f"{owner}: expected '{close}' on line {self.line_at(self.pos)}, found "
                f"{_show(self.text, self.pos)}",
                self.pos,
            )
        self.pos += 1

    def _comment(self, close: str) -> Block:
        """@comment{...}: balanced braces up to the closing delimiter, as bibtexparser reads it."""
        text = self.text
        depth = 0
        marks = _COMMENT_MARK if close == "}" else _PAREN_COMMENT_MARK
        for m in marks.finditer(text, self.pos):
            ch = m.group(0)
            if ch == "{":
                depth += 1
            elif ch == close and depth == 0:
                value = text[self.pos : m.start()].strip()
                self.pos = m.end()
                return self._block("comment", "comment", value=value)
            elif ch == "}":
                depth = max(depth - 1, 0)
            elif ch == "\n":
                self.pos = m.start() + 1
                self.gap()
                raise self.not_closed("@comment")
        self.pos = len(text)
        raise self.not_closed("@comment")

    def _block(
        self,
        kind: str,
        entry_type: str,
        *,
        key: str | None = None,
        fields: list[tuple[str, str]] | None = None,
        value: str = "",
    ) -> Block:
        return Block(
            kind=kind,
            start=self.start,
            end=self.pos,
            line=self.line,
            entry_type=entry_type,
            key=key,
            fields=fields or [],
            value=value,
            had_comments=self.had_comments,
        )


def read_block(text: str, start: int, line: int = 1, *, followed: bool = False) -> Block | Problem:
    """Read the block whose ``@`` is at ``text[start]`` (on line ``line``) by BibTeX's rules.

    ``followed``: the text is a piece of a larger one, which goes on with a block start at
    the start of a line (so a block still open at its end is open at that block start).
    """
    reader = _Reader(text, start, line, followed)
    try:
        return reader.read()
    except _Abort as exc:
        return Problem(exc.message, start, max(exc.pos, start + 1), line, reader.key)


def split(
    text: str, start: int = 0, end: int | None = None, line: int = 1, *, followed: bool = False
) -> Iterator[Block | Problem]:
    """Every block that starts in ``text[start:end]``; ``line`` is the line at ``start``.

    Text between blocks is a comment, as in BibTeX. After a problem, reading goes on at the
    place where the block went wrong, as bibtexparser does.
    """
    stop = len(text) if end is None else end
    pos = start
    while pos < stop:
        m = find_start(text, pos, stop)
        if m is None:
            return
        line += text.count("\n", pos, m.start())
        item = read_block(text, m.start(), line, followed=followed)
        if isinstance(item, Problem) and item.end <= m.start():
            item.end = m.start() + 1
        yield item
        line += text.count("\n", m.start(), item.end)
        pos = item.end


def find_start(text: str, pos: int, stop: int) -> re.Match[str] | None:
    """The first block start (see read_block) whose ``@`` is in ``text[pos:stop]``.

    Its type and ``{`` may lie past ``stop``. Each ``@`` is tried on its own: a search of
    the whole pattern would run on to the end of the text when there is none.
    """
    at = text.find("@", pos, stop)
    while at >= 0:
        m = _ANY_START.match(text, at)
        if m is not None:
            return m
        at = text.find("@", at + 1, stop)
    return None
