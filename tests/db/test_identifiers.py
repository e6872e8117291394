"""db.identifiers: DOIs, arXiv ids and ISBNs read alone and out of longer texts."""

from __future__ import annotations

import time

import pytest

from citedesk.db.identifiers import (
    Identifier,
    arxiv_base,
    find_identifiers,
    is_doi,
    isbn13,
    parse_identifier,
)

SICI = "10.1002/(SICI)1097-4636(199706)35:4<541::AID-JBM12>3.0.CO;2-F"
CLRS = "9780262033848"


def doi(value: str) -> Identifier:
    return Identifier("doi", value)


def arxiv(value: str) -> Identifier:
    return Identifier("arxiv", value)


def isbn(value: str) -> Identifier:
    return Identifier("isbn", value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.1126/science.169.3946.635", doi("10.1126/science.169.3946.635")),
        ("doi:10.1126/science.169.3946.635", doi("10.1126/science.169.3946.635")),
        ("DOI: 10.1126/science.169.3946.635", doi("10.1126/science.169.3946.635")),
        ("https://doi.org/10.1126/science.169.3946.635", doi("10.1126/science.169.3946.635")),
        ("http://dx.doi.org/10.1126/science.169.3946.635", doi("10.1126/science.169.3946.635")),
        ("doi.org/10.1126/science.169.3946.635", doi("10.1126/science.169.3946.635")),
        ("https://doi.org/10.1126%2Fscience.169.3946.635", doi("10.1126/science.169.3946.635")),
        ("https://doi.org/10.1126/ABC?utm_source=x", doi("10.1126/ABC")),
        ("  10.1126/science.169.3946.635.  ", doi("10.1126/science.169.3946.635")),
        ("(doi:10.1234/abc)", doi("10.1234/abc")),
        ("<https://doi.org/10.1016/S0140-6736(17)31492-7>", doi("10.1016/S0140-6736(17)31492-7")),
        (SICI, doi(SICI)),
        ("10.48550/arXiv.2104.12255", doi("10.48550/arXiv.2104.12255")),
    ],
)
def test_a_doi_alone_is_read_in_any_common_form(text: str, expected: Identifier) -> None:
    assert parse_identifier(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1605.08386", "1605.08386"),
        ("2104.12255v1", "2104.12255v1"),
        ("0704.0001", "0704.0001"),
        ("arXiv:1605.08386", "1605.08386"),
        ("arxiv 1605.08386", "1605.08386"),
        ("astro-ph/0601001", "astro-ph/0601001"),
        ("quant-ph/0201082v1", "quant-ph/0201082v1"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("math.gt/0309136", "math.gt/0309136"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("arXiv:hep-th/9901001", "hep-th/9901001"),
        ("https://arxiv.org/abs/2104.12255v1", "2104.12255v1"),
        ("arxiv.org/pdf/2104.12255v1.pdf", "2104.12255v1"),
        ("https://arxiv.org/pdf/2104.12255", "2104.12255"),
        ("http://export.arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
    ],
)
def test_an_arxiv_id_alone_is_read_in_any_common_form(text: str, expected: str) -> None:
    assert parse_identifier(text) == arxiv(expected)


@pytest.mark.parametrize(
    "text",
    [
        "978-0-262-03384-8",
        "9780262033848",
        "0262033844",
        "0-262-03384-4",
        "ISBN 0-262-03384-4",
        "ISBN-13: 978-0-262-03384-8",
        "ISBN-10: 0262033844",
        "978 0 262 03384 8",
    ],
)
def test_an_isbn_alone_is_read_as_13_digits(text: str) -> None:
    assert parse_identifier(text) == isbn(CLRS)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "10.1234",
        "10.1234/",
        "10.1234/--",
        "0000.0000",  # month 00
        "1613.00001",  # month 13
        "1412.12345",  # five digits before 2015
        "1501.1234",  # four digits since 2015
        "xx-yy/0601001",  # not an arXiv archive
        "0262033845",  # ISBN checksum fails
        "9780262033847",
        "doi:10.1234/abc and more words",
    ],
)
def test_garbage_alone_is_not_an_identifier(text: str) -> None:
    assert parse_identifier(text) is None


def test_identifiers_read_as_labelled_strings() -> None:
    assert str(doi("10.1126/science.169.3946.635")) == "DOI 10.1126/science.169.3946.635"
    assert str(arxiv("2104.12255v1")) == "arXiv 2104.12255v1"
    assert str(isbn(CLRS)) == "ISBN 9780262033848"


def test_a_key_ignores_case_but_keeps_an_arxiv_version() -> None:
    assert doi("10.1126/SCIENCE.1").key == doi("10.1126/science.1").key == "doi:10.1126/science.1"
    assert arxiv("2104.12255v1").key != arxiv("2104.12255").key


