"""The values the library hands out and takes back: plain data, no connection inside.

They hold ids, text and flags only, so that a value can cross a thread, a process or
(later) a network as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import bibtex, bibvalue
from .names import Person

STATUSES = ("unread", "reading", "read")
#: How people read each reading status.
STATUS_LABELS = {"unread": "Unread", "reading": "Reading", "read": "Read"}

#: The entry types offered when a paper is made or its type edited (any other may be typed).
ENTRY_TYPES = (
    "article",
    "book",
    "booklet",
    "inbook",
    "incollection",
    "inproceedings",
    "manual",
    "mastersthesis",
    "misc",
    "online",
    "phdthesis",
    "proceedings",
    "techreport",
    "unpublished",
)


def normal_tag(name: str) -> str:
    """A tag name as the library stores it: runs of white space made one space, no NUL
    (SQLite's NOCASE stops comparing at a NUL, so "a\\0b" would equal "a\\0c")."""
    return " ".join(name.replace("\x00", "").split())


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass
class Changes:
    """What a write changed. Views refresh from this; empty means nothing happened.

    Ids and flags only: a value a later group library can send to a server as it is.
    """

    papers: set[int] = field(default_factory=set)
    added: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)
    tags: bool = False
    notes: bool = False
    status: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.papers or self.added or self.removed or self.tags or self.notes or self.status
        )

    def merge(self, other: Changes) -> Changes:
        self.papers |= other.papers
        self.added |= other.added
        self.removed |= other.removed
        self.tags |= other.tags
        self.notes |= other.notes
        self.status |= other.status
        return self


@dataclass(frozen=True)
class Query:
    """Which papers a view or an export wants. Empty means all."""

    search: str = ""
    tag: str | None = None
    status: str | None = None
    keys: tuple[str, ...] = ()
    ids: tuple[int, ...] = ()
    recent_days: int | None = None


@dataclass(frozen=True)
class Row:
    """What one line of the paper table shows."""

    id: int
    key: str
    title: str
    authors: str
    year: int | None
    venue: str
    tags: str
    status: str
    rating: int
    added: str


@dataclass(frozen=True)
class Note:
    id: int
    paper_id: int
    body: str
    created: str
    updated: str


@dataclass(frozen=True)
class TagInfo:
    name: str
    color: str | None
    count: int


@dataclass
class Paper:
    """One paper in full: its BibTeX fields as written, decoded values and personal data."""

    id: int
    key: str
    entry_type: str
    fields: list[tuple[str, str]]
    title: str
    authors: list[Person]
    editors: list[Person]
    year: int | None
    month: int | None
    date: str | None
    venue: str
    volume: str | None
    number: str | None
    pages: str | None
    doi: str | None
    url: str | None
    arxiv: str | None
    abstract: str
    keywords: str
    category: str | None
    tags: list[str]
    notes: list[Note]
    status: str
    status_changed: str | None
    rating: int
    added: str
    modified: str
    edited: bool
    aliases: list[str]

    def raw(self, name: str) -> str | None:
        """A field's raw BibTeX value (with delimiters), or None."""
        return bibtex.field_map(self.fields).get(name.lower())

    def text(self, name: str) -> str:
        """A field's LaTeX text without delimiters (what an editor shows), or ''."""
        raw = self.raw(name)
        return bibvalue.evaluate(raw) if raw is not None else ""

    @property
    def links(self) -> list[tuple[str, str]]:
        """(label, URL) pairs a reader can open: DOI, URL, arXiv, code."""
        out = []
        if self.doi:
            out.append(("DOI", "https://doi.org/" + self.doi))
        if self.url:
            out.append(("URL", self.url))
        if self.arxiv:
            out.append(("arXiv", "https://arxiv.org/abs/" + self.arxiv))
        code = self.text("code").strip()
        if code:
            out.append(("Code", code))
        return out


@dataclass
class ImportReport:
    """What an import did: every entry is in exactly one list."""

    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    failures: list[bibtex.Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    #: The library's records of the files imported (their layout; see delete_import).
    file_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        parts = [f"{len(self.added)} added"]
        parts.append(f"{len(self.duplicates)} duplicate{'s' if len(self.duplicates) != 1 else ''}")
        parts.append(f"{len(self.failures)} failed")
        return ", ".join(parts)


@dataclass
class DeletedPapers:
    """Everything needed to bring deleted papers back exactly (for undo)."""

    papers: list[dict[str, Any]]
    persons: list[dict[str, Any]]
    paper_tags: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    aliases: list[dict[str, Any]]
    #: An import's files and their blocks (@string, @comment, the text between entries).
    files: list[dict[str, Any]] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)
