"""Citation keys from a pattern such as ``[auth:lower][year][shorttitle]``.

Tokens follow JabRef and Better BibTeX: ``[auth]`` first author's family name, ``[authors2]``
the first two (``EtAl`` after), ``[authors]`` all, ``[year]``, ``[shorttitle]`` the title's
main part when short (``Q-YOLO: Efficient ...`` -> ``qyolo``) else its first three significant
words, ``[veryshorttitle]`` the first significant word, ``[title]`` every significant word.
Modifiers: ``:lower``, ``:upper``, ``:capitalize``. Other text is copied as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .latex import ascii_fold, latex_to_unicode
from .names import Person

DEFAULT_PATTERN = "[auth:lower][year][shorttitle]"

FUNCTION_WORDS = frozenset(
    """a an the and or but nor for so yet of on in at to by from with without into onto upon
    over under about as via vs versus is are be its it this that these those towards toward
    through how what when where which who why do does can we our your their""".split()
)

_TOKEN = re.compile(r"\[([a-zA-Z0-9]+)((?::[a-zA-Z]+)*)\]")
_KEY_SAFE = re.compile(r"[^A-Za-z0-9_\-:.]")


class KeyPatternError(ValueError):
    """A key pattern names a token or modifier Citedesk does not know."""


def _clean(text: str) -> str:
    """ASCII letters and digits only: what is safe in a key from any name or title."""
    return re.sub(r"[^A-Za-z0-9]", "", ascii_fold(latex_to_unicode(text)))


def _words(title: str) -> list[str]:
    text = ascii_fold(latex_to_unicode(title))
    return [w for w in re.split(r"[\s/]+", text) if _clean(w)]


def _significant(words: Iterable[str]) -> list[str]:
    return [w for w in words if _clean(w).lower() not in FUNCTION_WORDS]


def _shorttitle(title: str, n: int = 3) -> str:
    main = title.split(":", 1)[0] if ":" in title else ""
    if main and 0 < len(_words(main)) <= n:
        return "".join(_clean(w) for w in _words(main))
    return "".join(_clean(w) for w in _significant(_words(title))[:n])


def _family(p: Person) -> str:
    return _clean(p.family) if not p.is_others else ""


def _authors(people: list[Person], n: int | None) -> str:
    named = [p for p in people if not p.is_others]
    if n is not None and (len(named) > n or len(named) < len(people)):
        return "".join(_family(p) for p in named[:n]) + "EtAl"
    return "".join(_family(p) for p in named)


_MODIFIERS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "capitalize": lambda s: s[:1].upper() + s[1:],
}


def _check_brackets(pattern: str) -> None:
    """Raise KeyPatternError at the first bracket without its partner, or a pair that holds
    no token (positions count from 1, as a person counts characters)."""
    opened: int | None = None
    for i, ch in enumerate(pattern):
        if ch == "[":
            if opened is not None:
                raise KeyPatternError(f"unclosed [ at position {opened + 1}")
            opened = i
        elif ch == "]":
            if opened is None:
                raise KeyPatternError(f"unmatched ] at position {i + 1}")
            if not _TOKEN.fullmatch(pattern, opened, i + 1):
                inside = pattern[opened : i + 1]
                raise KeyPatternError(f"{inside} at position {opened + 1} is not a token")
            opened = None
    if opened is not None:
        raise KeyPatternError(f"unclosed [ at position {opened + 1}")


def check_pattern(pattern: str) -> None:
    """Raise KeyPatternError naming the first unbalanced bracket, unknown token or modifier."""
    _check_brackets(pattern)
    for m in _TOKEN.finditer(pattern):
        name = m.group(1)
        if not (name in _TOKENS or re.fullmatch(r"authors\d+", name)):
            raise KeyPatternError(f"unknown key pattern token [{name}]")
        for mod in filter(None, m.group(2).split(":")):
            if mod not in _MODIFIERS:
                raise KeyPatternError(f"unknown modifier :{mod} in [{m.group(0)[1:-1]}]")


_TOKENS: dict[str, Callable[[list[Person], str, str], str]] = {
    "auth": lambda people, year, title: _family(people[0]) if people else "",
    "authors": lambda people, year, title: _authors(people, None),
    "year": lambda people, year, title: re.sub(r"\D", "", year)[:4],
    "shorttitle": lambda people, year, title: _shorttitle(title).lower(),
    "veryshorttitle": lambda people, year, title: _shorttitle(title, 1).lower(),
    "title": lambda people, year, title: "".join(
        _clean(w)[:1].upper() + _clean(w)[1:] for w in _significant(_words(title))
    ),
}


def format_key(pattern: str, people: list[Person], year: str, title: str) -> str:
    """The key a pattern gives for these values, before uniqueness suffixes."""
    check_pattern(pattern)

    def token(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _TOKENS:
            value = _TOKENS[name](people, year, title)
        else:
            value = _authors(people, int(name[len("authors") :]))
        for mod in filter(None, m.group(2).split(":")):
            value = _MODIFIERS[mod](value)
        return value

    key = _KEY_SAFE.sub("", _TOKEN.sub(token, pattern))
    return key or "paper"


def unique_key(base: str, taken: Callable[[str], bool]) -> str:
    """``base``, or ``base`` + a, b, ... z, aa, ab ... : the first that is not taken."""
    if not taken(base):
        return base
    n = 0
    while True:
        suffix, k = "", n
        while True:
            suffix = chr(ord("a") + k % 26) + suffix
            k = k // 26 - 1
            if k < 0:
                break
        if not taken(base + suffix):
            return base + suffix
        n += 1
