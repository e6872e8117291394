"""TeX math in a note's preview: ``$…$`` and ``$$…$$`` drawn as images, offline.

Formulas are drawn by matplotlib's mathtext (a TeX math layout engine with its own fonts:
no TeX installation, no network, no JavaScript). Markdown never sees a formula: each is
swapped for a placeholder before Qt's Markdown reader runs (which would eat ``\\|`` and
``_``) and the placeholder is then replaced by the image in the preview's document. A
formula mathtext cannot draw is shown as its TeX source, in a monospace font.

Drawing one formula costs 1-3 ms once fonts are loaded; images are cached by formula, size
and colour, so retyping a note only draws the formula being typed. Importing matplotlib
takes about 0.6 s: :func:`warm_up` does it in a thread before the first formula is needed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QImage,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextImageFormat,
)

log = logging.getLogger(__name__)

#: Formulas are drawn this much larger than the text's pixel size: TeX's fonts are small
#: for their size next to the sans-serif text around them. Display formulas larger still.
INLINE_SCALE = 1.15
DISPLAY_SCALE = 1.35

#: Common LaTeX spellings mathtext does not know, and what it knows them as. Only what is
#: drawn changes: the note keeps its TeX as typed. Commands that only number or size
#: things (\label, \tag, \big) are dropped.
_SYNONYMS = {
    "le": r"\leq",
    "ge": r"\geq",
    "gets": r"\leftarrow",
    "iff": r"\Leftrightarrow",
    "implies": r"\Rightarrow",
    "impliedby": r"\Leftarrow",
    "land": r"\wedge",
    "lor": r"\vee",
    "lnot": r"\neg",
    "lVert": r"\Vert",
    "rVert": r"\Vert",
    "lvert": r"\vert",
    "rvert": r"\vert",
    "bm": r"\boldsymbol",
    "tfrac": r"\frac",
    "mathds": r"\mathbb",
    "coloneqq": ":=",
    "displaystyle": "",
    "textstyle": "",
    "nonumber": "",
    "notag": "",
    "big": "",
    "Big": "",
    "bigg": "",
    "Bigg": "",
}
_SYNONYM = re.compile(r"\\(" + "|".join(_SYNONYMS) + r")(?![A-Za-z])")
_FRAC = re.compile(r"\\frac(?![A-Za-z])")
_DROPPED = re.compile(r"\\(?:label|tag)\*?\{[^{}]*\}|(?<=\\operatorname)\*")


def mathtext_tex(tex: str, display: bool = False) -> str:
    """``tex`` as mathtext can read it (see ``_SYNONYMS``); a displayed formula's fractions
    full size, as LaTeX sets them (mathtext has no display style of its own)."""
    tex = _DROPPED.sub("", tex)
    if display:
        tex = _FRAC.sub(r"\\dfrac", tex)
    return _SYNONYM.sub(lambda m: _SYNONYMS[m.group(1)], tex)


#: TeX fonts the formulas are set in (mathtext's Computer Modern, as LaTeX prints them).
MATH_FONTS = "cm"

_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters: Markdown leaves them alone
_PLACEHOLDER = QRegularExpression(f"{_OPEN}(\\d+){_CLOSE}")

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
# $$…$$ anywhere; $…$ opening before a non-space and closing after one, not before a digit
# (so "$5 and $10" stays text), never across a blank line. A backslash escapes a dollar.
_MATH = re.compile(
    r"(?<!\\)\$\$(?P<display>.+?)(?<!\\)\$\$"
    r"|(?<![\\$])\$(?![\s$])(?P<inline>(?:\\.|[^\\$])+?)(?<![\s\\])\$(?!\d)",
    re.DOTALL,
)


@dataclass(frozen=True)
class MathSpan:
    """A formula in a note: where it is in the text, its TeX, and whether it is displayed."""

    start: int
    end: int
    tex: str
    display: bool

    @property
    def source(self) -> str:
        fence = "$$" if self.display else "$"
        return f"{fence}{self.tex}{fence}"


def _code_ranges(text: str) -> list[tuple[int, int]]:
    """Fenced code blocks and inline code spans: dollars there are code, not math."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    while (fence := _FENCE.search(text, pos)) is not None:
        marker = fence.group(1)
        closing = re.compile(rf"^ {{0,3}}{marker[0]}{{{len(marker)},}}\s*$", re.MULTILINE)
        line_end = text.find("\n", fence.end())
        close = closing.search(text, line_end + 1) if line_end >= 0 else None
        end = close.end() if close is not None else len(text)
        ranges.append((fence.start(), end))
        pos = max(end, fence.end())
    rest = 0
    spans: list[tuple[int, int]] = []
    for start, end in [*ranges, (len(text), len(text))]:
        for m in _CODE_SPAN.finditer(text, rest, start):
            spans.append((m.start(), m.end()))
        rest = end
    return sorted(ranges + spans)


def find_math(text: str) -> list[MathSpan]:
    """The formulas of a Markdown text, outside code, in order."""
    code = _code_ranges(text)
    found: list[MathSpan] = []
    pos = 0
    while (m := _MATH.search(text, pos)) is not None:
        inside = next((end for start, end in code if start <= m.start() < end), None)
        if inside is not None:
            pos = inside
            continue
        if any(m.start() < start < m.end() for start, _ in code):
            pos = m.start() + 1  # it would end inside code: not a formula
            continue
        display = m.group("display") is not None
        tex = m.group("display") if display else m.group("inline")
        if display or "\n\n" not in tex:
            found.append(MathSpan(m.start(), m.end(), tex, display))
            pos = m.end()
        else:
            pos = m.start() + 1
    return found


