"""LaTeX text to Unicode for display, with a lookup table.

pylatexenc over every field costs 37x the parse itself (see NOTES.md); a table of the accent
and symbol commands that occur in bibliographies costs about 1.2x. The stored BibTeX text is
never replaced by this: decoding is only for what the program shows and searches.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from .latexmath import math_to_unicode

_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
    "t": "\u0361",
}

_SYMBOLS = {
    "ss": "ß",
    "SS": "SS",
    "o": "ø",
    "O": "Ø",
    "aa": "å",
    "AA": "Å",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
    "dh": "ð",
    "DH": "Ð",
    "th": "þ",
    "TH": "Þ",
    "ng": "ŋ",
    "NG": "Ŋ",
    "dj": "đ",
    "DJ": "Đ",
    "textendash": "–",
    "textemdash": "—",
    "textquoteright": "’",
    "textquoteleft": "‘",
    "textquotedblleft": "“",
    "textquotedblright": "”",
    "textbackslash": "\\",
    "textbraceleft": "{",
    "textbraceright": "}",
    "textasciitilde": "~",
    "textasciicircum": "^",
    "textdollar": "$",
    "textunderscore": "_",
    "textbar": "|",
    "textless": "<",
    "textgreater": ">",
    "textregistered": "®",
    "texttrademark": "™",
    "textcopyright": "©",
    "copyright": "©",
    "textdegree": "°",
    "textellipsis": "…",
    "ldots": "…",
    "dots": "…",
    "S": "§",
    "P": "¶",
    "pounds": "£",
    "euro": "€",
    "LaTeX": "LaTeX",
    "TeX": "TeX",
    "BibTeX": "BibTeX",
    "guillemotleft": "«",
    "guillemotright": "»",
    "quad": " ",
    "qquad": " ",
    "relax": "",
    "noopsort": "",
    "/": "",
    "-": "",
    # biblatex's hyphens that let the rest of the word hyphenate (``methodology\hyphen
    # independent``): a hyphen to a reader.
    "hyphen": "-",
    "nbhyphen": "-",
    "hyphenate": "-",
    "slash": "/",
    "nobreakspace": "\u00a0",
}

_ESCAPES = {
    "&": "&",
    "%": "%",
    "$": "$",
    "#": "#",
    "_": "_",
    "{": "{",
    "}": "}",
    " ": " ",
    ",": " ",
}

# Formatting commands whose argument is shown as plain text.
_TEXT_COMMANDS = {
    "emph",
    "textit",
    "textbf",
    "textsc",
    "texttt",
    "textrm",
    "textsf",
    "textup",
    "textsl",
    "textnormal",
    "mbox",
    "hbox",
    "text",
    "url",
    "mathrm",
    "mathit",
    "mathbf",
    "uppercase",
    "lowercase",
    "MakeUppercase",
    "MakeLowercase",
    "bibstring",
    "mkbibemph",
    "foreignlanguage",
    "href",
}

#: Commands that quote their argument (biblatex's, csquotes'): “argument”.
_QUOTE_COMMANDS = {"mkbibquote", "enquote"}

_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
#: Text copied as it is: up to the next character that needs work. A lone hyphen needs
#: none (only "--" and "---" are dashes), so it does not end the run.
_PLAIN_RUN = re.compile(r"[^$\\{}~-]+(?:-(?!-)[^$\\{}~-]*)*")
_SPECIAL_TO_NUL = bytes.maketrans(b"$\\{}~-", bytes(6))
#: From this length on an ASCII text's plain runs are found with _SPECIAL_TO_NUL.
_MARKED_MIN_LENGTH = 64


def _read_group(text: str, i: int) -> tuple[str, int]:
    """Return the argument starting at ``i`` (a braced group or one character) and its end."""
    n = len(text)
    while i < n and text[i] == " ":
        i += 1
    if i >= n:
        return "", i
    if text[i] != "{":
        if text[i] == "\\":
            m = _COMMAND.match(text, i)
            if m:
                return m.group(0), m.end()
        return text[i], i + 1
    depth = 0
    j = i
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j], j + 1
        j += 1
    return text[i + 1 :], n


#: How deep accent arguments are decoded (``\\'{\\'{e}}``); deeper ones are shown as written.
#: Bounded because a hostile file may nest 100,000 groups and Python's stack is not.
_MAX_ACCENT_DEPTH = 8


def latex_to_unicode(text: str, _depth: int = 0) -> str:
    """Decode the LaTeX commands found in bibliography fields into Unicode text.

    Math (``$...$``) is kept as written; unknown commands keep their argument text.
    Runs in a loop, never recursing on formatting commands, so any nesting is safe.
    """
    # Most values hold nothing to decode: a few scans at C speed decide it (a regular
    # expression with an alternative is far slower over a long abstract).
    if "\\" in text or "{" in text or "}" in text or "~" in text:
        return _decode(text, _depth)
    if not ("-" in text and "--" in text):
        return text
    if "$" in text:
        return _decode(text, _depth)
    # Dashes only (page ranges): the loop reads "---" before "--", left to right, as
    # these two replacements do.
    return text.replace("---", "—").replace("--", "–")


def display_text(text: str) -> str:
    """:func:`latex_to_unicode` for text a person reads (titles, abstracts): simple math
    (``$O(n^2)$``, ``$\\alpha$``) becomes Unicode as well; math it cannot write so is kept
    as written. Not for keys or names, which fold what is decoded to ASCII."""
    if "$" not in text:
        return latex_to_unicode(text)
    return _decode(text, 0, math=True)


def _decode(text: str, _depth: int, math: bool = False) -> str:
    """latex_to_unicode's loop, for a text that has something to decode (``math``: as
    :func:`display_text`)."""
    out: list[str] = []
    i = 0
    n = len(text)
    in_math = False
    # In a long ASCII text (an abstract) the plain runs are found faster with memchr in a
    # copy whose special characters are all NUL than with _PLAIN_RUN, which spends some 50
    # instructions on each character. (Such a run stops at every hyphen: the same text.)
    marked = (
        text.encode("ascii").translate(_SPECIAL_TO_NUL)
        if n > _MARKED_MIN_LENGTH and text.isascii()
        else None
    )
    while i < n:
        c = text[i]
        if c == "$" and math and not in_math:
            # As in a note's preview: "$x$" opens before and closes after a non-space, and
            # is not followed by a digit ("costs $5 and $10" is no formula).
            end = text.find("$", i + 1)
            shown = None
            if (
                end > i + 1
                and not text[i + 1].isspace()
                and not text[end - 1].isspace()
                and not text[end + 1 : end + 2].isdigit()
            ):
                shown = math_to_unicode(text[i + 1 : end])
            if shown is not None:
                out.append(shown)
                i = end + 1
                continue
        if c == "$":
            in_math = not in_math
            out.append(c)
            i += 1
        elif in_math:
            # Math is kept as written: copy up to the closing dollar at once.
            j = text.find("$", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
        elif c == "\\":
            m = _COMMAND.match(text, i)
            if not m:
                out.append(c)
                i += 1
                continue
            name = m.group(1)
            i = m.end()
            if name in _ACCENTS:
                arg, i = _read_group(text, i)
                if _depth < _MAX_ACCENT_DEPTH:
                    arg = latex_to_unicode(arg, _depth + 1)
                else:
                    arg = arg.replace("{", "").replace("}", "")
                if arg in ("\\i", "ı"):
                    arg = "i"
                elif arg in ("\\j", "ȷ"):
                    arg = "j"
                if arg:
                    out.append(unicodedata.normalize("NFC", arg[0] + _ACCENTS[name]) + arg[1:])
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
                if name.isalpha() and i < n and text[i] == " ":
                    i += 1
                elif i + 1 < n and text[i : i + 2] == "{}":
                    i += 2
            elif name in _ESCAPES:
                out.append(_ESCAPES[name])
            elif name == "\\":
                out.append(" ")
            elif name in _QUOTE_COMMANDS and _depth < _MAX_ACCENT_DEPTH:
                arg, i = _read_group(text, i)
                out.append(f"\u201c{_decode(arg, _depth + 1, math)}\u201d")
            elif name in _TEXT_COMMANDS or name in _QUOTE_COMMANDS:
                # The argument is decoded in place by this loop (its braces are dropped
                # below); recursing here would overflow on deeply nested input.
                if name == "href":
                    _, i = _read_group(text, i)
                elif i < n and text[i] == " ":
                    i += 1
            else:
                # An unknown command: drop the command, keep what follows.
                if name.isalpha() and i < n and text[i] == " ":
                    i += 1
        elif c in "{}":
            i += 1
        elif c == "~":
            out.append("\u00a0")
            i += 1
        elif c == "-" and text.startswith("---", i):
            out.append("—")
            i += 3
        elif c == "-" and text.startswith("--", i):
            out.append("–")
            i += 2
        elif c == "-":
            out.append(c)
            i += 1
        else:
            # Plain text: copy the whole run up to the next character that needs work.
            if marked is None:
                j = _PLAIN_RUN.match(text, i).end()  # type: ignore[union-attr]
            else:
                j = marked.find(0, i + 1)  # text[i] is plain (maybe a NUL itself)
                j = n if j < 0 else j
            out.append(text[i:j])
            i = j
    return "".join(out)


def collapse_space(text: str) -> str:
    """Fold runs of white space (line breaks inside fields) to single spaces."""
    # Already folded (most values)? Every white space character but the space is
    # unprintable, so a few fast scans can tell, instead of a split and a join.
    # isprintable() looks up each character in a table; over a long ASCII text (an
    # abstract) a memchr scan for each of its other white space characters is 8x faster
    # (at about 80 characters the nine scans cost what the lookups do).
    if len(text) > 100 and text.isascii():
        folded = not (
            "\n" in text
            or "\t" in text
            or "\r" in text
            or "\x0b" in text
            or "\x0c" in text
            or "\x1c" in text
            or "\x1d" in text
            or "\x1e" in text
            or "\x1f" in text
        )
    else:
        folded = text.isprintable()
    if folded and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def ascii_fold(text: str) -> str:
    """Strip accents for citation keys and sorting: 'Müller' -> 'Muller', 'ø' -> 'o'."""
    if text.isascii():
        return text  # nothing to fold (the table and NFKD change only non-ASCII)
    folded = text.translate(_FOLD)
    return unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")


_FOLD = str.maketrans(
    {
        "ß": "ss",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "ı": "i",
        "ŋ": "ng",
    }
)


_LATEX_SPECIAL = str.maketrans(
    {
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "\\": r"\textbackslash{}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
)


def escape_user_text(text: str) -> str:
    """Escape what a person typed so it is literal text in LaTeX and cannot end its field."""
    return text.translate(_LATEX_SPECIAL)


_BACKSLASH_BEFORE_NON_ASCII = re.compile(r"(\\+)(?=[^\x00-\x7f])")


def unicode_to_latex(text: str) -> str:
    """Write non-ASCII characters as LaTeX commands (for the ASCII BibTeX dialect).

    Only the non-ASCII characters are touched; existing LaTeX markup stays as it is.
    """
    if text.isascii():
        return text
    # A backslash right before a non-ASCII character would escape the '{' of its command
    # (``\\¡`` -> ``\\{\\textexclamdown}``) and unbalance the value (bibtexparser skips a
    # brace after any backslash, even an escaped one): put a space between.
    text = _BACKSLASH_BEFORE_NON_ASCII.sub(r"\1 ", text)
    from pylatexenc.latexencode import (  # imported lazily: only the ASCII dialect needs it
        RULE_REGEX,
        UnicodeToLatexConversionRule,
        UnicodeToLatexEncoder,
    )

    global _ENCODER
    if _ENCODER is None:
        # Characters without a LaTeX form are kept by policy; its log line per character
        # would only print on the terminal of `citedesk export --dialect bibtex`.
        logging.getLogger("pylatexenc.latexencode").setLevel(logging.ERROR)
        _ENCODER = UnicodeToLatexEncoder(
            conversion_rules=[
                UnicodeToLatexConversionRule(RULE_REGEX, [(re.compile(r"[\x00-\x7f]+"), r"\g<0>")]),
                "defaults",
            ],
            replacement_latex_protection="braces-all",
            unknown_char_policy="keep",
            non_ascii_only=True,
        )
    # pylatexenc has no type hints: say what its encoder returns.
    latex: str = _ENCODER.unicode_to_latex(unicodedata.normalize("NFC", text))
    return latex


_ENCODER: Any = None  # a pylatexenc UnicodeToLatexEncoder, built on first use
