"""Formatted references (db/csl.py): Crossref's own renderings as the oracle, the year
suffixes, names and et al. citeproc-py needs help with, every output form."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from citedesk.db import Library, csl
from tests.lookupserver import _cassette_body

RECORDED = Path(__file__).resolve().parents[3] / "shared" / "recorded" / "crossref"
DOI = "10.1126/science.169.3946.635"


def _recorded(cassette: str) -> list[str]:
    """The bodies of a cassette's successful answers, decoded."""
    data = yaml.safe_load((RECORDED / cassette).read_text(encoding="utf-8"))
    return [
        _cassette_body(i["response"]).decode("utf-8").strip()
        for i in data["interactions"]
        if i["response"]["status"]["code"] == 200
    ]


@pytest.fixture
def frank(tmp_path: Path) -> list[dict[str, Any]]:
    """Crossref's CSL-JSON of the DOI, imported and given back as Citedesk stores it."""
    (body,) = _recorded("test_content_negotiation_citeproc_json.yaml")
    lib = Library.open(tmp_path / "l.sqlite", seed=False)
    assert lib.import_other_text(body, "frank.json").added
    return lib.csl_items()


def test_apa_matches_crossref(frank: list[dict[str, Any]]) -> None:
    apa, _ieee = _recorded("test_content_negotiation_style.yaml")
    # Identical as text. (Crossref's text is citeproc-js's with the italics dropped.)
    assert csl.bibliography(frank, "apa") == [apa]


def test_ieee_matches_crossref(frank: list[dict[str, Any]]) -> None:
    _apa, ieee = _recorded("test_content_negotiation_style.yaml")
    # Identical too, "[1]" with no space included: Crossref's text joins citeproc-js's
    # number and entry blocks as they are. The comma goes inside the quotes (en-US), which
    # citeproc-py alone does not do (db/csl.py _Style.finish).
    assert csl.bibliography(frank, "ieee") == [ieee]


def test_html_italicises_the_journal(frank: list[dict[str, Any]]) -> None:
    (entry,) = csl.bibliography(frank, "apa", output="html")
    assert "<i>Science</i>, <i>169</i>(3946)" in entry


def test_markdown_italicises_and_escapes() -> None:
    item = _paper("x", "Smith", 2020, "Stars_and *galaxies*")
    item["container-title"] = "Journal"
    (entry,) = csl.bibliography([item], "apa", output="markdown")
    assert r"Stars\_and \*galaxies\*" in entry
    assert "*Journal*" in entry


def _paper(key: str, family: str, year: int, title: str, **names: Any) -> dict[str, Any]:
    return {
        "id": key,
        "citation-key": key,
        "type": "article-journal",
        "title": title,
        "container-title": "Journal of Tests",
        "author": names.get("author", [{"family": family, "given": "John"}]),
        "issued": {"date-parts": [[year]]},
    }


def test_same_author_same_year_apa_gets_a_and_b_by_title() -> None:
    later = _paper("s1", "Smith", 2020, "Zebras")
    earlier = _paper("s2", "Smith", 2020, "Antelopes")
    other = _paper("j", "Jones", 2020, "Lions")
    items = [later, earlier, other]
    assert csl.citation([later], "apa", context=items) == "(Smith, 2020b)"
    assert csl.citation([earlier, later], "apa") == "(Smith, 2020a, 2020b)" or (
        csl.citation([earlier, later], "apa") == "(Smith, 2020a; Smith, 2020b)"
    )
    bib = csl.bibliography(items, "apa")
    assert bib[1].startswith("Smith, J. (2020a). Antelopes.")
    assert bib[2].startswith("Smith, J. (2020b). Zebras.")
    assert bib[0].startswith("Jones, J. (2020). Lions.")


def test_later_sort_keys_order_only_what_the_earlier_ones_tie() -> None:
    # db/csl.py works a sort key out only for papers the keys before it leave tied.
    items = [
        _paper("b", "Smith", 2021, "Bees"),
        _paper("x", "Jones", 2020, "Xylophones"),
        _paper("z", "Smith", 2019, "Zebras"),
        _paper("a", "Smith", 2021, "Ants"),
    ]
    assert [entry.removesuffix(" Journal of Tests.") for entry in csl.bibliography(items)] == [
        "Jones, J. (2020). Xylophones.",
        "Smith, J. (2019). Zebras.",
        "Smith, J. (2021a). Ants.",
        "Smith, J. (2021b). Bees.",
    ]


def test_year_suffix_for_a_style_that_leaves_it_to_the_processor() -> None:
    # Elsevier Harvard asks for suffixes but never prints year-suffix itself.
    items = [_paper("s1", "Smith", 2020, "Zebras"), _paper("s2", "Smith", 2020, "Antelopes")]
    text = " ".join(csl.bibliography(items, "elsevier-harvard"))
    assert "2020a" in text and "2020b" in text


def test_no_year_suffix_in_numeric_styles() -> None:
    items = [_paper("s1", "Smith", 2020, "Zebras"), _paper("s2", "Smith", 2020, "Antelopes")]
    assert not re.search(r"2020[ab]", " ".join(csl.bibliography(items, "ieee")))


