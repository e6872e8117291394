"""Person names in BibTeX: the ``and``-separated list, name parts, ``and others``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar, overload

from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)

from .bibvalue import braced_end
from .latex import collapse_space, latex_to_unicode

_T = TypeVar("_T")


class _computed_once(Generic[_T]):  # noqa: N801 - used as a decorator, like a property
    """functools.cached_property without its lock.

    Python 3.11's takes an RLock on every first read; an import reads three of them for
    each new name. Computing a value twice in two threads is harmless here (it is pure).
    Stored in the instance's ``__dict__``, so later reads find it there directly.
    """

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _computed_once[_T]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> _T: ...

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.func(obj)
        return value


@dataclass(frozen=True)
class Person:
    """One name, parts as written in LaTeX (decoded forms are properties)."""

    family: str
    given: str = ""
    prefix: str = ""  # "von", "van der"
    suffix: str = ""  # "Jr."

    @_computed_once
    def is_others(self) -> bool:
        return self.family == "others" and not self.given

    # Decoded forms are cached on the (immutable) object: parse_names hands out one object per
    # distinct name, and a large import shows the same authors thousands of times.
    @_computed_once
    def display_family(self) -> str:
        prefix, family = self.prefix, self.family
        return _shown(f"{prefix} {family}" if prefix and family else prefix or family)

    @_computed_once
    def display_given(self) -> str:
        return _shown(self.given)

    @_computed_once
    def display(self) -> str:
        """'Given von Family, Jr.' in Unicode, as a reader writes it."""
        if self.is_others:
            return "others"
        given, family = self.display_given, self.display_family
        name = f"{given} {family}" if given and family else given or family
        if self.suffix:
            name += ", " + latex_to_unicode(self.suffix)
        return name

    def bibtex(self) -> str:
        """The name in BibTeX's 'von Last, Jr, First' form, which every style reads right."""
        if self.is_others:
            return "others"
        last = " ".join(p for p in (self.prefix, self.family) if p)
        if self.suffix:
            return f"{last}, {self.suffix}, {self.given}"
        if self.given:
            return f"{last}, {self.given}"
        return last


def _shown(text: str) -> str:
    """A name part in Unicode; as written when it decodes to nothing.

    A part that is a command alone (``\\Thanh``, a macro defined in the document) decodes to
    nothing, and a person with no name shows nowhere: its text is more use to a reader.
    """
    shown = collapse_space(latex_to_unicode(text))
    return shown if shown or not text else collapse_space(text)


def parse_names(text: str) -> list[Person]:
    """Split a BibTeX name list (``A and B and others``) into people, in order."""
    if len(text) <= _CACHED_LIST_LENGTH:
        return list(_parse_name_list(text))
    return [p for p in map(_parse_name, _split_names(text)) if p is not None]


#: Lists up to this long are cached: a proceedings' editors or a group's authors recur
#: verbatim. (Not the 3,000 authors of a physics paper: the cache would keep them all.)
_CACHED_LIST_LENGTH = 1000


@lru_cache(maxsize=4096)
def _parse_name_list(text: str) -> tuple[Person, ...]:
    return tuple([p for p in map(_parse_name, _split_names(text)) if p is not None])


#: " and " between names, as bibtexparser finds it outside braces (its white space only).
_AND = re.compile(r"[ \r\n\t]+[aA][nN][dD][ \r\n\t]+")

#: bibtexparser's name loops take the character after a backslash as escaped, a brace too;
#: BibTeX counts every brace (``{Te\\{v}zak}`` is one group). While they read a name, such a
#: backslash is this noncharacter (which no text holds), a plain character to them.
_BACKSLASH = "\ufdd0"
#: The backslash that escapes a brace to bibtexparser: the last of an odd run before it.
_BRACE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\(?=[{}])")


