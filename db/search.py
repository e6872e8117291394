"""From what a person types in the search box to SQL over the FTS5 index.

Syntax: words (prefix-matched as you type), ``"exact phrase"``, ``-word`` to exclude,
``author:wang``, ``title:sgd``, ``abstract:conv``, ``venue:icml``, ``tag:theory``,
``year:2023``, ``year:2022..2024`` (either end may be left open), ``doi:10.1/x``. A DOI
typed as it is (``10.1/x``, ``https://doi.org/10.1/x``) finds its paper as well as the
words it holds; a term typed alone finds the paper with that citation key or old key
(exact, any case) as well as its full-text matches. Words also find the text of attached
PDFs (``fulltext:word`` finds only that). A word of one or two
letters matches the start of words in every field but the abstract, and whole words in
abstracts; from three letters on it matches the start of abstract words too. User text
reaches FTS5 only as quoted strings, so no input can make a query fail; what cannot be
understood becomes a hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FIELD_COLUMNS = {
    "author": "authors",
    "authors": "authors",
    "title": "title",
    "abstract": "abstract",
    "venue": "venue",
    "journal": "venue",
    "keyword": "keywords",
    "keywords": "keywords",
    "note": "notes",
    "notes": "notes",
    "fulltext": "fulltext",
    "pdf": "fulltext",
}
_TOKEN = re.compile(r'(-?)(?:([A-Za-z]+):)?(?:"([^"]*)"?|(\S+))')
_WORD = re.compile(r"\w", re.UNICODE)
_TOKENS = re.compile(r"[^\W_]+")  # words as the unicode61 tokenizer cuts them (near enough)
_YEAR = re.compile(r"^(\d{4})?(?:(\.\.)(\d{4})?)?$")
#: A DOI as people paste it: bare, ``doi:``, or a doi.org link.
_DOI = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)?(10\.\d+/\S+)$", re.IGNORECASE)
#: The paper with this citation key, or that had it (``?``: the key, twice).
KEY_CONDITION = (
    "p.key = ? COLLATE NOCASE OR p.id IN (SELECT paper_id FROM key_aliases WHERE alias = ?)"
)
#: The paper with this DOI (the ``papers_doi`` index compares without case).
DOI_CONDITION = "p.doi = ? COLLATE NOCASE"
MAX_QUERY_CHARS = 1000
MAX_TERMS = 32


#: The search indexes: abstracts have their own, without prefix indexes (schema.py, 3).
SEARCH_TABLES = ("papers_fts", "papers_abstract")
#: How a word's condition starts in ``ParsedQuery.where`` (library.py adds a ``+``).
WORD_CONDITION = "p.id IN (SELECT rowid FROM papers_"
#: The papers whose attached files' text matches ``?`` (schema.py, 5: a page's rowid is
#: its document's id * 2**20 + its page number).
FULLTEXT_SQL = (
    "SELECT a.paper_id FROM attachments a JOIN documents d ON d.hash = a.hash "
    "WHERE d.id IN (SELECT rowid >> 20 FROM pages_fts WHERE pages_fts MATCH ?)"
)
#: A word needs this many letters before it matches the start of words in attached files'
#: text (shorter ones match whole words there): the pages of 1,000 PDFs hold ten times the
#: words of 100,000 abstracts, and "con*" over them cost a keystroke 12 ms more.
FULLTEXT_PREFIX_MIN = 4
#: A word needs this many letters before it matches the start of abstract words too.
ABSTRACT_PREFIX_MIN = 3


@dataclass
class ParsedQuery:
    """A query as SQL: a WHERE fragment over ``papers p`` and its parameters.

    ``words`` are the words (and phrases) to find, each as its FTS5 expression for
    papers_fts and for papers_abstract (None where it does not search that index); a paper
    must match each word in one index or the other. ``exclude`` is the same for words
    after ``-``. ``words_only`` says nothing else was asked (no year:, tag: or key:).
    """

    where: str = "1"
    params: list[object] = field(default_factory=list)
    hint: str | None = None
    empty: bool = True
    words: list[tuple[str | None, str | None]] = field(default_factory=list)
    exclude: tuple[str | None, str | None] | None = None
    words_only: bool = False
    #: For each of ``words``: None, or a condition over ``papers p`` (and its parameters)
    #: that also satisfies it (a citation key or a DOI typed as it is).
    alternatives: list[tuple[str, list[object]] | None] = field(default_factory=list)
    #: For each of ``words``: its MATCH expression over the pages of attached files, or None
    #: (a word asked of one field). A word with ``(None, None)`` in ``words`` is asked of the
    #: full text only (``fulltext:``).
    fulltext: list[str | None] = field(default_factory=list)

    @property
    def has_fulltext(self) -> bool:
        return any(expr is not None for expr in self.fulltext)

    def matches(self) -> list[tuple[str, str]]:
        """Every (index, MATCH expression) the query runs."""
        pairs = [*self.words, *([self.exclude] if self.exclude else [])]
        return [
            (table, expr)
            for pair in pairs
            for table, expr in zip(SEARCH_TABLES, pair, strict=True)
            if expr is not None
        ]


def _in_indexes(pair: tuple[str | None, str | None]) -> tuple[str, list[object]]:
    """SQL for the ids of the papers that match in either index, and its parameters."""
    parts: list[str] = []
    params: list[object] = []
    for table, expr in zip(SEARCH_TABLES, pair, strict=True):
        if expr is not None:
            parts.append(f"SELECT rowid FROM {table} WHERE {table} MATCH ?")
            params.append(expr)
    return " UNION ALL ".join(parts), params


def doi_in(text: str) -> str | None:
    """The DOI in a typed term (``10.1/x``, ``doi:10.1/x``, ``https://doi.org/10.1/x``)."""
    m = _DOI.match(text.strip())
    return m.group(1) if m else None


def _alternative(term: str, alone: bool) -> tuple[str, list[object]] | None:
    """What else a typed term finds: its paper by DOI, and when typed alone, by key."""
    parts: list[str] = []
    params: list[object] = []
    doi = doi_in(term)
    if doi is not None:
        parts.append(DOI_CONDITION)
        params.append(doi)
    if alone and term:
        parts.append(KEY_CONDITION)
        params.extend([term, term])
    return (" OR ".join(parts), params) if parts else None


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def parse_query(text: str, fulltext: bool = True) -> ParsedQuery:
    """Turn typed text into SQL. Never raises; questionable parts yield a hint.

    ``fulltext=False``: words do not search attached files' text (what finds a paper by
    its own data, ranked first); ``fulltext:`` words then match nothing.
    """
    hints: list[str] = []
    # SQLite reads a query string only up to a NUL; control characters mean nothing here.
    text = "".join(" " if ord(c) < 32 or c == "\x7f" else c for c in text)
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        hints.append(f"only the first {MAX_QUERY_CHARS} characters are searched")
    positive: list[tuple[str | None, str | None]] = []
    negative: list[tuple[str | None, str | None]] = []
    others = False  # conditions that are not words (year:, tag:, key:)
    where: list[str] = []
    params: list[object] = []
    alternatives: list[tuple[str, list[object]] | None] = []
    full_texts: list[str | None] = []
    terms = 0
    found = [m for m in _TOKEN.finditer(text) if m.group(3) is not None or m.group(4) is not None]
    alone = len(found) == 1  # a key typed alone finds its paper
    for m in found:
        neg, prefix, quoted, bare = m.group(1) == "-", m.group(2), m.group(3), m.group(4)
        value = quoted if quoted is not None else bare
        if value is None:
            continue
        terms += 1
        if terms > MAX_TERMS:
            hints.append(f"only the first {MAX_TERMS} terms are used")
            break
        key = prefix.lower() if prefix else None
        if key == "year":
            ym = _YEAR.match(value)
            if not ym or not (ym.group(1) or ym.group(3)):
                hints.append(f"year:{value} is not a year or range like 2022..2024")
                continue
            lo, rng, hi = ym.group(1), ym.group(2), ym.group(3)
            if not rng:
                cond, args = "p.year = ?", [int(lo)]
            else:
                parts, args = [], []
                if lo:
                    parts.append("p.year >= ?")
                    args.append(int(lo))
                if hi:
                    parts.append("p.year <= ?")
                    args.append(int(hi))
                cond = " AND ".join(parts)
            others = True
            where.append(f"NOT ({cond})" if neg else f"({cond})")
            params.extend(args)
            continue
        if key == "tag":
            # The tag's papers from its index, not a lookup per paper (100 ms at 100,000).
            cond = (
                "p.id IN (SELECT pt.paper_id FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id "
                "WHERE t.name = ? COLLATE NOCASE)"
            )
            others = True
            where.append(f"NOT ({cond})" if neg else cond)
            params.append(value)
            continue
        if key == "key":
            cond = "p.key LIKE ? ESCAPE '\\'"
            esc = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            others = True
            where.append(f"NOT ({cond})" if neg else f"({cond})")
            params.append(esc + "%")
            continue
        if key == "doi":
            cond = "p.id IN (SELECT id FROM papers WHERE doi = ? COLLATE NOCASE)"
            others = True
            where.append(f"NOT ({cond})" if neg else cond)
            params.append(doi_in(value) or value.strip())
            continue
        column = None
        if key is not None:
            column = _FIELD_COLUMNS.get(key)
            if column is None:
                # "re:" or a URL: search the whole text rather than refuse it.
                value = m.group(0).lstrip("-")
                if quoted is not None:
                    value = value.replace('"', "")
        if not _WORD.search(value):
            if value.strip():
                hints.append(f"'{value}' has no letters or digits to search for")
            continue
        phrase = _fts_string(value)
        pair: tuple[str | None, str | None]
        page_expr: str | None = phrase
        if quoted is not None:
            pair = (phrase, phrase)
        else:
            tokens = _TOKENS.findall(value)
            last = len(tokens[-1]) if tokens else 0
            # One or two letters: the start of words in every field but the abstract, and
            # whole words there (a prefix that short is in nearly every abstract anyway).
            pair = (phrase + "*", phrase if last < ABSTRACT_PREFIX_MIN else phrase + "*")
            if last >= FULLTEXT_PREFIX_MIN:
                page_expr = phrase + "*"
        if column is not None:
            page_expr = None
        if column == "abstract":
            pair = (None, _fts_string(value) + ("" if quoted is not None else "*"))
        elif column == "fulltext":
            page_expr = (
                _fts_string(value) + ("" if quoted is not None else "*") if fulltext else None
            )
            pair = (None, None)
            if neg:
                hints.append("-fulltext: is not supported; the word was left out")
                continue
        elif column is not None:
            pair = (f"{column} : {pair[0]}", None)
        if neg:
            negative.append(pair)
            continue
        positive.append(pair)
        full_texts.append(page_expr if fulltext else None)
        typed = value if quoted is not None else m.group(0)
        alternatives.append(None if column is not None else _alternative(typed, alone))
    for pair, alternative, page_expr in zip(positive, alternatives, full_texts, strict=True):
        sql, word_params = _in_indexes(pair)
        params.extend(word_params)
        if page_expr is not None:
            sql = f"{sql} UNION ALL {FULLTEXT_SQL}" if sql else FULLTEXT_SQL
            params.append(page_expr)
        elif not sql:  # fulltext: when the full text is not searched
            sql = "SELECT NULL WHERE 0"
        if alternative is None:
            where.append(f"p.id IN ({sql})")
            continue
        cond, alt_params = alternative
        where.append(f"(p.id IN ({sql}) OR {cond})")
        params.extend(alt_params)
    exclude = None
    if negative:
        main = [m for m, _ in negative if m is not None]
        abstract = [a for _, a in negative if a is not None]
        exclude = (" OR ".join(main) or None, " OR ".join(abstract) or None)
        sql, word_params = _in_indexes(exclude)
        where.append(f"p.id NOT IN ({sql})")
        params.extend(word_params)
    return ParsedQuery(
        where=" AND ".join(where) if where else "1",
        params=params,
        hint="; ".join(hints) or None,
        empty=not where,
        words=positive,
        exclude=exclude,
        words_only=bool(positive) and not others,
        alternatives=alternatives,
        fulltext=full_texts,
    )