@pytest.mark.parametrize(
    ("value", "base"),
    [
        ("2104.12255v1", "2104.12255"),
        ("2104.12255", "2104.12255"),
        ("hep-th/9901001v3", "hep-th/9901001"),
    ],
)
def test_arxiv_base_strips_the_version(value: str, base: str) -> None:
    assert arxiv_base(value) == base


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("0262033844", CLRS),
        ("9780262033848", CLRS),
        ("0-8044-2957-X", "9780804429573"),
        ("080442957x", "9780804429573"),
        ("0262033845", None),
        ("9780262033840", None),
        ("4006381333931", None),  # a valid EAN-13 barcode, but not a book
        ("026203384", None),
        ("02620338444", None),
        ("X262033844", None),
    ],
)
def test_isbn13_checks_the_checksum_and_converts(digits: str, expected: str | None) -> None:
    assert isbn13(digits) == expected


def test_is_doi_is_unchanged() -> None:
    assert is_doi(" 10.1234/abc ")
    assert not is_doi("10.1000/-")
    assert not is_doi("doi:10.1234/abc")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("as shown (Smith 2020, doi:10.1234/abc).", "10.1234/abc"),
        ("see https://doi.org/10.1234/abc.", "10.1234/abc"),
        ("[paper](https://doi.org/10.1234/abc)", "10.1234/abc"),
        ("(10.1016/S0140-6736(17)31492-7)", "10.1016/S0140-6736(17)31492-7"),
        ("[10.1234/a[1]]", "10.1234/a[1]"),
        ('"10.1234/abc",', "10.1234/abc"),
        ("'10.1234/abc';", "10.1234/abc"),
        ("<10.1234/abc>", "10.1234/abc"),
        (f"cited as {SICI}.", SICI),
        ('<a href="https://doi.org/10.1000/182">10.1000/182</a>', "10.1000/182"),
        ("https://onlinelibrary.wiley.com/doi/10.1002/abc?af=R", "10.1002/abc"),
        ("https://example.org/?doi=10.1126%2Fscience.1&lang=en", "10.1126/science.1"),
        ("doi = {10.1234/a\\_b}", "10.1234/a_b"),
    ],
)
def test_a_doi_in_text_loses_surrounding_punctuation(text: str, expected: str) -> None:
    assert find_identifiers(text) == [doi(expected)]


def test_an_arxiv_doi_is_only_a_doi() -> None:
    assert find_identifiers("https://doi.org/10.48550/arXiv.2104.12255") == [
        doi("10.48550/arXiv.2104.12255")
    ]


def test_a_doi_inside_a_longer_number_is_not_taken() -> None:
    assert find_identifiers("version 210.1234/abc") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("preprint arXiv:1605.08386v2.", "1605.08386v2"),
        ("arXiv preprint arXiv: 2104.12255", "2104.12255"),
        ("https://arxiv.org/abs/2104.12255v1 (2021)", "2104.12255v1"),
        ("get arxiv.org/pdf/2104.12255v1.pdf now", "2104.12255v1"),
        ("export.arxiv.org/abs/math.GT/0309136", "math.GT/0309136"),
        ("eprint = {2104.12255},", "2104.12255"),
        ('eprint = "arXiv:1605.08386"', "1605.08386"),
        ("as in hep-th/9901001, we", "hep-th/9901001"),
        ("(quant-ph/0201082v1)", "quant-ph/0201082v1"),
        ("see math.GT/0309136.", "math.GT/0309136"),
    ],
)
def test_an_arxiv_id_in_text_needs_a_label_link_field_or_old_style(
    text: str, expected: str
) -> None:
    assert find_identifiers(text) == [arxiv(expected)]


@pytest.mark.parametrize(
    "text",
    [
        "In 2019.12345 cases and 1605.08386 others",
        "arXiv:1613.00001",  # month 13
        "https://example.org/cs/0101001",  # an old-style shape inside some other path
        "foo/0601001 and xhep-th/9901001",
        "call 0262033844 or 978-0-262-03384-8",  # ISBNs need their label in text
        "ISBN 0262033845",  # checksum fails
        "ISBN 555-123-4567",
    ],
)
def test_numbers_in_text_are_not_identifiers(text: str) -> None:
    assert find_identifiers(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "ISBN 0-262-03384-4.",
        "ISBN-13: 978-0-262-03384-8",
        "isbn-10 0262033844",
        "eISBN: 978 0 262 03384 8",
        "isbn = {978-0-262-03384-8},",
        'ISBN = "0262033844"',
    ],
)
def test_an_isbn_in_text_is_taken_after_its_label(text: str) -> None:
    assert find_identifiers(text) == [isbn(CLRS)]


