"""Build ``seeds/seed.bib`` from a scraped researcher profile.

The seed library is generated, not hand-edited, so that it can be checked against its source:
``tests/seeds/test_seeds.py`` regenerates it and compares byte for byte. The parser is strict
because a silently misread profile would give a seed that looks right and is not.

Run from the repository root: ``python seeds/make_seeds.py [PROFILE]``.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from pathlib import Path
from typing import TypedDict

from citedesk.db.keys import DEFAULT_PATTERN, format_key, unique_key
from citedesk.db.names import parse_names

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PROFILE = REPO_ROOT.parent / "shared" / "seeds" / "000_8b734c93a603e0fd.txt"
SEED_BIB = REPO_ROOT / "seeds" / "seed.bib"

#: The profile's category labels and the arXiv classes they stand for.
ARXIV_CLASSES = {"LG": "cs.LG", "CV": "cs.CV", "ML": "stat.ML", "CL": "cs.CL", "HC": "cs.HC"}

#: The year of a date the profile writes without one ("Mar 11"): the year it was scraped.
CURRENT_YEAR = 2026

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

# "70.8LGMar 11Code", "CVJul 1, 2023": optional score, category, date, optional "Code".
# The category is matched loosely here so that an unknown one gets its own error message.
_HEADING = re.compile(
    r"(?P<score>\d+(?:\.\d+)?)?(?P<category>[A-Z]+?)"
    rf"(?P<month>{'|'.join(_MONTHS)}) (?P<day>\d{{1,2}})(?:, (?P<year>\d{{4}}))?"
    r"(?P<code>Code)?"
)
_PAPER_COUNT = re.compile(r"(\d+) Papers")
_AFFILIATION_SEP = " · "
_ET_AL = " et al."
# A person's name as the profile lists it: words of letters (an initial may end in "."),
# joined by spaces, hyphens or apostrophes.
_NAME = re.compile(r"[^\W\d_]+\.?(?:[ '\-][^\W\d_]+\.?)*")
_CODE_URL = re.compile(r"https?://(?:www\.)?(?:github\.com|gitlab\.com)/[^\s}]+")
# Inline math, where & % $ # _ are LaTeX syntax and must not be escaped.
_MATH = re.compile(r"(?<!\\)\$\$.+?(?<!\\)\$\$|(?<!\\)\$.+?(?<!\\)\$", re.DOTALL)


class Paper(TypedDict):
    """One paper as the profile lists it; names and text are kept as written."""

    title: str
    authors: list[str]  # "Given Family", in the profile's order
    et_al: bool  # the profile cut the author list short
    year: int
    month: int
    day: int
    category: str  # the profile's label: "LG", "CV", ...
    abstract: str
    has_code: bool  # the heading says "Code", whether or not the abstract gives a link
    code_url: str | None
    affiliation: str | None


class ProfileFormatError(ValueError):
    """The profile is not shaped as expected; the message names the line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def _parse_heading(line: int, text: str) -> tuple[str, datetime.date, bool]:
    m = _HEADING.fullmatch(text)
    if m is None:
        raise ProfileFormatError(
            line, f"expected a paper heading such as 'LGMar 11Code', got {text[:60]!r}"
        )
    category = m["category"]
    if category not in ARXIV_CLASSES:
        known = ", ".join(ARXIV_CLASSES)
        raise ProfileFormatError(line, f"unknown category {category!r} (known: {known})")
    year = int(m["year"]) if m["year"] else CURRENT_YEAR
    try:
        date = datetime.date(year, _MONTHS.index(m["month"]) + 1, int(m["day"]))
    except ValueError as exc:
        raise ProfileFormatError(line, f"bad date in {text!r}: {exc}") from None
    return category, date, m["code"] is not None


def _parse_authors(line: int, text: str) -> tuple[list[str], bool, str | None]:
    names, _, affiliation = text.partition(_AFFILIATION_SEP)
    et_al = names.endswith(_ET_AL)
    if et_al:
        names = names[: -len(_ET_AL)]
    authors = [n.strip() for n in names.split(",")]
    for name in authors:
        if not _NAME.fullmatch(name) or len(name.split()) > 5:
            raise ProfileFormatError(line, f"expected an author list, got name {name[:60]!r}")
    if _AFFILIATION_SEP in text and not affiliation.strip():
        raise ProfileFormatError(line, "empty affiliation after '·'")
    return authors, et_al, affiliation.strip() or None


def _code_url(abstract: str) -> str | None:
    """The first GitHub/GitLab link, without the sentence's full stop or ``\\url``'s brace."""
    m = _CODE_URL.search(abstract)
    return m.group(0).rstrip(".,;:)") if m else None


