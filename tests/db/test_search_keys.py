"""Search finds a paper by its citation key, an old key of it, or its DOI typed as it is."""

from __future__ import annotations

import pytest

from citedesk.db import Library, Query
from citedesk.db.search import doi_in

BIB = r"""
@article{Smith2024Flat,
  title = {Flat minima and where to find them},
  author = {Smith, Ann},
  year = {2024},
  doi = {10.48550/arXiv.2405.12345},
}
@article{lee2020other,
  title = {Something else entirely},
  author = {Lee, Bo},
  year = {2020},
  doi = {10.1/x},
}
"""


@pytest.fixture
def lib(seeded: Library) -> Library:
    report = seeded.import_text(BIB)
    assert len(report.added) == 2
    return seeded


def _keys(lib: Library, text: str) -> set[str]:
    return {lib.paper(pid).key for pid in lib.paper_ids(Query(search=text))}


@pytest.mark.parametrize("typed", ["Smith2024Flat", "smith2024flat", "SMITH2024FLAT"])
def test_a_key_typed_alone_finds_its_paper_in_any_case(lib: Library, typed: str) -> None:
    assert _keys(lib, typed) == {"Smith2024Flat"}
    assert lib.count(Query(search=typed)) == 1


def test_an_old_key_finds_the_paper_it_now_has_another_key(lib: Library) -> None:
    pid = lib.paper_by_key("Smith2024Flat").id
    lib.set_key(pid, "smith2024flatminima")
    assert _keys(lib, "smith2024flat") == {"smith2024flatminima"}
    assert _keys(lib, "Smith2024FLAT") == {"smith2024flatminima"}


def test_a_key_typed_alone_keeps_the_full_text_matches(lib: Library) -> None:
    # "wang2023qyolo" is a seeded key; "sgd" typed alone still finds the SGD papers.
    assert "wang2023qyolo" in _keys(lib, "wang2023qyolo")
    sgd = _keys(lib, "sgd")
    assert len(sgd) > 1


def test_a_key_among_other_words_is_a_word_only(lib: Library) -> None:
    # Not typed alone: the key is a word to find, as before.
    assert _keys(lib, "Smith2024Flat minima") == set()


@pytest.mark.parametrize(
    "typed",
    [
        "10.48550/arXiv.2405.12345",
        "10.48550/ARXIV.2405.12345",
        "https://doi.org/10.48550/arXiv.2405.12345",
        "doi:10.48550/arXiv.2405.12345",
        "http://dx.doi.org/10.48550/arxiv.2405.12345",
    ],
)
def test_a_doi_typed_as_text_finds_its_paper(lib: Library, typed: str) -> None:
    assert _keys(lib, typed) == {"Smith2024Flat"}


def test_a_doi_with_other_words_must_match_them_too(lib: Library) -> None:
    assert _keys(lib, "https://doi.org/10.1/x else") == {"lee2020other"}
    assert _keys(lib, "10.1/x flat") == set()


def test_a_doi_filter_can_exclude(lib: Library) -> None:
    found = _keys(lib, "-doi:10.1/x")
    assert "lee2020other" not in found and "Smith2024Flat" in found
    assert lib.count(Query(search="-doi:10.1/x")) == lib.count() - 1


def test_the_doi_in_what_is_typed() -> None:
    assert doi_in("https://doi.org/10.1/x") == "10.1/x"
    assert doi_in("doi:10.1/x") == "10.1/x"
    assert doi_in("10.1/x") == "10.1/x"
    assert doi_in("10.1") is None
    assert doi_in("wang2023") is None