def test_identifiers_come_in_order_of_first_appearance_without_repeats() -> None:
    text = (
        "ISBN 0262033844 then arXiv:1605.08386 then doi:10.1234/ABC, "
        "again 10.1234/abc, ISBN 978-0-262-03384-8 and arxiv.org/abs/1605.08386"
    )
    assert find_identifiers(text) == [isbn(CLRS), arxiv("1605.08386"), doi("10.1234/ABC")]


def test_a_reference_list_gives_each_identifier() -> None:
    text = """References
[1] J. Smith and A. Jones. Deep things. Nature 521, 436-444 (2015).
    https://doi.org/10.1038/nature14539.
[2] K. He et al. Identity mappings. arXiv:1603.05027v3, 2016.
[3] T. Cormen et al. Introduction to Algorithms, 3rd ed. MIT Press, 2009. ISBN 978-0-262-03384-8.
[4] E. Witten. Anti de Sitter space and holography (hep-th/9802150), 1998.
[5] R. Fisher. Statistics (doi: 10.1111/j.1469-1809.1936.tb02137.x). Page 179.
"""
    assert find_identifiers(text) == [
        doi("10.1038/nature14539"),
        arxiv("1603.05027v3"),
        isbn(CLRS),
        arxiv("hep-th/9802150"),
        doi("10.1111/j.1469-1809.1936.tb02137.x"),
    ]


def test_a_bibtex_file_gives_its_fields_identifiers() -> None:
    text = """@article{lecun2015,
  title = {Deep learning},
  doi = {10.1038/nature14539},
  url = {https://doi.org/10.1038/nature14539},
  year = 2015,
}
@misc{he2016,
  eprint = {1603.05027},
  archivePrefix = {arXiv},
  primaryClass = {cs.CV},
  number = {2019.12345},
}
@book{clrs,
  isbn = {0-262-03384-4},
  pages = {1292},
}
"""
    assert find_identifiers(text) == [
        doi("10.1038/nature14539"),
        arxiv("1603.05027"),
        isbn(CLRS),
    ]


def test_an_email_with_a_doi_link_ending_a_sentence() -> None:
    text = (
        "Hi Ana,\n\nthe paper we talked about is at https://doi.org/10.1126/science.169.3946.635."
        " Call me on 0262033844 if the link breaks!\n\nBest,\nBo\n"
    )
    assert find_identifiers(text) == [doi("10.1126/science.169.3946.635")]


def test_a_web_page_gives_its_links_identifiers() -> None:
    text = (
        '<p><a href="https://doi.org/10.1002/andp.19053220607">DOI</a> '
        '<a href="https://arxiv.org/abs/2104.12255v1">arXiv</a></p>'
    )
    assert find_identifiers(text) == [doi("10.1002/andp.19053220607"), arxiv("2104.12255v1")]


def test_text_with_a_case_changing_letter_still_finds_labels() -> None:
    # "İ".lower() is two characters, so offsets of a lowercased copy would drift.
    assert find_identifiers("İİİ ISBN 0262033844 İ arXiv:1605.08386") == [
        isbn(CLRS),
        arxiv("1605.08386"),
    ]


@pytest.mark.parametrize(
    "unit",
    [
        "10.1/(((((",
        "10.1234/(((((",
        "10.1234/)))))",
        "10.1234/<<<<<",
        "10.1234/<a<a<a",
        "10.1234/a.",
        "arXiv:",
        "arxiv.org/abs/",
        "eprint = {",
        "hep-th/",
        "/1234567",
        "ISBN 1-1-1-1-",
    ],
)
def test_pathological_input_is_read_quickly(unit: str) -> None:
    text = unit * (100_000 // len(unit))
    start = time.perf_counter()
    find_identifiers(text)
    parse_identifier(text)
    assert time.perf_counter() - start < 1.0


def test_a_megabyte_of_text_is_read_quickly() -> None:
    # A long reference list: prose with numbers that are not ids, and one id per reference.
    references = [
        f"[{i}] A. Author. On 2019.{i:05d} things, pp. 10.5-12, tel. 0262033844. "
        f"Journal {i % 97}. {ident}\n"
        for i, ident in enumerate(
            [f"doi:10.{1000 + n}/x{n}." for n in range(3000)]
            + [f"arXiv:1605.{n:05d}v2" for n in range(1000)]
            + [f"hep-th/99010{n:02d}" for n in range(100)]
            + ["ISBN 978-0-262-03384-8"] * 100
        )
    ]
    prose = "Some words about 12.5% of the 1605.08386 samples (see Table 3), cf. isbn list. " * 6
    text = "".join(line + prose for line in references)[:1_000_000]
    start = time.perf_counter()
    found = find_identifiers(text)
    assert time.perf_counter() - start < 0.1
    assert len(found) > 1500