def test_particles_and_suffixes() -> None:
    item = _paper(
        "v",
        "",
        1944,
        "Theory of games",
        author=[
            {"family": "Neumann", "non-dropping-particle": "von", "given": "John"},
            {"family": "King", "given": "Martin Luther", "suffix": "Jr."},
        ],
    )
    assert csl.citation([item], "apa") == "(von Neumann & King, 1944)"
    (apa,) = csl.bibliography([item], "apa")
    assert apa.startswith("von Neumann, J., & King, M. L., Jr. (1944).")
    (ieee,) = csl.bibliography([item], "ieee")
    assert "J. von Neumann and M. L. King Jr.," in ieee


def _authors(n: int) -> list[dict[str, str]]:
    return [{"family": f"Author{i}", "given": "Ann"} for i in range(1, n + 1)]


def test_apa_lists_19_then_ellipsis_and_the_last_for_21_authors() -> None:
    item = _paper("many", "", 2021, "Big science", author=_authors(21))
    assert csl.citation([item], "apa") == "(Author1 et al., 2021)"
    (entry,) = csl.bibliography([item], "apa")
    # CSL's et-al-use-last prints "…" (citeproc-js too), where the APA manual prints ". . .".
    assert "Author19, A., … Author21, A." in entry
    assert "Author20" not in entry


def test_ieee_et_al_past_six_authors() -> None:
    item = _paper("many", "", 2021, "Big science", author=_authors(7))
    (entry,) = csl.bibliography([item], "ieee")
    assert "A. Author1 et al.," in entry
    assert "Author2" not in entry


def test_bibtex_others_is_not_printed_as_a_name() -> None:
    item = _paper("o", "", 2021, "Title", author=[*_authors(2), {"literal": "others"}])
    (entry,) = csl.bibliography([item], "apa")
    assert "others" not in entry


def test_seeded_latex_comes_out_plain(tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "l.sqlite")
    for style in ("apa", "ieee", "chicago-author-date", "nature", "modern-language-association"):
        entries = csl.bibliography(lib.csl_items(), style)
        assert len(entries) == 25
        for entry in entries:
            assert not re.search(r"\\[A-Za-z]|[{}$]", entry), entry


def test_common_styles_render_the_seeded_papers_in_every_output(tmp_path: Path) -> None:
    items = Library.open(tmp_path / "l.sqlite").csl_items()
    for name, title in csl.styles():
        assert title and name in dict(csl.styles())
        for output in csl.OUTPUTS:
            assert len(csl.bibliography(items, name, output=output)) == 25
            assert csl.citation(items[:3], name, output=output)


def test_keys_differing_only_in_case_stay_apart() -> None:
    a = _paper("Smith2020", "Smith", 2020, "Upper")
    b = _paper("smith2020", "Jones", 2020, "Lower")
    bib = csl.bibliography([a, b], "apa")
    assert len(bib) == 2 and "Upper" in bib[1] and "Lower" in bib[0]


def test_a_users_style_file(tmp_path: Path) -> None:
    own = tmp_path / "mine.csl"
    own.write_bytes(csl.style_path("apa").read_bytes())
    assert csl.style_path(own) == own
    item = _paper("s", "Smith", 2020, "Title")
    assert csl.citation([item], str(own)) == "(Smith, 2020)"


@pytest.mark.parametrize("style", ["no-such-style", "../apa", str(Path("/nowhere/x.csl"))])
def test_unknown_style_is_a_users_error(style: str) -> None:
    with pytest.raises(csl.CslError):
        csl.bibliography([_paper("s", "Smith", 2020, "T")], style)


def test_unknown_locale_and_output() -> None:
    with pytest.raises(csl.CslError, match="locale"):
        csl.bibliography([_paper("s", "Smith", 2020, "T")], "apa", locale="xx-YY")
    with pytest.raises(csl.CslError, match="output"):
        csl.bibliography([_paper("s", "Smith", 2020, "T")], "apa", output="rtf")


def test_other_locale() -> None:
    item = _paper("s", "Smith", 2020, "Titel")
    item["author"] = _authors(2)
    assert csl.citation([item], "apa", locale="de-DE") == "(Author1 & Author2, 2020)"
    assert "und" in csl.citation([item], "chicago-author-date", locale="de-DE")


def test_html_escapes_the_items_text() -> None:
    item = _paper("s", "S&P", 2020, "A & B <x>")
    item["container-title"] = "J & K"
    (entry,) = csl.bibliography([item], "apa", output="html")
    assert entry == "S&amp;P, J. (2020). A &amp; B &lt;x&gt;. <i>J &amp; K</i>."


def test_items_are_not_changed() -> None:
    items = [_paper("s1", "Smith", 2020, "Zebras"), _paper("s2", "Smith", 2020, "Antelopes")]
    before = copy.deepcopy(items)
    csl.bibliography(items, "apa")
    assert items == before
    json.dumps(items)
