"""The values the library hands out and takes back: plain data, no connection inside.

They hold ids, text and flags only, so that a value can cross a thread, a process or
(later) a network as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import bibitems, bibvalue, derive
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
    """What a write changed, and how to undo it. Views refresh from this; empty (false)
    means nothing happened.

    Ids, names and flags only: a value a later group library can send to a server as it is.
    Every write of :class:`db.Library` returns one; its ``undo`` was captured inside the
    write's own transaction, and ``Library.undo(changes.undo)`` puts the library back,
    returning the changes of that (whose ``undo`` redoes the write).
    """

    #: Papers whose data changed in any way (fields, tags, status, notes...).
    papers: set[int] = field(default_factory=set)
    added: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)
    #: The bibliographic data of ``papers`` changed: fields, entry type or citation key.
    fields: bool = False
    #: Citation keys that changed: paper id -> (old key, new key).
    keys: dict[int, tuple[str, str]] = field(default_factory=dict)
    #: Anything about tags: on papers, or the tags themselves.
    tags: bool = False
    #: Tags were deleted, renamed, merged or recoloured (a tag list must be read again).
    tag_list: bool = False
    #: Tags made (new tags have no colour; a list of tags gains them).
    tags_made: set[str] = field(default_factory=set)
    #: How many papers each tag (as named now) gained (or, below zero, lost).
    tag_counts: dict[str, int] = field(default_factory=dict)
    notes: bool = False
    #: Notes made, edited or deleted.
    note_ids: set[int] = field(default_factory=set)
    status: bool = False
    rating: bool = False
    #: The attached files of ``papers`` changed (attached, detached, renamed, relinked).
    files: bool = False
    #: @string, @preamble or @comment blocks, or the text between entries, changed.
    blocks: bool = False
    #: Library-wide settings written (their names; see db/options.py).
    settings: set[str] = field(default_factory=set)
    #: What putting things back needs; None for a change that cannot be undone.
    undo: Undo | None = field(default=None, compare=False, repr=False)
    #: Who asked for the change, set by whoever announces it (a window's view, so it can
    #: tell its own edits from others'); never stored, compared or sent anywhere.
    initiator: object = field(default=None, compare=False, repr=False)

    def __bool__(self) -> bool:
        return bool(
            self.papers
            or self.added
            or self.removed
            or self.fields
            or self.tags
            or self.notes
            or self.status
            or self.rating
            or self.files
            or self.blocks
            or self.settings
        )

    def merge(self, other: Changes) -> Changes:
        """Add what ``other`` changed (its ``undo`` is not taken: a write's own covers all)."""
        self.papers |= other.papers
        self.added |= other.added
        self.removed |= other.removed
        self.fields |= other.fields
        self.keys.update(other.keys)
        self.tags |= other.tags
        self.tag_list |= other.tag_list
        self.tags_made |= other.tags_made
        for name, n in other.tag_counts.items():
            self.tag_counts[name] = self.tag_counts.get(name, 0) + n
        self.notes |= other.notes
        self.note_ids |= other.note_ids
        self.status |= other.status
        self.rating |= other.rating
        self.files |= other.files
        self.blocks |= other.blocks
        self.settings |= other.settings
        return self

    @property
    def new_paper(self) -> int:
        """The id of the one paper this change added (``add_paper``)."""
        if len(self.added) != 1:
            raise ValueError(f"{len(self.added)} papers were added, not one")
        return next(iter(self.added))

    @property
    def new_note(self) -> int:
        """The id of the one note this change made or touched (``add_note``)."""
        if len(self.note_ids) != 1:
            raise ValueError(f"{len(self.note_ids)} notes changed, not one")
        return next(iter(self.note_ids))

    def inverse(self) -> Changes:
        """What undoing this changes: the same things, with added and removed swapped."""
        return Changes(
            papers=set(self.papers),
            added=set(self.removed),
            removed=set(self.added),
            fields=self.fields,
            keys={pid: (new, old) for pid, (old, new) in self.keys.items()},
            tags=self.tags,
            # Undoing the making of a tag deletes it.
            tag_list=self.tag_list or bool(self.tags_made),
            tag_counts={name: -n for name, n in self.tag_counts.items()},
            notes=self.notes,
            note_ids=set(self.note_ids),
            status=self.status,
            rating=self.rating,
            files=self.files,
            blocks=self.blocks,
            settings=set(self.settings),
        )


@dataclass(frozen=True)
class RowImage:
    """The rows of one table whose ``column`` is one of ``keys``, as they were.

    ``rows`` are tuples in the order of ``columns``; an image with no rows says none of
    those rows existed (papers an import made, say). Putting the image back deletes the
    rows in its scope that it does not hold and writes back the ones it does.
    """

    table: str
    column: str
    keys: tuple[Any, ...]
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    #: Only some columns were kept: putting back updates them and deletes nothing.
    partial: bool = False


@dataclass(frozen=True)
class Undo:
    """How to put back what one write changed: row images captured inside its transaction
    before it changed them (put back last first), and what putting them back changes."""

    images: tuple[RowImage, ...]
    changes: Changes


@dataclass(frozen=True)
class Query:
    """Which papers a view or an export wants. Empty means all."""

    search: str = ""
    tag: str | None = None
    status: str | None = None
    keys: tuple[str, ...] = ()
    ids: tuple[int, ...] = ()
    recent_days: int | None = None
    #: The reading queue: unread and reading papers only, in the queue's order (priority,
    #: i.e. rating, high first; then the oldest added first), whatever sort is asked for.
    queue: bool = False


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
    #: When the paper's file or link was last opened from Citedesk; None: never.
    opened: str | None = None


@dataclass(frozen=True)
class Note:
    id: int
    paper_id: int
    body: str
    created: str
    updated: str
    #: Shared with the member's group (db/group.py); other notes stay personal.
    shared: bool = False


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
        return derive.field_map(self.fields).get(name.lower())

    def text(self, name: str) -> str:
        """A field's LaTeX text without delimiters (what an editor shows), or ''."""
        raw = self.raw(name)
        return bibvalue.evaluate(raw) if raw is not None else ""

    @property
    def links(self) -> list[tuple[str, str]]:
        """(label, URL) pairs a reader can open: DOI, URL, arXiv (its page and PDF), code."""
        out = []
        if self.doi:
            out.append(("DOI", "https://doi.org/" + self.doi))
        if self.url:
            out.append(("URL", self.url))
        if self.arxiv:
            out.append(("arXiv", "https://arxiv.org/abs/" + self.arxiv))
            out.append(("PDF", "https://arxiv.org/pdf/" + self.arxiv))
        code = self.text("code").strip()
        if code:
            out.append(("Code", code))
        return out


@dataclass
class ImportReport:
    """What an import did: every entry is in exactly one list."""

    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    failures: list[bibitems.Failure] = field(default_factory=list)
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
