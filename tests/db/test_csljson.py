"""CSL-JSON in and out (db/csljson.py), through a real library in tmp_path."""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path

import pytest

from citedesk.db import Library
from citedesk.db.csljson import month_number
from citedesk.db.derive import field_map, text_of
from citedesk.db.names import parse_names

SHARED = Path(__file__).resolve().parents[3] / "shared"
DATA = Path(__file__).resolve().parents[1] / "data"
NAME_FIELDS = ("author", "editor", "translator")

# As Zotero 7 writes it (File > Export Library > CSL JSON), a journal article and a chapter.
ZOTERO = """[
  {
    "id": "http://zotero.org/users/1234567/items/ABCD2345",
    "type": "article-journal",
    "title": "Deep learning",
    "container-title": "Nature",
    "page": "436-444",
    "volume": "521",
    "issue": "7553",
    "source": "www.nature.com",
    "abstract": "Deep learning allows computational models <i>to learn</i> representations.",
    "DOI": "10.1038/nature14539",
    "ISSN": "1476-4687",
    "language": "en",
    "note": "Number: 7553\\nPublisher: Nature Publishing Group",
    "author": [
      {"family": "LeCun", "given": "Yann"},
      {"family": "Bengio", "given": "Yoshua"},
      {"family": "Hinton", "given": "Geoffrey"}
    ],
    "issued": {"date-parts": [["2015", 5, 28]]},
    "accessed": {"date-parts": [[2024, 1, 9]]}
  },
  {
    "id": "vanderaalst2016",
    "type": "chapter",
    "title": "Process Mining & Data Science",
    "container-title": "Process Mining",
    "publisher": "Springer",
    "publisher-place": "Berlin, Heidelberg",
    "page": "3–23",
    "ISBN": "978-3-662-49851-4",
    "author": [{"family": "Aalst", "given": "Wil", "non-dropping-particle": "van der"}],
    "editor": [{"literal": "World Health Organization"}],
    "issued": {"date-parts": [[2016]]}
  }
]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def fields_of(lib: Library, key: str) -> dict[str, str]:
    paper = lib.paper_by_key(key)
    return {n: text_of(v, lib.macros()) for n, v in field_map(paper.fields).items()}


def test_zotero_items_become_entries_with_their_fields(empty_lib: Library, tmp_path: Path) -> None:
    report = empty_lib.import_files([write(tmp_path, "zotero.json", ZOTERO)])
    assert report.summary() == "2 added, 0 duplicates, 0 failed"
    # A Zotero URI is no citation key: one is made by the library's pattern.
    article = next(k for k in report.added if k != "vanderaalst2016")
    f = fields_of(empty_lib, article)
    assert f["journal"] == "Nature"
    assert f["author"] == "LeCun, Yann and Bengio, Yoshua and Hinton, Geoffrey"
    assert (f["year"], f["month"], f["date"]) == ("2015", "May", "2015-05-28")
    assert (f["volume"], f["number"], f["pages"]) == ("521", "7553", "436–444")
    assert f["doi"] == "10.1038/nature14539" and f["issn"] == "1476-4687"
    assert f["abstract"].endswith("models to learn representations.")
    assert f["urldate"] == "2024-01-09"
    assert empty_lib.paper_by_key(article).entry_type == "article"


def test_chapter_keeps_particle_literal_editor_and_escapes_latex(
    empty_lib: Library, tmp_path: Path
) -> None:
    empty_lib.import_files([write(tmp_path, "zotero.json", ZOTERO)])
    paper = empty_lib.paper_by_key("vanderaalst2016")
    raw = field_map(paper.fields)
    assert raw["title"] == r"{Process Mining \& Data Science}"
    assert raw["pages"] == "{3--23}"
    people = parse_names(raw["author"][1:-1])
    assert (people[0].prefix, people[0].family, people[0].given) == ("van der", "Aalst", "Wil")
    assert parse_names(raw["editor"][1:-1])[0].display == "World Health Organization"
    assert raw["booktitle"] == "{Process Mining}" and raw["address"] == "{Berlin, Heidelberg}"
    # A CSL chapter with the book's editors is BibTeX's incollection (without: inbook).
    assert paper.entry_type == "incollection"


def test_malformed_json_names_file_and_line_and_adds_nothing(
    empty_lib: Library, tmp_path: Path
) -> None:
    broken = write(tmp_path, "broken.json", '[\n  {"type": "book", "title": "A"},\n  {"type": }\n]')
    report = empty_lib.import_files([broken])
    assert report.added == [] and empty_lib.count() == 0
    (failure,) = report.failures
    assert (failure.file, failure.line) == (str(broken), 3)
    assert "not valid CSL-JSON" in failure.message


def test_a_record_that_is_not_an_item_is_named_by_index_and_line(
    empty_lib: Library, tmp_path: Path
) -> None:
    path = write(tmp_path, "mixed.json", '[\n  {"type": "book", "title": "Kept"},\n  42\n]\n')
    report = empty_lib.import_files([path])
    assert len(report.added) == 1
    (failure,) = report.failures
    assert failure.line == 3 and "record 2" in failure.message


def test_strict_import_of_a_bad_record_adds_nothing(empty_lib: Library, tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.json", '[{"type": "book", "title": "A"}, "x"]')
    report = empty_lib.import_files([path], strict=True)
    assert report.failures and empty_lib.count() == 0


def test_same_key_twice_is_a_duplicate(empty_lib: Library, tmp_path: Path) -> None:
    path = write(tmp_path, "z.json", ZOTERO)
    empty_lib.import_files([path])
    again = empty_lib.import_files([path])
    assert any(d.startswith("vanderaalst2016 (") and "z.json:" in d for d in again.duplicates)


def crossref_item() -> dict[str, object]:
    recorded = SHARED / "recorded" / "crossref" / "test_content_negotiation_citeproc_json.yaml"
    if not recorded.is_file():
        pytest.skip(f"the recorded Crossref responses are not at {recorded} (beside the repo)")
    text = recorded.read_text(encoding="utf-8")
    # The YAML's body string: base64 of the gzip'd JSON (parsed here: no YAML library needed).
    m = re.search(r"string: !!binary \|\n((?:[ ]{8}\S.*\n)+)", text)
    assert m is not None
    item = json.loads(gzip.decompress(base64.b64decode("".join(m.group(1).split()))))
    assert isinstance(item, dict)
    return item


def test_a_real_crossref_citeproc_record_imports(empty_lib: Library, tmp_path: Path) -> None:
    path = write(tmp_path, "crossref.json", json.dumps(crossref_item()))
    report = empty_lib.import_files([path])
    assert report.ok and len(report.added) == 1
    f = fields_of(empty_lib, report.added[0])
    assert f["title"] == "The Structure of Ordinary Water"
    assert f["journal"] == "Science" and f["author"] == "Frank, Henry S."
    assert (f["year"], f["volume"], f["number"], f["pages"]) == ("1970", "169", "3946", "635–641")
    assert f["doi"] == "10.1126/science.169.3946.635"
    assert "<jats:p>" not in f["abstract"] and f["abstract"].startswith("The train of thought")
    assert empty_lib.paper_by_key(report.added[0]).entry_type == "article"


# -- round trip: our own export comes back with the same field values ---------------------------


def values(lib: Library, raw: dict[str, str]) -> dict[str, object]:
    macros = lib.macros()
    out: dict[str, object] = {}
    for name, value in raw.items():
        if name in NAME_FIELDS:
            from citedesk.db.bibvalue import evaluate

            out[name] = [p.display for p in parse_names(evaluate(value, macros))]
        elif name == "month":
            text = text_of(value, macros)
            out[name] = month_number(text) or text
        else:
            out[name] = text_of(value, macros)
    return out


def round_trip(lib: Library, tmp_path: Path, fmt: str, suffix: str) -> tuple[Library, str]:
    text, n = lib.export_other(fmt)
    assert n == lib.count()
    path = write(tmp_path, f"out{suffix}", text)
    back = Library.open(tmp_path / f"back-{fmt}.sqlite", seed=False)
    report = back.import_files([path])
    assert report.ok, report.failures
    assert len(report.added) == n
    return back, text


def assert_same_fields(lib: Library, back: Library, only: set[str] | None = None) -> None:
    for pid in lib.paper_ids():
        paper = lib.paper(pid)
        again = back.paper_by_key(paper.key)
        before = values(lib, field_map(paper.fields))
        after = values(back, field_map(again.fields))
        if only is not None:
            before = {k: v for k, v in before.items() if k in only}
            after = {k: v for k, v in after.items() if k in only}
        assert after == before, paper.key
        if only is None:
            assert again.entry_type == paper.entry_type


def test_seeded_papers_round_trip_through_csl_json(seeded: Library, tmp_path: Path) -> None:
    back, _ = round_trip(seeded, tmp_path, "csl-json", ".json")
    assert_same_fields(seeded, back)
    back.close()


def test_xampl_round_trips_through_csl_json(empty_lib: Library, tmp_path: Path) -> None:
    report = empty_lib.import_files([DATA / "xampl.bib"])
    assert report.added
    back, text = round_trip(empty_lib, tmp_path, "csl-json", ".json")
    # Values come out as text, LaTeX decoded: CSL tools know no TeX.
    assert '"G-Animal\'s Journal"' in text
    assert_same_fields(empty_lib, back)
    back.close()


def test_export_is_csl_that_pandoc_reads(seeded: Library) -> None:
    text, _ = seeded.export_other("csl-json")
    items = json.loads(text)
    assert len(items) == 25
    for item in items:
        assert item["id"] and item["type"] and item["title"]
        assert all("family" in a or "literal" in a for a in item.get("author", []))
