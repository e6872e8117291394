"""What reading BibTeX text gives: entries, blocks, failures and the file that holds them.

These are plain values, apart from the reading itself, so that the readers
(:mod:`db.bibtex`, :mod:`db.bibblocks`), the importer and the workers can all name them
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ParsedEntry:
    """One entry as found in a file."""

    key: str
    entry_type: str
    fields: list[tuple[str, str]]
    source: str
    file: str
    line: int
    #: Where ``source`` starts in the text read (-1: not known), and the text between the
    #: item before it (or the start of the text) and it: see :attr:`ParsedFile.items`.
    start: int = -1
    lead: str = ""


@dataclass
class ParsedBlock:
    """A @string, @preamble or @comment block."""

    kind: str
    name: str | None
    value: str
    source: str
    start: int = -1
    lead: str = ""


@dataclass
class Failure:
    """A part of a file that could not be read as BibTeX: where it is and why."""

    file: str
    line: int
    message: str
    key: str | None = None
    #: What kind of problem, for programs: "binary", "empty", "no-entries" or None.
    code: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        if self.key:
            where += f" (entry {self.key})"
        return f"{where}: {self.message}"


@dataclass
class ParsedFile:
    path: str
    encoding: str
    entries: list[ParsedEntry] = field(default_factory=list)
    blocks: list[ParsedBlock] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    #: Things read but worth telling (a field given twice, lines not in the file's encoding).
    warnings: list[Failure] = field(default_factory=list)
    #: Entries and blocks in the order of the text. Each item's ``lead`` is the text before
    #: it since the item before (comments, blank lines, entries that failed or repeat a
    #: key), and ``tail`` the text after the last: leads, sources and tail joined are the
    #: text read, exactly (line ends as ``\n``), which is what a whole-file export writes.
    items: list[ParsedEntry | ParsedBlock] = field(default_factory=list)
    tail: str = ""
    #: The lines (first, last) of binary junk between entries, warned about as such.
    binary_lines: list[tuple[int, int]] = field(default_factory=list, repr=False, compare=False)

    def add_entry(self, entry: ParsedEntry) -> None:
        self.entries.append(entry)
        self.items.append(entry)

    def add_block(self, block: ParsedBlock) -> None:
        self.blocks.append(block)
        self.items.append(block)