# -- drawing ----------------------------------------------------------------------------------

_import_lock = threading.Lock()
_mathtext: Any = None  # matplotlib's modules once imported; False if they cannot be
_warming = False  # warm_up() has started the import


def _modules() -> Any:
    """matplotlib's mathtext, imported on first use (False when it is not installed)."""
    global _mathtext
    with _import_lock:
        if _mathtext is None:
            try:
                import numpy
                from matplotlib.font_manager import FontProperties
                from matplotlib.mathtext import MathTextParser
            except ImportError:  # an installation without it still shows every note
                log.warning("matplotlib is not installed: formulas are shown as TeX")
                _mathtext = False
            else:
                _mathtext = (numpy, FontProperties, MathTextParser)
    return _mathtext


def warm_up() -> None:
    """Import matplotlib in a thread now, so the first formula shown does not wait for it."""
    global _warming
    if _mathtext is None and not _warming:
        _warming = True
        threading.Thread(target=_modules, name="citedesk-math-import", daemon=True).start()


class MathRenderer:
    """Draws formulas into images, remembering the last ``cache_size`` it drew (and the
    ones it could not draw, as None)."""

    def __init__(self, cache_size: int = 512) -> None:
        self._cache: OrderedDict[tuple[str, bool, int, int, float], QImage | None] = OrderedDict()
        self._cache_size = cache_size
        self._parser: Any = None

    def image(
        self, tex: str, display: bool, pixel_size: int, color: QColor, dpr: float
    ) -> QImage | None:
        """The formula drawn for a font of ``pixel_size`` logical pixels in ``color`` on a
        screen of device pixel ratio ``dpr``; None when mathtext cannot read it."""
        key = (tex, display, pixel_size, color.rgba(), dpr)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        image = self._draw(tex, display, pixel_size, color, dpr)
        self._cache[key] = image
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return image

    def _draw(
        self, tex: str, display: bool, pixel_size: int, color: QColor, dpr: float
    ) -> QImage | None:
        modules = _modules()
        if not modules or not tex.strip():
            return None
        numpy, font_properties, parser_class = modules
        if self._parser is None:
            self._parser = parser_class("agg")
        size = pixel_size * (DISPLAY_SCALE if display else INLINE_SCALE)
        prop = font_properties(size=size, math_fontfamily=MATH_FONTS)
        try:
            # At 72 dpi a point is a pixel: the formula matches the text's pixel size.
            parsed = self._parser.parse(f"${mathtext_tex(tex, display)}$", dpi=72 * dpr, prop=prop)
        except ValueError:  # mathtext's word for TeX it cannot read
            return None
        alpha = numpy.ascontiguousarray(parsed.image, dtype=numpy.uint8)
        height, width = alpha.shape
        if not width or not height:
            return None
        rgba = numpy.empty((height, width, 4), dtype=numpy.uint8)
        rgba[..., 0], rgba[..., 1], rgba[..., 2] = color.red(), color.green(), color.blue()
        rgba[..., 3] = alpha
        image = QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()
        image.setDevicePixelRatio(dpr)
        return image


def _placeholders(text: str, spans: list[MathSpan]) -> str:
    parts: list[str] = []
    last = 0
    for i, span in enumerate(spans):
        parts.append(text[last : span.start])
        parts.append(f"{_OPEN}{i}{_CLOSE}")
        last = span.end
    parts.append(text[last:])
    return "".join(parts)


def _placeholder_cursors(document: QTextDocument) -> Iterator[tuple[QTextCursor, int]]:
    cursor = QTextCursor(document)
    while True:
        cursor = document.find(_PLACEHOLDER, cursor)
        if cursor.isNull():
            return
        yield cursor, int(cursor.selectedText()[1:-1])


def set_markdown_with_math(
    document: QTextDocument,
    text: str,
    renderer: MathRenderer,
    pixel_size: int,
    color: QColor,
    dpr: float = 1.0,
) -> None:
    """Fill ``document`` with the Markdown ``text``, its formulas drawn (or shown as TeX)."""
    spans = find_math(text)
    if not spans:
        document.setMarkdown(text)
        return
    document.setMarkdown(_placeholders(text, spans))
    mono = QTextCharFormat()
    mono.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    for cursor, index in list(_placeholder_cursors(document)):
        if index >= len(spans):
            continue
        span = spans[index]
        alone = cursor.block().text().strip() == cursor.selectedText()
        if span.display and alone:
            block = cursor.blockFormat()
            block.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            cursor.setBlockFormat(block)
        image = renderer.image(span.tex, span.display, pixel_size, color, dpr)
        if image is None:
            cursor.insertText(span.source, mono)
            continue
        key = (span.tex, span.display, pixel_size, color.rgba(), dpr)
        name = f"citedesk-math:{abs(hash(key))}"
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
        fmt = QTextImageFormat()
        fmt.setName(name)
        fmt.setWidth(image.width() / dpr)
        fmt.setHeight(image.height() / dpr)
        fmt.setVerticalAlignment(QTextCharFormat.VerticalAlignment.AlignMiddle)
        fmt.setToolTip(span.source)
        cursor.insertImage(fmt)
