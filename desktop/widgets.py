"""Small widgets of the detail pane: a wrapping flow layout, tag chips and the tag editor,
the rating stars, the error bar, and the few label helpers its parts share.

Each knows nothing of the library: it shows what it is given and says what the person did
through a signal, so the pane decides what to write.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import (
    QAbstractProxyModel,
    QEvent,
    QMargins,
    QModelIndex,
    QObject,
    QPoint,
    QRect,
    QSize,
    QStringListModel,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QDesktopServices, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QSizePolicy,
    QStyle,
    QToolButton,
    QWidget,
)

#: Links from BibTeX data are opened only with these schemes: a ``file:`` or custom-scheme
#: URL in an imported entry must not launch a local program.
OPENABLE_SCHEMES = frozenset({"http", "https"})


def open_link(url: str) -> bool:
    """Open a web link in the browser (never through a shell); refuse other schemes."""
    qurl = QUrl(url.strip())
    if not qurl.isValid() or qurl.scheme().lower() not in OPENABLE_SCHEMES:
        return False
    return QDesktopServices.openUrl(qurl)


def muted(label: QLabel) -> QLabel:
    """Secondary text in the palette's own quieter colour (follows dark themes)."""
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def selectable(label: QLabel, name: str) -> QLabel:
    """Plain text a person can select and copy (a title, an abstract), wrapping."""
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return label


class ErrorBar(QFrame):
    """Why the last edit failed, in place of a dialog; stays until dismissed or the next
    edit works."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size)
        )
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("×")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.error_label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, message: str) -> None:
        self.error_label.setText(message)
        self.show()


class FlowLayout(QLayout):
    """Lays widgets out in rows that wrap, like words (Qt's flow layout example)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _arrange(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row_height = area.x(), area.y(), 0
        for item in self._items:
            if item.widget() is not None and item.widget().isHidden():
                continue
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and row_height > 0:
                x, y = area.x(), y + row_height + self._spacing
                row_height = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y() + m.bottom()


@dataclass(frozen=True)
class ChipColors:
    """How a tag chip is painted: its fill, its text, and its edge."""

    background: QColor
    text: QColor
    border: QColor
    #: The border differs from the fill: the fill alone would not show the chip's edge
    #: against what is behind it (a black tag on a dark window, a white one on a light one).
    outlined: bool = False


#: Below this contrast (WCAG's ratio, 1 to 21) with what is behind it, a chip's edge gets a
#: line of its own. Ordinary tag colours are above it on light and dark palettes alike.
MIN_EDGE_CONTRAST = 2.0


def contrast(a: QColor, b: QColor) -> float:
    """WCAG's contrast ratio of two colours: 1 (the same) to 21 (black on white)."""

    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
        )

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _mix(a: QColor, b: QColor, share_of_a: float) -> QColor:
    t = share_of_a
    return QColor.fromRgbF(
        a.redF() * t + b.redF() * (1 - t),
        a.greenF() * t + b.greenF() * (1 - t),
        a.blueF() * t + b.blueF() * (1 - t),
    )


def readable_chip_colors(
    color: str | None,
    palette: QPalette,
    behind: QPalette.ColorRole = QPalette.ColorRole.Window,
) -> ChipColors:
    """The colours of a chip for a tag of ``color`` (None: no colour) on ``palette``.

    The fill is the tag's colour, the text black or white, whichever reads on it. When the
    fill hardly differs from the ``behind`` colour of the palette (a black tag on a dark
    theme), the edge is drawn in a colour between the palette's text and that background,
    so the chip still shows as a chip. A tag without a colour takes the palette's button
    colours. Every place that paints a tag (chips, the table's chips, the sidebar's
    swatches) should take its colours from here.
    """
    back = palette.color(behind)
    qcolor = QColor(color) if color else QColor()
    if qcolor.isValid():
        fill = QColor(qcolor.name())  # opaque, as a tag's colour is meant
        text = QColor("#000000") if _is_light(fill.name()) else QColor("#ffffff")
        border = fill
    else:
        fill = palette.color(QPalette.ColorRole.Button)
        text = palette.color(QPalette.ColorRole.ButtonText)
        border = palette.color(QPalette.ColorRole.Mid)
    if max(contrast(fill, back), contrast(border, back)) >= MIN_EDGE_CONTRAST:
        return ChipColors(fill, text, border)
    edge = _mix(palette.color(QPalette.ColorRole.WindowText), back, 0.6)
    return ChipColors(fill, text, edge, outlined=True)


