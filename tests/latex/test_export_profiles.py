"""Export profiles: BibTeX (ASCII) and BibLaTeX (UTF-8) dialects, exclusions, protections."""

from __future__ import annotations

from pathlib import Path

import pytest

from citedesk.db import Library, LibraryError
from citedesk.db.bibtex import parse_text
from citedesk.db.export import ExportProfile, escape_specials, protect_capitals

DATA = Path(__file__).resolve().parents[1] / "data"


def _entry(text: str, key: str) -> dict[str, str]:
    entries = {e.key: e for e in parse_text(text).entries}
    return {n.lower(): v for n, v in entries[key].fields}


@pytest.fixture
def lib(empty_lib: Library) -> Library:
    empty_lib.import_text(
        "@online{unicode, author = {Gödel, Kurt and Erdős, Paul}, title = {Über LLMs and "
        "{BERT}: ImageNet at 50% & more}, date = {2021-03-04}, pages = {1-10},"
        " abstract = {long}, keywords = {a, b}, file = {x.pdf}, url = {https://x.org/a_b}}\n"
    )
    return empty_lib


def test_bibtex_dialect_is_ascii_with_latex_accents(lib: Library) -> None:
    text, _ = lib.export_text(profile=lib.profile(dialect="bibtex"))
    assert text.isascii()
    fields = _entry(text, "unicode")
    assert fields["author"] == '{G{\\"o}del, Kurt and Erd{\\H{o}}s, Paul}'
    assert text.startswith("@misc{unicode,")  # biblatex @online is @misc for BibTeX


def test_bibtex_dialect_maps_date_to_year_and_month(lib: Library) -> None:
    fields = _entry(lib.export_text(profile=lib.profile(dialect="bibtex"))[0], "unicode")
    assert (fields["year"], fields["month"]) == ("{2021}", "mar")


def test_biblatex_dialect_keeps_utf8(lib: Library) -> None:
    text, _ = lib.export_text(profile=lib.profile(dialect="biblatex"))
    assert "Gödel" in text and text.startswith("@online{unicode,")


def test_profile_leaves_out_fields_and_fixes_pages_and_specials(lib: Library) -> None:
    fields = _entry(lib.export_text(profile=lib.profile(dialect="biblatex"))[0], "unicode")
    assert not {"abstract", "keywords", "file"} & set(fields)
    assert fields["pages"] == "{1--10}"
    assert fields["title"] == "{Über {LLMs} and {BERT}: {ImageNet} at 50\\% \\& more}"
    assert fields["url"] == "{https://x.org/a_b}"


def test_saved_profile_is_used_by_name(lib: Library) -> None:
    lib.save_profile(
        ExportProfile(
            "thesis", "bibtex", exclude=("file",), protect_capitals=False, page_dashes=False
        )
    )
    fields = _entry(lib.export_text(profile=lib.profile("thesis"))[0], "unicode")
    assert fields["abstract"] == "{long}" and fields["pages"] == "{1-10}"
    assert "thesis" in lib.profile_names()
    lib.remove_profile("thesis")
    with pytest.raises(LibraryError, match="no export profile named 'thesis'"):
        lib.profile("thesis")


def test_entry_a_profile_does_not_change_is_written_as_it_came(empty_lib: Library) -> None:
    src = "@article{plain,\n    title = {plain words},\n    year = 2000\n}"
    empty_lib.import_text(src)
    text, _ = empty_lib.export_text(profile=empty_lib.profile(dialect="bibtex"))
    assert src in text


def test_capitals_are_braced_once() -> None:
    assert protect_capitals("The {LLM} and LLM in Q-YOLO") == "The {LLM} and {LLM} in {Q-YOLO}"
    assert protect_capitals("$O(N)$ with \\textbf{GPU}") == "$O(N)$ with \\textbf{GPU}"


def test_specials_escaped_outside_math_and_urls() -> None:
    assert (
        escape_specials("a & b_c 5% #1 $x_1$ \\url{a_b%}")
        == "a \\& b\\_c 5\\% \\#1 $x_1$ \\url{a_b%}"
    )
    assert escape_specials("costs $5") == "costs \\$5"


def test_string_macros_stay_macros_in_profiles(empty_lib: Library) -> None:
    empty_lib.import_files([DATA / "tricky.bib"])
    text, _ = empty_lib.export_text(profile=empty_lib.profile(dialect="bibtex"))
    assert '@string{cacm = "Communications of the " # acm}' in text
    assert (
        "journal = cacm" in text
        or "journal      = cacm" in text
        or _entry(text, "Muller2020")["journal"] == "cacm"
    )


def test_crossref_parent_comes_after_its_children(empty_lib: Library) -> None:
    empty_lib.import_text(
        "@proceedings{parent, title={P}, year=1999}\n"
        "@inproceedings{child, title={C}, crossref={parent}}\n"
    )
    text, _ = empty_lib.export_text(profile=empty_lib.profile(dialect="bibtex"))
    assert text.index("@inproceedings{child") < text.index("@proceedings{parent")
