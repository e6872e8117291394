"""The checked-in seed library is exactly what its profile says, and the parser is strict."""

from __future__ import annotations

import datetime
import re

import bibtexparser
import pytest
from bibtexparser.model import Entry

from citedesk.db.names import parse_names
from citedesk.seeds.make_seeds import (
    ARXIV_CLASSES,
    DEFAULT_PROFILE,
    SEED_BIB,
    Paper,
    ProfileFormatError,
    parse_profile,
    render_bib,
)

EXPECTED_PAPERS = 25

MINI_PROFILE = """\
Ada Lovelace

LG
3 Papers

70.8LGMar 11Code
A Paper With Code

Ada Lovelace, Charles Babbage et al. · oxford

We study things. Code: \\url{https://github.com/ada/engine}.

CVJul 1, 2023Code
A Paper Whose Code Is Promised

Grace Hui Yang

The code will be released.

MLFeb 29, 2024
Leap Day

Weinan E, Liu Ziyin

An abstract with 50\\% of $x_i$ and a bare & sign.
"""


def _unescape(text: str) -> str:
    """Drop the backslash before & % $ # _: the generator may add one, the profile may have."""
    return re.sub(r"\\(?=[&%$#_])", "", text)


def _value(entry: Entry, name: str) -> str | None:
    field = entry.fields_dict.get(name)
    return None if field is None else field.value


@pytest.fixture(scope="module")
def profile_text() -> str:
    if not DEFAULT_PROFILE.exists():
        pytest.skip(
            f"{DEFAULT_PROFILE.name} not found: the profile lives in ../shared/seeds, "
            "outside the repository"
        )
    return DEFAULT_PROFILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    library = bibtexparser.parse_file(str(SEED_BIB))
    assert library.failed_blocks == []
    return library.entries


@pytest.fixture(scope="module")
def pairs(profile_text: str, entries: list[Entry]) -> list[tuple[Entry, Paper]]:
    papers = parse_profile(profile_text)
    assert len(entries) == len(papers)
    return list(zip(entries, papers, strict=True))


def test_seed_bib_is_what_the_generator_writes(profile_text: str) -> None:
    expected = render_bib(parse_profile(profile_text)).encode("utf-8")
    assert SEED_BIB.read_bytes() == expected, "run: python seeds/make_seeds.py"


def test_seed_bib_parses_into_misc_entries(entries: list[Entry]) -> None:
    assert len(entries) == EXPECTED_PAPERS
    assert {e.entry_type for e in entries} == {"misc"}


def test_seed_keys_are_unique(entries: list[Entry]) -> None:
    keys = [e.key for e in entries]
    assert len(set(keys)) == len(keys)


def test_profile_lists_expected_papers(profile_text: str) -> None:
    assert len(parse_profile(profile_text)) == EXPECTED_PAPERS


def test_titles_match_profile(pairs: list[tuple[Entry, Paper]]) -> None:
    for entry, paper in pairs:
        assert _unescape(_value(entry, "title") or "") == _unescape(paper["title"]), entry.key


def test_authors_match_profile(pairs: list[tuple[Entry, Paper]]) -> None:
    for entry, paper in pairs:
        people = parse_names(_value(entry, "author") or "")
        named = [p.display for p in people if not p.is_others]
        cut_short = bool(people) and people[-1].is_others
        assert (named, cut_short) == (paper["authors"], paper["et_al"]), entry.key


def test_dates_match_profile(pairs: list[tuple[Entry, Paper]]) -> None:
    for entry, paper in pairs:
        date = datetime.date(paper["year"], paper["month"], paper["day"])
        got = (_value(entry, "year"), _value(entry, "month"), _value(entry, "date"))
        month_macro = date.strftime("%b").lower()
        assert got == (str(date.year), month_macro, date.isoformat()), entry.key


def test_categories_match_profile(pairs: list[tuple[Entry, Paper]]) -> None:
    for entry, paper in pairs:
        arxiv_class = ARXIV_CLASSES[paper["category"]]
        names = ("eprinttype", "eprintclass", "primaryclass", "keywords")
        got = tuple(_value(entry, name) for name in names)
        assert got == ("arxiv", arxiv_class, arxiv_class, arxiv_class), entry.key


def test_abstracts_match_profile(pairs: list[tuple[Entry, Paper]]) -> None:
    for entry, paper in pairs:
        assert _unescape(_value(entry, "abstract") or "") == _unescape(paper["abstract"])


def test_code_links_match_profile(pairs: list[tuple[Entry, Paper]]) -> None:
    for entry, paper in pairs:
        assert _value(entry, "code") == paper["code_url"], entry.key


def test_affiliations_match_profile(pairs: list[tuple[Entry, Paper]]) -> None:
    for entry, paper in pairs:
        assert _value(entry, "affiliation") == paper["affiliation"], entry.key


def test_parse_profile_reads_each_part_of_a_paper() -> None:
    first, promised, leap = parse_profile(MINI_PROFILE)
    assert first == Paper(
        title="A Paper With Code",
        authors=["Ada Lovelace", "Charles Babbage"],
        et_al=True,
        year=2026,  # no year in the heading
        month=3,
        day=11,
        category="LG",
        abstract="We study things. Code: \\url{https://github.com/ada/engine}.",
        has_code=True,
        code_url="https://github.com/ada/engine",
        affiliation="oxford",
    )
    assert (promised["has_code"], promised["code_url"]) == (True, None)
    assert (leap["year"], leap["month"], leap["day"], leap["et_al"]) == (2024, 2, 29, False)


def test_render_escapes_bare_specials_outside_math_only() -> None:
    text = render_bib(parse_profile(MINI_PROFILE))
    assert r"abstract = {An abstract with 50\% of $x_i$ and a bare \& sign.}" in text


def test_render_writes_et_al_as_and_others() -> None:
    text = render_bib(parse_profile(MINI_PROFILE))
    assert "author = {Lovelace, Ada and Babbage, Charles and others}," in text
    assert "author = {E, Weinan and Ziyin, Liu}," in text


def _break(old: str, new: str) -> str:
    assert old in MINI_PROFILE
    return MINI_PROFILE.replace(old, new, 1)


def test_parse_profile_rejects_paper_without_abstract() -> None:
    text = _break("\nThe code will be released.\n", "")
    with pytest.raises(ProfileFormatError, match=r"^line 18: paper at line 13 has no abstract"):
        parse_profile(text)


def test_parse_profile_rejects_unknown_category() -> None:
    with pytest.raises(ProfileFormatError, match=r"^line 13: unknown category 'XY'"):
        parse_profile(_break("CVJul 1, 2023Code", "XYJul 1, 2023Code"))


def test_parse_profile_rejects_abstract_in_two_paragraphs() -> None:
    with pytest.raises(ProfileFormatError, match=r"^line 20: expected a paper heading"):
        parse_profile(_break("\nThe code will be released.\n", "\nThe code.\n\nWill be.\n"))


def test_parse_profile_rejects_wrong_paper_count() -> None:
    with pytest.raises(ProfileFormatError, match=r"^line 4: header says 4 papers, found 3"):
        parse_profile(_break("3 Papers", "4 Papers"))


def test_parse_profile_rejects_impossible_date() -> None:
    with pytest.raises(ProfileFormatError, match=r"^line 20: bad date"):
        parse_profile(_break("MLFeb 29, 2024", "MLFeb 30, 2024"))