class TagChip(QFrame):
    """One tag of the paper, in the tag's colour, with a × that removes it.

    Its colours follow the palette of where it is shown (:func:`readable_chip_colors`):
    they are worked out again when it is put in a widget and when the palette changes.

    Signals:
        remove_clicked(str): the × was clicked; carries the tag name.
    """

    remove_clicked = Signal(str)

    def __init__(self, name: str, color: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tagChip")
        self.setProperty("tag", name)
        self._color = _valid_color(color)
        self._watched: QWidget | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(9, 2, 3, 2)
        layout.setSpacing(2)
        label = QLabel(name)
        label.setObjectName("tagChipLabel")
        remove = QToolButton()
        remove.setObjectName("removeTagButton")
        remove.setText("×")
        remove.setAutoRaise(True)
        remove.setCursor(Qt.CursorShape.PointingHandCursor)
        remove.setToolTip(f"Remove tag “{name}”")
        remove.setAccessibleName(f"Remove tag {name}")
        remove.clicked.connect(lambda: self.remove_clicked.emit(name))
        layout.addWidget(label)
        layout.addWidget(remove)
        self._watch_parent()
        self._apply_colors()

    def colors(self) -> ChipColors:
        """The colours it is painted in, for the palette of the widget it is in."""
        parent = self.parentWidget()
        palette = parent.palette() if parent is not None else QApplication.palette()
        return readable_chip_colors(self._color, palette)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.ParentChange, QEvent.Type.ApplicationPaletteChange):
            self._watch_parent()
            self._apply_colors()
        super().changeEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The chip's own palette is its style sheet's: the palette it sits on is its
        # parent's, so that is the one watched.
        if watched is self._watched and event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()
        return super().eventFilter(watched, event)

    def _watch_parent(self) -> None:
        parent = self.parentWidget()
        if parent is self._watched:
            return
        if self._watched is not None:
            self._watched.removeEventFilter(self)
        self._watched = parent
        if parent is not None:
            parent.installEventFilter(self)

    def _apply_colors(self) -> None:
        style = self._style(self.colors())
        if style != self.styleSheet():  # setting it re-polishes, which may change the palette
            self.setStyleSheet(style)

    @staticmethod
    def _style(colors: ChipColors) -> str:
        background, text, border = (
            c.name() for c in (colors.background, colors.text, colors.border)
        )
        return (
            f"QFrame#tagChip {{ background-color: {background}; border: 1px solid {border};"
            f" border-radius: 10px; }}"
            f" QFrame#tagChip QLabel, QFrame#tagChip QToolButton {{ color: {text};"
            f" background: transparent; border: none; }}"
            f" QFrame#tagChip QToolButton {{ padding: 0 3px; font-weight: bold; }}"
        )


def _valid_color(color: str | None) -> str | None:
    """The tag's colour as ``#rrggbb``, or None when unset or not a colour at all."""
    if not color:
        return None
    qcolor = QColor(color)
    return qcolor.name() if qcolor.isValid() else None


def _is_light(hex_color: str) -> bool:
    """Whether black text reads better than white on this background."""
    c = QColor(hex_color)
    return 0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue() > 150


class TagCompleter(QCompleter):
    """Completes the last of several comma-separated tags in a line edit."""

    def splitPath(self, path: str) -> list[str]:
        return [path.split(",")[-1].strip()]

    def pathFromIndex(self, index: QModelIndex) -> str:
        """The editor's text with its last tag replaced by the tag at ``index``, an index
        of the tag list (``model()``), as QCompleter passes it."""
        return self.with_completion(super().pathFromIndex(index))

    def highlighted_text(self) -> str | None:
        """The editor's text with the tag highlighted in the popup, or None.

        The popup shows the filtered ``completionModel()``: its rows are not the tag
        list's rows, so its index is mapped back before it is read.
        """
        popup = self.popup()
        index = popup.currentIndex() if popup is not None else QModelIndex()
        if not index.isValid():
            return None
        model = self.completionModel()
        if isinstance(model, QAbstractProxyModel) and index.model() is model:
            index = model.mapToSource(index)
        return self.pathFromIndex(index)

    def with_completion(self, completion: str) -> str:
        widget = self.widget()
        text = widget.text() if isinstance(widget, QLineEdit) else ""
        head = text.rsplit(",", 1)[0] + ", " if "," in text else ""
        return head + completion


class TagLineEdit(QLineEdit):
    """A line edit where Enter always submits, taking the highlighted completion if any.

    Signals:
        tags_entered(str): Enter was pressed; carries the text (comma-separated tags).
    """

    tags_entered = Signal(str)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() not in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            super().keyPressEvent(event)
            return
        completer = self.completer()
        popup = completer.popup() if completer is not None else None
        if completer is not None and popup is not None and popup.isVisible():
            if isinstance(completer, TagCompleter):
                text = completer.highlighted_text()
                if text is not None:
                    self.setText(text)
            popup.hide()
        event.accept()
        self.tags_entered.emit(self.text())


def tag_editor(name: str, placeholder: str, owner: QObject) -> tuple[TagLineEdit, QStringListModel]:
    """A line edit for comma-separated tags that completes the last one, case-insensitively
    and anywhere in the name, from the returned list of names (owned by ``owner``)."""
    editor = TagLineEdit()
    editor.setObjectName(name)
    editor.setPlaceholderText(placeholder)
    editor.setClearButtonEnabled(True)
    names = QStringListModel(owner)
    completer = TagCompleter(names, editor)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    editor.setCompleter(completer)
    return editor, names


class RatingSelector(QWidget):
    """Five stars: clicking star n rates n; clicking the current rating clears it.

    Signals:
        rating_chosen(int): the person picked a rating, 0 to 5.
    """

    rating_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ratingSelector")
        self.setAccessibleName("Rating")
        self._rating = 0
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self._stars: list[QToolButton] = []
        for n in range(1, 6):
            star = QToolButton()
            star.setObjectName(f"ratingStar{n}")
            star.setAutoRaise(True)
            star.setCursor(Qt.CursorShape.PointingHandCursor)
            star.setToolTip(f"{n} star{'s' if n > 1 else ''} (click again to clear)")
            star.setAccessibleName(f"{n} star{'s' if n > 1 else ''}")
            font = star.font()
            font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.3)
            star.setFont(font)
            star.clicked.connect(partial(self._on_star_clicked, n))
            layout.addWidget(star)
            self._stars.append(star)
        self.set_rating(0)

    def rating(self) -> int:
        return self._rating

    def set_rating(self, rating: int) -> None:
        """Show a rating (does not emit ``rating_chosen``)."""
        self._rating = rating
        for n, star in enumerate(self._stars, start=1):
            star.setText("★" if n <= rating else "☆")

    def _on_star_clicked(self, n: int) -> None:
        self.rating_chosen.emit(0 if n == self._rating else n)
