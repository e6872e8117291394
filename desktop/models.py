"""Item models over the library: the paper table and the sidebar.

The paper table holds only the ids of the papers the current query finds, in the order SQL
sorted them, and a small cache of rows fetched a page at a time as the view paints them
(as Anki's browser model). Searching and sorting are a new SQL query and a model reset;
no proxy model ever sees every paper.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, IntEnum
from functools import lru_cache
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

from . import db
from .hub import LibraryEvents
from .widgets import readable_chip_colors

ModelIndex = QModelIndex | QPersistentModelIndex

PAPER_ID_ROLE = Qt.ItemDataRole.UserRole + 1
KEY_ROLE = Qt.ItemDataRole.UserRole + 2
#: The tags of a paper as ``[(name, colour or None), ...]`` for the tag chips delegate.
TAG_LIST_ROLE = Qt.ItemDataRole.UserRole + 3
#: A sidebar entry's paper count (drawn at the right by the sidebar's delegate).
COUNT_ROLE = Qt.ItemDataRole.UserRole + 10
#: A sidebar entry's :class:`SidebarFilter` (None for the section headings).
FILTER_ROLE = Qt.ItemDataRole.UserRole + 11
#: A sidebar entry's :class:`NodeKind`.
KIND_ROLE = Qt.ItemDataRole.UserRole + 12
#: A heading's hint when its section is empty (the Tags section with no tags yet).
HINT_ROLE = Qt.ItemDataRole.UserRole + 13
#: What the Tags section says while there are no tags.
NO_TAGS_HINT = "None yet: type one in a paper's Tags box (Ctrl+T tags the selection)."
#: What the Saved searches section says while there are none.
NO_SAVED_HINT = "None yet: search, then right-click here and choose Save Search…"

RECENT_DAYS = 30


class Column(IntEnum):
    TITLE = 0
    AUTHORS = 1
    YEAR = 2
    VENUE = 3
    TAGS = 4
    STATUS = 5
    RATING = 6
    ADDED = 7
    #: Last, so that header states saved before it existed keep their columns.
    KEY = 8
    #: When the paper was last opened (the reading queue shows it).
    OPENED = 9


@dataclass(frozen=True)
class ColumnSpec:
    """How one table column is titled, sorted (a key of the library's sort columns), sized."""

    header: str
    sort_key: str
    width: int
    hidden: bool = False
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft
    #: A first click on the header sorts from the most (the best rated) down.
    descending_first: bool = False


COLUMNS: dict[Column, ColumnSpec] = {
    Column.TITLE: ColumnSpec("Title", "title", 320),
    Column.AUTHORS: ColumnSpec("Authors", "authors", 118),
    Column.YEAR: ColumnSpec("Year", "year", 48, align=Qt.AlignmentFlag.AlignRight),
    Column.VENUE: ColumnSpec("Venue", "venue", 86),
    Column.TAGS: ColumnSpec("Tags", "tags", 124),
    # Hidden by default so the title keeps room beside the detail pane (the sidebar shows
    # the status, the detail pane the rating); the header's context menu and
    # View > Columns show them.
    Column.STATUS: ColumnSpec("Status", "status", 72, hidden=True),
    Column.RATING: ColumnSpec("Rating", "rating", 72, hidden=True, descending_first=True),
    Column.ADDED: ColumnSpec("Added", "added", 88, hidden=True),
    Column.KEY: ColumnSpec("Key", "key", 150, hidden=True),
    Column.OPENED: ColumnSpec("Opened", "opened", 88, hidden=True, descending_first=True),
}
SORT_KEY_COLUMN = {spec.sort_key: col for col, spec in COLUMNS.items()}


@lru_cache(maxsize=4096)
def local_date(stamp: str) -> str:
    """The calendar date of a stored UTC timestamp, in the local time zone."""
    try:
        return datetime.fromisoformat(stamp).astimezone().date().isoformat()
    except ValueError:
        return stamp[:10]


def stars(rating: int) -> str:
    return "★" * rating + "☆" * (5 - rating) if rating > 0 else ""


#: What kind of change can reorder a list sorted by each sort key (db.SORT_COLUMNS).
_SORTED_BY: dict[str, tuple[str, ...]] = {
    "title": ("fields",),
    "authors": ("fields",),
    "year": ("fields",),
    "venue": ("fields",),
    "key": ("fields",),
    "tags": ("tags",),
    "status": ("status",),
    "rating": ("rating",),
    "added": (),
    "opened": (),
}


@lru_cache(maxsize=1)
def _italic() -> QFont:
    font = QFont()
    font.setItalic(True)
    return font


def _query_failed(exc: Exception) -> bool:
    return isinstance(exc, db.SQLiteError | db.LibraryError)


class PaperTableModel(QAbstractTableModel):
    """The papers of one query, as ids; rows come from the library a page at a time.

    Signals:
        requeried(): the list of papers was replaced (a new search, filter, sort or change).
    """

    requeried = Signal()

    PAGE = 100
    CACHE_SIZE = 400  # at least two pages, so a page being painted is never evicted

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._query = db.Query()
        self._sort = "added"
        self._descending = True
        self._ids: list[int] = []
        self._rows_of: dict[int, int] | None = None
        self._scans = 0  # row_of lookups since the ids changed, answered without the dict
        self._cache: OrderedDict[int, db.Row | None] = OrderedDict()
        self._tag_colors: dict[str, str | None] | None = None
        #: The paper the person is on: an edit that takes it out of the view leaves it
        #: listed (marked) until they move on, as a mail program keeps a read message.
        self._kept: int | None = None
        self._stale: int | None = None  # the kept paper, when it no longer matches
        if events is not None:
            events.changed.connect(self._on_events_changed)
            events.reloaded.connect(self._on_events_reloaded)
        self._ids = self._library.paper_ids(
            self._query, sort=self._sort, descending=self._descending
        )

    # -- what the window asks ------------------------------------------------------------------

    @property
    def query(self) -> db.Query:
        return self._query

    @property
    def sort_key(self) -> str:
        return self._sort

    @property
    def descending(self) -> bool:
        return self._descending

    def set_query(self, query: db.Query) -> bool:
        """Show the papers of ``query``; False (and the old list kept) if it cannot run."""
        return self._requery(query, self._sort, self._descending)

    def set_sort(self, sort_key: str, descending: bool) -> bool:
        return self._requery(self._query, sort_key, descending)

    def refresh(self) -> bool:
        """Run the current query again (papers were added, removed or changed)."""
        return self._requery(self._query, self._sort, self._descending, keep=True)

    def keep(self, paper_id: int | None) -> None:
        """The person is on this paper now. A paper kept before that no longer matches the
        view leaves it."""
        if paper_id == self._kept:
            return
        self._kept = paper_id
        stale, self._stale = self._stale, None
        if stale is not None and stale != paper_id:
            row = self.row_of(stale)
            if row is not None:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._ids[row]
                self._rows_of = None
                self._scans = 0
                self.endRemoveRows()

    def is_stale(self, paper_id: int) -> bool:
        """Whether the paper is listed only because the person is on it."""
        return paper_id == self._stale

    def paper_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, paper_id: int) -> int | None:
        if self._rows_of is None:
            if self._scans < 8:
                # After a reset the selection asks for a row or two: a scan in C costs
                # under a millisecond, the dict of 100,000 rows 20 ms.
                self._scans += 1
                try:
                    return self._ids.index(paper_id)
                except ValueError:
                    return None
            self._rows_of = {pid: i for i, pid in enumerate(self._ids)}
        return self._rows_of.get(paper_id)

    def rows_of(self, paper_ids: Sequence[int]) -> list[int]:
        """The rows of those of these papers that are shown, in the order given."""
        if len(paper_ids) <= 8:
            return [r for r in map(self.row_of, paper_ids) if r is not None]
        if self._rows_of is None:
            self._rows_of = {pid: i for i, pid in enumerate(self._ids)}
        # No Python call per paper: an import selects 100,000 of them.
        return [r for r in map(self._rows_of.get, paper_ids) if r is not None]

    def paper_row(self, row: int) -> db.Row | None:
        """The table row for a model row, from the cache or fetched with its page."""
        pid = self.paper_id(row)
        if pid is None:
            return None
        if pid in self._cache:
            self._cache.move_to_end(pid)
            return self._cache[pid]
        start = row - row % self.PAGE
        page = [i for i in self._ids[start : start + self.PAGE] if i not in self._cache]
        try:
            fetched = self._library.rows(page)
        except db.SQLiteError:
            fetched = {}
        for i in page:
            self._cache[i] = fetched.get(i)  # None: deleted since the query ran
        while len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
        self._cache.move_to_end(pid)
        return self._cache[pid]

    def invalidate(self, paper_ids: set[int]) -> None:
        """Forget cached rows of changed papers and repaint the ones shown."""
        for pid in paper_ids:
            self._cache.pop(pid, None)
        rows = [r for r in (self.row_of(pid) for pid in paper_ids) if r is not None]
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(COLUMNS) - 1))

    def cached_count(self) -> int:
        return len(self._cache)

    # -- Qt's model interface -------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        spec = COLUMNS[Column(section)]
        if role == Qt.ItemDataRole.DisplayRole:
            return spec.header
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Sort by {spec.header.lower()}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return spec.align | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.InitialSortOrderRole:
            # How the header sorts when this column is clicked first (an int: the
            # header reads the role with canConvert<int>).
            first = Qt.SortOrder.DescendingOrder, Qt.SortOrder.AscendingOrder
            return first[0].value if spec.descending_first else first[1].value
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        if not 0 <= index.column() < len(COLUMNS):
            return None
        if role == PAPER_ID_ROLE:
            return self.paper_id(index.row())
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.TextAlignmentRole,
            Qt.ItemDataRole.ForegroundRole,
            Qt.ItemDataRole.FontRole,
            KEY_ROLE,
            TAG_LIST_ROLE,
        ):
            return None
        column = Column(index.column())
        stale = self._stale is not None and self.paper_id(index.row()) == self._stale
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return COLUMNS[column].align | Qt.AlignmentFlag.AlignVCenter
        row = self.paper_row(index.row())
        if row is None:
            return None
        # An entry without a title (a @set, say) shows its key there, in italics.
        keyed = column == Column.TITLE and not row.title
        if role == Qt.ItemDataRole.FontRole:
            return _italic() if stale or keyed else None
        if role == KEY_ROLE:
            return row.key
        if role == TAG_LIST_ROLE:
            return self._tag_list(row.tags)
        if role == Qt.ItemDataRole.ForegroundRole:
            if (
                stale
                or keyed
                or column
                in (
                    Column.YEAR,
                    Column.VENUE,
                    Column.ADDED,
                    Column.STATUS,
                    Column.OPENED,
                )
            ):
                return QApplication.palette().brush(QPalette.ColorRole.PlaceholderText)
            return None
        text = self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if stale:
                return "No longer in this view; it leaves the list when you move on."
            if keyed:
                return f"{row.key} (no title)"
            if column == Column.TITLE:
                return f"{row.title}\n{row.key}"
            return text or None
        return text

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort in SQL (the header was clicked): a new query, never a proxy."""
        if 0 <= column < len(COLUMNS):
            self.set_sort(COLUMNS[Column(column)].sort_key, order == Qt.SortOrder.DescendingOrder)

    # -- inside -----------------------------------------------------------------------------------

    @staticmethod
    def _text(row: db.Row, column: Column) -> str:
        if column == Column.TITLE:
            return row.title or row.key
        if column == Column.KEY:
            return row.key
        if column == Column.AUTHORS:
            return row.authors
        if column == Column.YEAR:
            return str(row.year) if row.year is not None else ""
        if column == Column.VENUE:
            return row.venue
        if column == Column.TAGS:
            return row.tags
        if column == Column.STATUS:
            return db.STATUS_LABELS.get(row.status, row.status)
        if column == Column.RATING:
            return stars(row.rating)
        if column == Column.OPENED:
            return local_date(row.opened) if row.opened else ""
        return local_date(row.added)

    def _tag_list(self, text: str) -> list[tuple[str, str | None]]:
        if not text:
            return []
        if self._tag_colors is None:
            self._tag_colors = {t.name.lower(): t.color for t in self._library.tags()}
        names = [n.strip() for n in text.split(",") if n.strip()]
        return [(n, self._tag_colors.get(n.lower())) for n in names]

    def _requery(
        self, query: db.Query, sort_key: str, descending: bool, keep: bool = False
    ) -> bool:
        """Read the list of papers again. With ``keep`` (a change, not a new view) the
        paper the person is on stays listed where it was even if it no longer matches."""
        try:
            ids = self._library.paper_ids(query, sort=sort_key, descending=descending)
        except Exception as exc:
            if _query_failed(exc):
                return False
            raise
        self._query, self._sort, self._descending = query, sort_key, descending
        self._stale = None
        kept = self._kept
        if keep and kept is not None and kept not in ids:
            old = self.row_of(kept)
            if old is not None and self._library.rows([kept]):  # listed, and not deleted
                ids.insert(min(old, len(ids)), kept)
                self._stale = kept
        if ids == self._ids:
            return True
        self.beginResetModel()
        self._ids = ids
        self._rows_of = None
        self._scans = 0
        self.endResetModel()
        self.requeried.emit()
        return True

    def _may_move(self, changes: db.Changes) -> bool:
        """Whether a change can move papers in or out of the list or along its order."""
        if changes.added or changes.removed:
            return True
        q = self._query
        kinds = {
            "fields": changes.fields,
            "tags": changes.tags,
            "notes": changes.notes,
            "status": changes.status,
            "rating": changes.rating,
        }
        if q.search and (kinds["fields"] or kinds["tags"] or kinds["notes"]):
            return True
        if (
            (q.tag and kinds["tags"])
            or (q.status and kinds["status"])
            or (q.queue and (kinds["status"] or kinds["rating"]))
            or (q.keys and kinds["fields"])
        ):
            return True
        return any(kinds[k] for k in _SORTED_BY.get(self._sort, ("fields",)))

    def _on_events_changed(self, changes: db.Changes) -> None:
        if changes.tag_list:
            self._tag_colors = None  # renamed, recoloured, deleted
        elif changes.tags_made and self._tag_colors is not None:
            self._tag_colors.update((name.lower(), None) for name in changes.tags_made)
        touched = changes.papers | changes.removed
        for ids in (touched, changes.added):
            # The cache holds a few hundred rows; an import may announce 100,000 ids.
            for pid in (
                ids if len(ids) < len(self._cache) else [pid for pid in self._cache if pid in ids]
            ):
                self._cache.pop(pid, None)
        # The query runs over indexes, and the reset is skipped when nothing moved; it is
        # not run at all for a change that cannot move anything (a rating, a note...).
        if self._may_move(changes):
            self.refresh()
        if touched:
            self.invalidate(touched)
        elif changes.tags and self._ids:
            self.dataChanged.emit(
                self.index(0, Column.TAGS), self.index(len(self._ids) - 1, Column.TAGS)
            )

    def _on_events_reloaded(self) -> None:
        self._cache.clear()
        self._tag_colors = None
        if not self.refresh() or not self._ids:
            return
        self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1))


# -- the sidebar ----------------------------------------------------------------------------------


class NodeKind(Enum):
    ALL = "all"
    RECENT = "recent"
    QUEUE = "queue"
    STATUS_GROUP = "status-group"
    STATUS = "status"
    SAVED_GROUP = "saved-group"
    SAVED = "saved"
    TAG_GROUP = "tag-group"
    TAG = "tag"


#: The section headings: not selectable, they hold the entries.
GROUP_KINDS = (NodeKind.STATUS_GROUP, NodeKind.SAVED_GROUP, NodeKind.TAG_GROUP)


@dataclass(frozen=True)
class SidebarFilter:
    """What a sidebar entry narrows the table to; combined with the search text.

    A saved search's filter carries its query (``saved``), so the table shows exactly
    what the search finds, narrowed by any words typed in the search box.
    """

    kind: NodeKind = NodeKind.ALL
    value: str | None = None
    saved: db.Query | None = None

    def query(self, search: str = "") -> db.Query:
        if self.kind == NodeKind.SAVED and self.saved is not None:
            return db.narrowed(self.saved, search)
        if self.kind == NodeKind.QUEUE:
            return db.Query(search=search, queue=True)
        if self.kind == NodeKind.TAG:
            return db.Query(search=search, tag=self.value)
        if self.kind == NodeKind.STATUS:
            return db.Query(search=search, status=self.value)
        if self.kind == NodeKind.RECENT:
            return db.Query(search=search, recent_days=RECENT_DAYS)
        return db.Query(search=search)

    @property
    def label(self) -> str:
        if self.kind == NodeKind.SAVED:
            return f"the saved search {self.value}"
        if self.kind == NodeKind.QUEUE:
            return "the reading queue"
        if self.kind == NodeKind.TAG:
            return f"tag {self.value}"
        if self.kind == NodeKind.STATUS:
            return db.STATUS_LABELS.get(self.value or "", "").lower()
        if self.kind == NodeKind.RECENT:
            return "recently added"
        return "all papers"


@dataclass
class _Node:
    kind: NodeKind
    label: str
    value: str | None = None
    count: int = 0
    color: str | None = None
    saved: db.Query | None = None


_TOP = 0  # internalId of top-level items; a child's is its group's row + 1


def swatch(color: str | None, size: int = 12) -> QIcon:
    """A round colour swatch for a tag (an outline when the tag has no colour)."""
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if color and QColor(color).isValid():
        # A black tag on a dark sidebar gets an edge that shows (as chips do).
        colors = readable_chip_colors(color, QApplication.palette(), QPalette.ColorRole.Base)
        painter.setPen(colors.border if colors.outlined else QColor(color).darker(120))
        painter.setBrush(QColor(color))
    else:
        painter.setPen(QApplication.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawEllipse(2, 2, size - 4, size - 4)
    painter.end()
    return QIcon(pixmap)


#: The rows of the top level: entries, then the headings of the sections below them.
_ALL_ROW, _RECENT_ROW, _QUEUE_ROW, _STATUS_ROW, _SAVED_ROW, _TAG_ROW = range(6)


class SidebarModel(QAbstractItemModel):
    """All papers, Recently added, Reading queue, Reading status, Saved searches and Tags,
    each with a paper count.

    A two-level tree: the section headings are not selectable; their entries filter the
    table. A library change reads again only the counts it touches (``db.Changes``).
    """

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._top = [
            _Node(NodeKind.ALL, "All papers"),
            _Node(NodeKind.RECENT, "Recently added"),
            _Node(NodeKind.QUEUE, "Reading queue"),
            _Node(NodeKind.STATUS_GROUP, "Reading status"),
            _Node(NodeKind.SAVED_GROUP, "Saved searches"),
            _Node(NodeKind.TAG_GROUP, "Tags"),
        ]
        self._statuses = [_Node(NodeKind.STATUS, db.STATUS_LABELS[s], s) for s in db.STATUSES]
        self._saved: list[_Node] = []
        self._tags: list[_Node] = []
        self._icons: dict[str | None, QIcon] = {}
        self._load_counts()
        self._saved = self._read_saved()
        self._tags = self._read_tags()
        if events is not None:
            events.changed.connect(self._on_events_changed)
            events.reloaded.connect(self._on_events_reloaded)

    # -- what the sidebar asks ----------------------------------------------------------------

    def refresh(self) -> None:
        """Read every count again; add or remove tag and saved-search rows as needed."""
        self._load_counts()
        last = len(self._top) - 1
        self.dataChanged.emit(self.index(0, 0), self.index(last, 0))
        status_parent = self.index(_STATUS_ROW, 0)
        self.dataChanged.emit(
            self.index(0, 0, status_parent), self.index(len(self._statuses) - 1, 0, status_parent)
        )
        self._refresh_saved()
        self._refresh_tags()

    def _update_tag_counts(self, deltas: dict[str, int], made: set[str]) -> None:
        """Move the counts of the tags a change touched by what it says each gained or
        lost, and add rows for tags it made (new tags have no colour): nothing is read."""
        tag_parent = self.index(_TAG_ROW, 0)
        rows = {node.label.lower(): row for row, node in enumerate(self._tags)}
        for name in sorted({*deltas, *made}, key=str.lower):
            row = rows.get(name.lower())
            if row is None:
                at = bisect.bisect([t.label.lower() for t in self._tags], name.lower())
                self.beginInsertRows(tag_parent, at, at)
                self._tags.insert(at, _Node(NodeKind.TAG, name, name, deltas.get(name, 0)))
                self.endInsertRows()
                rows = {node.label.lower(): r for r, node in enumerate(self._tags)}
                continue
            self._tags[row].count += deltas.get(name, 0)
            index = self.index(row, 0, tag_parent)
            self.dataChanged.emit(index, index)
        if len(self._tags) != self._top[_TAG_ROW].count:
            self._top[_TAG_ROW].count = len(self._tags)
            self.dataChanged.emit(tag_parent, tag_parent)

    def _refresh_tags(self) -> None:
        """Read the tags again: names, colours and counts; rows come and go as needed."""
        self._tags = self._replace_children(_TAG_ROW, self._tags, self._read_tags())

    def _refresh_saved(self) -> None:
        """Read the saved searches again, and how many papers each finds."""
        self._saved = self._replace_children(_SAVED_ROW, self._saved, self._read_saved())

    def _replace_children(self, top_row: int, old: list[_Node], new: list[_Node]) -> list[_Node]:
        """Put ``new`` in place of a section's rows ``old``: the same rows are updated in
        place, others removed and inserted. Returns ``new``, the section's rows now."""
        parent = self.index(top_row, 0)
        self.dataChanged.emit(parent, parent)  # the heading's count
        if [n.label for n in new] == [n.label for n in old]:
            self._set_children(top_row, new)
            if new:
                self.dataChanged.emit(self.index(0, 0, parent), self.index(len(new) - 1, 0, parent))
            return new
        if old:
            self.beginRemoveRows(parent, 0, len(old) - 1)
            self._set_children(top_row, [])
            self.endRemoveRows()
        if new:
            self.beginInsertRows(parent, 0, len(new) - 1)
            self._set_children(top_row, new)
            self.endInsertRows()
        return new

    def _set_children(self, top_row: int, nodes: list[_Node]) -> None:
        if top_row == _TAG_ROW:
            self._tags = nodes
        elif top_row == _SAVED_ROW:
            self._saved = nodes

    def index_for(self, flt: SidebarFilter) -> QModelIndex:
        """The entry that stands for a filter (invalid if it no longer exists). A saved
        search is found by its name, whatever query the filter carries."""
        if flt.kind == NodeKind.ALL:
            return self.index(_ALL_ROW, 0)
        if flt.kind == NodeKind.RECENT:
            return self.index(_RECENT_ROW, 0)
        if flt.kind == NodeKind.QUEUE:
            return self.index(_QUEUE_ROW, 0)
        if flt.kind == NodeKind.STATUS:
            for i, node in enumerate(self._statuses):
                if node.value == flt.value:
                    return self.index(i, 0, self.index(_STATUS_ROW, 0))
        groups = {NodeKind.TAG: (_TAG_ROW, self._tags), NodeKind.SAVED: (_SAVED_ROW, self._saved)}
        if flt.kind in groups and flt.value is not None:
            top_row, nodes = groups[flt.kind]
            for i, node in enumerate(nodes):
                if node.label.lower() == flt.value.lower():
                    return self.index(i, 0, self.index(top_row, 0))
        return QModelIndex()

    def tag_names(self) -> list[str]:
        return [t.label for t in self._tags]

    def saved_names(self) -> list[str]:
        return [n.label for n in self._saved]

    def saved_group_index(self) -> QModelIndex:
        """The heading of the Saved searches section."""
        return self.index(_SAVED_ROW, 0)

    # -- Qt's model interface ---------------------------------------------------------------------

    def index(self, row: int, column: int, parent: ModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row >= len(self._top):
                return QModelIndex()
            return self.createIndex(row, 0, _TOP)
        if parent.internalId() != _TOP:
            return QModelIndex()
        children = self._children(parent.row())
        if row >= len(children):
            return QModelIndex()
        return self.createIndex(row, 0, parent.row() + 1)

    def parent(self, index: ModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or index.internalId() == _TOP:
            return QModelIndex()
        return self.createIndex(int(index.internalId()) - 1, 0, _TOP)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._top)
        if parent.column() != 0 or parent.internalId() != _TOP:
            return 0
        return len(self._children(parent.row()))

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 1

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        node = self._node(index)
        if node is None:
            return Qt.ItemFlag.NoItemFlags
        if node.kind in GROUP_KINDS:
            return Qt.ItemFlag.ItemIsEnabled
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self._node(index)
        if node is None:
            return None
        heading = node.kind in GROUP_KINDS
        if role == Qt.ItemDataRole.DisplayRole:
            return node.label
        if role == HINT_ROLE:
            if node.kind == NodeKind.TAG_GROUP and not self._tags:
                return NO_TAGS_HINT
            if node.kind == NodeKind.SAVED_GROUP and not self._saved:
                return NO_SAVED_HINT
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if heading:
                return None
            noun = "paper" if node.count == 1 else "papers"
            if node.kind == NodeKind.SAVED and node.saved is not None:
                return f"{node.label}: {node.count} {noun}\n{describe(node.saved)}"
            if node.kind == NodeKind.QUEUE:
                return (
                    f"{node.label}: {node.count} {noun} unread or being read, the best rated "
                    "first, then the oldest added"
                )
            return f"{node.label}: {node.count} {noun}"
        if role == Qt.ItemDataRole.DecorationRole and node.kind == NodeKind.TAG:
            if node.color not in self._icons:
                self._icons[node.color] = swatch(node.color)
            return self._icons[node.color]
        if role == COUNT_ROLE:
            return None if heading else node.count
        if role == KIND_ROLE:
            return node.kind
        if role == FILTER_ROLE:
            return None if heading else SidebarFilter(node.kind, node.value, node.saved)
        return None

    # -- inside -------------------------------------------------------------------------------

    def _children(self, top_row: int) -> list[_Node]:
        if top_row == _STATUS_ROW:
            return self._statuses
        if top_row == _SAVED_ROW:
            return self._saved
        if top_row == _TAG_ROW:
            return self._tags
        return []

    def _node(self, index: ModelIndex) -> _Node | None:
        if not index.isValid():
            return None
        if index.internalId() == _TOP:
            return self._top[index.row()] if index.row() < len(self._top) else None
        children = self._children(int(index.internalId()) - 1)
        return children[index.row()] if index.row() < len(children) else None

    def _load_counts(self) -> None:
        self._top[_ALL_ROW].count = self._library.count(db.Query())
        self._top[_RECENT_ROW].count = self._library.count(db.Query(recent_days=RECENT_DAYS))
        self._load_status_counts()

    def _load_status_counts(self) -> None:
        counts = self._library.status_counts()
        for node in self._statuses:
            node.count = counts.get(node.value or "", 0)
        self._top[_STATUS_ROW].count = sum(counts.values())
        self._top[_QUEUE_ROW].count = sum(counts.get(s, 0) for s in ("unread", "reading"))

    def _read_tags(self) -> list[_Node]:
        nodes = [
            _Node(NodeKind.TAG, t.name, t.name, t.count, t.color) for t in self._library.tags()
        ]
        self._top[_TAG_ROW].count = len(nodes)
        return nodes

    def _read_saved(self) -> list[_Node]:
        nodes = [
            _Node(NodeKind.SAVED, s.name, s.name, self._library.count(s.query), saved=s.query)
            for s in self._library.saved_searches()
        ]
        self._top[_SAVED_ROW].count = len(nodes)
        return nodes

    def _recount_saved(self) -> None:
        """Count again what each saved search finds (its papers may have changed)."""
        if not self._saved:
            return
        for node in self._saved:
            node.count = self._library.count(node.saved)
        parent = self.index(_SAVED_ROW, 0)
        self.dataChanged.emit(self.index(0, 0, parent), self.index(len(self._saved) - 1, 0, parent))

    def _on_events_changed(self, changes: db.Changes) -> None:
        """Read again only the counts a change touches."""
        if changes.added or changes.removed:
            self.refresh()
            return
        if changes.status:
            self._load_status_counts()
            status_parent = self.index(_STATUS_ROW, 0)
            self.dataChanged.emit(self.index(_QUEUE_ROW, 0), status_parent)
            self.dataChanged.emit(
                self.index(0, 0, status_parent),
                self.index(len(self._statuses) - 1, 0, status_parent),
            )
        if changes.tag_list:
            self._refresh_tags()
        elif changes.tag_counts or changes.tags_made:
            self._update_tag_counts(changes.tag_counts, changes.tags_made)
        if db.SAVED_SEARCHES.name in changes.settings:
            self._refresh_saved()
        elif changes.papers or changes.fields or changes.tags or changes.notes or changes.files:
            self._recount_saved()

    def _on_events_reloaded(self) -> None:
        self.refresh()


def describe(query: db.Query) -> str:
    """A saved search in one line, as a person reads it."""
    parts = [f"“{query.search}”"] if query.search else []
    if query.tag:
        parts.append(f"tag {query.tag}")
    if query.status:
        parts.append(db.STATUS_LABELS.get(query.status, query.status).lower())
    return ", ".join(parts) or "all papers"