def _brace_escapes(text: str) -> str | None:
    """``text`` with each backslash before a brace as _BACKSLASH; None when there is none."""
    if not ("\\{" in text or "\\}" in text) or _BACKSLASH in text:
        return None
    return _BRACE_ESCAPE.sub(r"\1" + _BACKSLASH, text)


def _bibtexparser_split(text: str) -> list[str]:
    """split_multiple_persons_names, counting braces as BibTeX does."""
    marked = _brace_escapes(text)
    if marked is None:
        return split_multiple_persons_names(text)
    return [name.replace(_BACKSLASH, "\\") for name in split_multiple_persons_names(marked)]


def _bibtexparser_parts(name: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """parse_single_name_into_parts (not strict) as first, von, last and jr words, counting
    braces as BibTeX does."""
    marked = _brace_escapes(name)
    parts = parse_single_name_into_parts(name if marked is None else marked, strict=False)
    found = parts.first, parts.von, parts.last, parts.jr
    if marked is None:
        return found
    first, von, last, jr = ([w.replace(_BACKSLASH, "\\") for w in words] for words in found)
    return first, von, last, jr


def _split_names(text: str) -> list[str]:
    """bibtexparser's split_multiple_persons_names (braces counted as BibTeX counts them, see
    :func:`_bibtexparser_split`), with a fast path for the usual lists.

    Without braces or backslashes its character loop splits exactly where this regular
    expression does (tests/db/test_import_engine.py compares them); that loop is a tenth
    of an import's time otherwise. With braced groups (``Lef{\\`e}vre``) it splits where
    the expression does outside them (see :func:`_groups`).
    """
    if "{" in text or "}" in text or "\\" in text:
        text = text.strip(" \r\n\t")
        if not text:
            return []
        groups = _groups(text)
        if groups is None:
            return _bibtexparser_split(text)
        names = []
        start = 0
        g = 0
        for k, end in _and_spans(text):
            while g < len(groups) and groups[g][1] <= k:
                g += 1
            if g < len(groups) and groups[g][0] <= k:
                continue  # " and " inside a group: part of a name
            names.append(text[start:k])
            start = end
        names.append(text[start:])
        return names
    text = text.strip(" \r\n\t")
    if not text:
        return []
    names = []
    start = 0
    for k, end in _and_spans(text):
        names.append(text[start:k])
        start = end
    names.append(text[start:])
    return names


def _and_spans(text: str) -> list[tuple[int, int]]:
    """Where _AND matches in ``text``, from left to right.

    In a list with single spaces only (as derive passes them, white space folded) a match
    is " and " in any case, found in the lower-cased text with str.find: much faster than
    the regular expression. (No character but A lower-cases to a, N to n, D to d or
    anything to a space; U+0130 alone changes length, and then the expression is used.)
    """
    if not ("\t" in text or "\n" in text or "\r" in text or "  " in text):
        low = text.lower()
        if len(low) == len(text):
            spans = []
            k = low.find(" and ")
            while k >= 0:
                spans.append((k, k + 5))
                k = low.find(" and ", k + 5)
            return spans
    return [m.span() for m in _AND.finditer(text)]


#: The loop may be part way through " and " here: an escape after this changes its count.
_AND_BEGUN = re.compile(r"[ \r\n\t][aA](?:[nN][dD]?)?\Z")


def _groups(text: str) -> list[tuple[int, int]] | None:
    """The (start, end) of each top-level braced group in a name list, in order.

    bibtexparser's loop looks for nothing inside a group, and to it a group is like any
    other character but a space or a letter of "and": it ends any " and " begun or
    starts the next name after one. A match of _AND cannot cross a brace, so the loop
    splits at the matches outside groups. An escape outside a group (``M\\"uller``) is
    skipped by the loop without changing what it looks for, which is what other
    characters do only when it looks for nothing: after a character that cannot start
    " and ", and before one that is no space. A stray ``}`` after a space may differ too
    (it does not start a name after " and "). In those cases None: the caller asks the
    loop itself. A backslash before a brace escapes nothing (BibTeX counts the brace): it
    is a plain character. Marks are found with str.find (memchr), not a regular expression.
    """
    n = len(text)
    groups: list[tuple[int, int]] = []
    depth = 0
    start = 0
    o = text.find("{")
    c = text.find("}")
    b = text.find("\\")
    o = n if o < 0 else o
    c = n if c < 0 else c
    b = n if b < 0 else b
    while True:
        if b < o and b < c:
            k = b
            if text[k + 1 : k + 2] in ("{", "}"):
                b = text.find("\\", k + 1)  # a plain character before a brace that counts
                b = n if b < 0 else b
                continue
            if depth == 0:
                if k > 0 and (
                    text[k - 1] in " \r\n\t" or _AND_BEGUN.search(text, max(0, k - 4), k)
                ):
                    return None
                if text[k + 1 : k + 2] in (" ", "\r", "\n", "\t"):
                    return None
            k += 2  # the character after a backslash is skipped
            b = text.find("\\", k)
            b = n if b < 0 else b
            if o < k:
                o = text.find("{", k)
                o = n if o < 0 else o
            if c < k:
                c = text.find("}", k)
                c = n if c < 0 else c
        elif o < c:
            if depth == 0:
                start = o
            depth += 1
            o = text.find("{", o + 1)
            o = n if o < 0 else o
        elif c < n:
            if depth:
                depth -= 1
                if depth == 0:
                    groups.append((start, c + 1))
            elif c > 0 and text[c - 1] in " \r\n\t":
                return None  # a "}" closing nothing, after a space
            c = text.find("}", c + 1)
            c = n if c < 0 else c
        else:
            break
    if depth:
        groups.append((start, n))
    return groups


@lru_cache(maxsize=1 << 16)
def _parse_name(raw: str) -> Person | None:
    """One name as split from a list (None if only white space); cached, since the same
    people recur all over a bibliography. The Person is immutable, so sharing it is safe."""
    raw = collapse_space(raw)
    if not raw:
        return None
    if not ("\\" in raw or "{" in raw or "}" in raw):
        first, von, last, jr = _plain_name_parts(raw)
        person = Person(
            family=" ".join(last), given=" ".join(first), prefix=" ".join(von), suffix=" ".join(jr)
        )
        if "-" not in raw:
            # Nothing to decode ("--" is a dash) and no white space but the spaces that
            # join the words: the decoded forms are the parts as they are. Filled in now,
            # as Person would compute them, since an import shows them all at once.
            prefix, family = person.prefix, person.family
            person.__dict__["display_family"] = (
                f"{prefix} {family}" if prefix and family else prefix or family
            )
            person.__dict__["display_given"] = person.given
        return person
    if _simple_braces(raw):
        # Braced groups that hold no space or comma are parts of words, which then are
        # where they are without braces; a word's case is its first letter's when it
        # starts with one (bibtexparser reads braces and escapes for the case otherwise).
        first, von, last, jr = _plain_name_parts(raw)
        if all(
            w[0].isalpha() for part in (first, von, last, jr) for w in part if "{" in w or "\\" in w
        ):
            return Person(
                family=" ".join(last),
                given=" ".join(first),
                prefix=" ".join(von),
                suffix=" ".join(jr),
            )
    try:
        first, von, last, jr = _bibtexparser_parts(raw)
    except (InvalidNameError, IndexError, ValueError):
        return Person(family=raw)
    return Person(
        family=" ".join(last), given=" ".join(first), prefix=" ".join(von), suffix=" ".join(jr)
    )


#: What separates the words of a name: white space and "~"; in its third comma-separated
#: part also the commas after the second (bibtexparser keeps at most three parts).
_WORD_GAP = re.compile(r"[ ~\r\n\t]+")
_WORD_GAP_OR_COMMA = re.compile(r"[ ~\r\n\t,]+")


def _case(word: str) -> int:
    """1 when the first letter of ``word`` is upper case, 0 when lower, -1 with none."""
    for ch in word:
        if ch.isalpha():
            return 1 if ch.isupper() else 0
    return -1


def _simple_braces(name: str) -> bool:
    """True when every brace in ``name`` belongs to a closed group holding no white space,
    "~" or comma, and every backslash is inside one (``Kov{\\'a}cs``, not ``M\\"uller``)."""
    prev = 0
    i = name.find("{")
    while i >= 0:
        between = name[prev:i]
        if "\\" in between or "}" in between:
            return False
        end = braced_end(name, i)
        if end < 0:
            return False
        group = name[i : end + 1]
        if (
            " " in group
            or "~" in group
            or "," in group
            or "\t" in group
            or "\n" in group
            or "\r" in group
        ):
            return False
        prev = end + 1
        i = name.find("{", prev)
    rest = name[prev:]
    return not ("\\" in rest or "}" in rest)


def _plain_name_parts(name: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """First, von, last and jr words of a name without braces or backslashes (or with
    only those :func:`_simple_braces` allows, which are parts of words).

    bibtexparser's parse_single_name_into_parts (strict=False) walks a name character by
    character, for the sake of braces and escapes; without them its words are what lies
    between white space and commas, and this gives the same parts (tests/db/test_names.py
    compares them) at a fifth of the cost. Its rules for sorting words into parts follow.
    """
    pieces = name.split(",", 2)
    if "~" not in name and name.isprintable():
        # No "~" and no white space but the space (every other one is unprintable): the
        # words are what str.split() finds, faster than a regular expression.
        sections = [piece.split() for piece in pieces]
        if len(pieces) == 3:
            sections[2] = pieces[2].replace(",", " ").split()
    else:
        sections = [
            [w for w in (_WORD_GAP_OR_COMMA if k == 2 else _WORD_GAP).split(piece) if w]
            for k, piece in enumerate(pieces)
        ]
    if not sections[-1]:
        sections.pop()  # a trailing comma
    first: list[str] = []
    von: list[str] = []
    last: list[str] = []
    jr: list[str] = []
    if not any(sections):
        return first, von, last, jr
    words = sections[0]
    if len(sections) == 1:
        # "First von Last": first is the longest run of words from the start that are not
        # lower case and not all of them; von runs to the last lower-case word but one.
        if len(words) == 1:
            last = words
        elif len(words) == 2:
            first, last = words[:1], words[1:]
        else:
            cases = [_case(w) for w in words]
            if 0 in cases:
                firstl = cases.index(0) - len(cases)
                lastl = -cases[::-1].index(0) - 1
                if lastl == -1:
                    lastl -= 1  # last cannot be empty
                first, von, last = words[:firstl], words[firstl : lastl + 1], words[lastl + 1 :]
            else:
                first, last = words[:-1], words[-1:]
    else:
        # "von Last, First" or "von Last, Jr, First".
        first = sections[-1]
        if len(sections) == 3:
            jr = sections[1]
        if len(words) == 1:
            last = words
        else:
            cases = [_case(w) for w in words]
            if 0 in cases:
                split = 0
                for i in range(len(cases) - 2, -1, -1):
                    if cases[i] == 0:
                        split = i + 1
                        break
                von, last = words[:split], words[split:]
            else:
                last = words
    return first, von, last, jr


def short_authors(families: list[str], others: bool = False) -> str:
    """The authors in short, as a creator summary reads (APA, Zotero): 'Wang', 'Wang & E',
    'Wang et al.' (three or more, or 'and others'). Names joined by commas read as one
    person's 'Family, Given' ('Wang, E'), so two are joined by '&' and more are cut."""
    if not families:
        return ""
    if len(families) == 1 and not others:
        return families[0]
    if len(families) == 2 and not others:
        return f"{families[0]} & {families[1]}"
    return f"{families[0]} et al."