def parse_profile(text: str) -> list[Paper]:
    """The papers of a profile, in its order; raise ProfileFormatError on any surprise.

    Blank lines only separate parts, so each paper is four non-blank lines: heading, title,
    authors, abstract (one paragraph). A heading met where a title, author list or abstract
    should be means that part is missing.
    """
    lines = [(n, s.strip()) for n, s in enumerate(text.splitlines(), start=1) if s.strip()]
    counts = [(n, int(m[1])) for n, s in lines if (m := _PAPER_COUNT.fullmatch(s))]
    if len(counts) != 1:
        raise ProfileFormatError(1, f"expected one 'N Papers' line, found {len(counts)}")
    count_line, expected = counts[0]
    body = [(n, s) for n, s in lines if n > count_line]

    papers: list[Paper] = []
    parts = ("title", "author list", "abstract")
    i = 0
    while i < len(body):
        head_line, heading = body[i]
        category, date, has_code = _parse_heading(head_line, heading)
        fields: list[str] = []
        for offset, part in enumerate(parts, start=1):
            if i + offset >= len(body):
                raise ProfileFormatError(head_line, f"paper has no {part} (file ends)")
            n, s = body[i + offset]
            if _HEADING.fullmatch(s):
                raise ProfileFormatError(n, f"paper at line {head_line} has no {part}")
            fields.append(s)
        title, author_text, abstract = fields
        authors, et_al, affiliation = _parse_authors(body[i + 2][0], author_text)
        papers.append(
            Paper(
                title=title,
                authors=authors,
                et_al=et_al,
                year=date.year,
                month=date.month,
                day=date.day,
                category=category,
                abstract=abstract,
                has_code=has_code,
                code_url=_code_url(abstract) if has_code else None,
                affiliation=affiliation,
            )
        )
        i += 1 + len(parts)

    if len(papers) != expected:
        raise ProfileFormatError(count_line, f"header says {expected} papers, found {len(papers)}")
    return papers


def escape_latex(text: str, specials: str) -> str:
    """Backslash the bare ``specials`` outside math; escaped ones and math stay as written.

    The profile's text is already LaTeX (``\\emph``, ``$θ^*$``, ``6.5\\%``), so only a stray
    special would break a LaTeX run.
    """
    pattern = re.compile(rf"(?<!\\)([{re.escape(specials)}])")
    out, pos = [], 0
    for m in _MATH.finditer(text):
        out.append(pattern.sub(r"\\\1", text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(pattern.sub(r"\\\1", text[pos:]))
    return "".join(out)


def _check_braces(label: str, text: str) -> None:
    """An unbalanced brace would end the BibTeX value early, so refuse it."""
    depth = 0
    for c in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            break
    if depth != 0:
        raise ValueError(f"unbalanced braces in {label}: {text[:60]!r}")


def bibtex_authors(paper: Paper) -> str:
    """``Family, Given and ...``, with ``and others`` when the profile said "et al."."""
    names = []
    for name in paper["authors"]:
        people = parse_names(name)
        if len(people) != 1:
            raise ValueError(f"{name!r} is not one person's name")
        names.append(people[0].bibtex())
    if paper["et_al"]:
        names.append("others")
    return " and ".join(names)


MONTH_MACROS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def entry_fields(paper: Paper) -> list[tuple[str, str]]:
    """The entry's fields in the order the seed file writes them."""
    arxiv_class = ARXIV_CLASSES[paper["category"]]
    date = datetime.date(paper["year"], paper["month"], paper["day"])
    fields = [
        ("author", bibtex_authors(paper)),
        ("title", escape_latex(paper["title"], "&%$#_")),
        ("year", str(paper["year"])),
        # A bare month macro, which every BibTeX style and biber turn into the month's name.
        ("month", MONTH_MACROS[paper["month"] - 1]),
        ("date", date.isoformat()),
        ("eprinttype", "arxiv"),
        ("eprintclass", arxiv_class),
        ("primaryclass", arxiv_class),
        ("keywords", arxiv_class),
        # The abstract is LaTeX with its own math; only bare & % # would break it.
        ("abstract", escape_latex(paper["abstract"], "&%#")),
    ]
    if paper["code_url"]:
        fields.append(("code", paper["code_url"]))
    if paper["affiliation"]:
        fields.append(("affiliation", escape_latex(paper["affiliation"], "&%$#_")))
    for name, value in fields:
        _check_braces(f"{name} of {paper['title']!r}", value)
    return fields


def render_bib(papers: list[Paper]) -> str:
    """The seed file: one ``@misc`` per paper in profile order, keys unique in file order."""
    taken: set[str] = set()
    entries = []
    for paper in papers:
        fields = entry_fields(paper)
        values = dict(fields)
        base = format_key(
            DEFAULT_PATTERN, parse_names(values["author"]), values["year"], values["title"]
        )
        key = unique_key(base, taken.__contains__)
        taken.add(key)
        body = ",\n".join(
            f"  {name} = {value}" if name == "month" else f"  {name} = {{{value}}}"
            for name, value in fields
        )
        entries.append(f"@misc{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write seeds/seed.bib from a profile.")
    parser.add_argument("profile", nargs="?", type=Path, default=DEFAULT_PROFILE)
    args = parser.parse_args(argv)
    profile: Path = args.profile
    try:
        papers = parse_profile(profile.read_text(encoding="utf-8"))
        text = render_bib(papers)
    except ValueError as exc:
        print(f"{profile}: {exc}", file=sys.stderr)
        return 1
    SEED_BIB.write_bytes(text.encode("utf-8"))
    print(f"wrote {len(papers)} entries to {SEED_BIB.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
