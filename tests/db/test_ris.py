"""RIS in and out (db/ris.py), through a real library in tmp_path."""

from __future__ import annotations

from pathlib import Path

from citedesk.db import Library
from citedesk.db.derive import field_map, text_of

from .test_csljson import DATA, round_trip, values

# As Zotero 7 writes it (Export Library > RIS): tags in its order, HTML notes, access time.
ZOTERO_RIS = """TY  - JOUR
TI  - Deep learning
AU  - LeCun, Yann
AU  - Bengio, Yoshua
AU  - Hinton, Geoffrey
T2  - Nature
AB  - Deep learning allows computational models that are composed of multiple processing
  layers to learn representations of data.
DA  - 2015/05//
PY  - 2015
DO  - 10.1038/nature14539
DP  - www.nature.com
VL  - 521
IS  - 7553
SP  - 436
EP  - 444
LA  - en
SN  - 1476-4687
UR  - https://www.nature.com/articles/nature14539
Y2  - 2024/01/09/10:22:33
KW  - Computer science
KW  - Mathematics and computing
N1  - <p>Read for the seminar</p>
ER  -

""".replace("ER  -\n", "ER  - \n")  # RIS ends a record with "ER  - "

# As EndNote 20 writes it: CRLF line ends, T1/A2, a conference paper and a report.
ENDNOTE_RIS = (
    "TY  - CONF\r\n"
    "AU  - Vaswani, Ashish\r\n"
    "AU  - Shazeer, Noam\r\n"
    "A2  - Guyon, I.\r\n"
    "T1  - Attention is all you need\r\n"
    "T2  - Advances in Neural Information Processing Systems\r\n"
    "PY  - 2017\r\n"
    "SP  - 5998\r\n"
    "EP  - 6008\r\n"
    "CY  - Long Beach, CA\r\n"
    "PB  - Curran Associates\r\n"
    "ID  - vaswani2017attention\r\n"
    "ER  - \r\n"
    "\r\n"
    "TY  - RPRT\r\n"
    "AU  - Knuth, Donald E.\r\n"
    "TI  - The Complexity of Songs\r\n"
    "PB  - Stanford University\r\n"
    "PY  - 1977\r\n"
    "IS  - STAN-CS-77-587\r\n"
    "ER  - \r\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def fields_of(lib: Library, key: str) -> dict[str, str]:
    return {n: text_of(v, lib.macros()) for n, v in field_map(lib.paper_by_key(key).fields).items()}


def test_zotero_ris_becomes_an_article(empty_lib: Library, tmp_path: Path) -> None:
    report = empty_lib.import_files([write(tmp_path, "zotero.ris", ZOTERO_RIS)])
    assert report.summary() == "1 added, 0 duplicates, 0 failed"
    key = report.added[0]
    f = fields_of(empty_lib, key)
    assert empty_lib.paper_by_key(key).entry_type == "article"
    assert f["author"] == "LeCun, Yann and Bengio, Yoshua and Hinton, Geoffrey"
    assert (f["journal"], f["year"], f["month"]) == ("Nature", "2015", "May")
    assert (f["volume"], f["number"], f["pages"]) == ("521", "7553", "436–444")
    assert f["doi"] == "10.1038/nature14539" and f["issn"] == "1476-4687"
    assert f["url"] == "https://www.nature.com/articles/nature14539"
    assert f["keywords"] == "Computer science, Mathematics and computing"
    assert f["note"] == "Read for the seminar"  # Zotero's HTML note, as text
    assert f["urldate"] == "2024-01-09"


def test_endnote_ris_with_crlf_keeps_ids_editors_and_types(
    empty_lib: Library, tmp_path: Path
) -> None:
    report = empty_lib.import_files([write(tmp_path, "endnote.txt", ENDNOTE_RIS)])
    assert report.ok and len(report.added) == 2
    conf = empty_lib.paper_by_key("vaswani2017attention")
    assert conf.entry_type == "inproceedings"
    f = fields_of(empty_lib, "vaswani2017attention")
    assert f["booktitle"] == "Advances in Neural Information Processing Systems"
    assert (f["editor"], f["address"], f["publisher"]) == (
        "Guyon, I.",
        "Long Beach, CA",
        "Curran Associates",
    )
    report_key = next(k for k in report.added if k != "vaswani2017attention")
    assert empty_lib.paper_by_key(report_key).entry_type == "techreport"
    f = fields_of(empty_lib, report_key)
    assert (f["institution"], f["number"]) == ("Stanford University", "STAN-CS-77-587")


def test_a_cut_off_record_is_a_failure_on_its_line_the_rest_imports(
    empty_lib: Library, tmp_path: Path
) -> None:
    text = ZOTERO_RIS + "TY  - BOOK\nTI  - Never finished\nAU  - Doe, Jane\n"
    path = write(tmp_path, "cut.ris", text)
    report = empty_lib.import_files([path])
    assert len(report.added) == 1
    (failure,) = report.failures
    assert failure.file == str(path) and failure.line == ZOTERO_RIS.count("\n") + 1
    assert "no 'ER  - ' line" in failure.message


def test_a_garbled_tag_line_names_its_line_and_strict_adds_nothing(
    empty_lib: Library, tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.ris", ZOTERO_RIS.replace("VL  - 521", "VL - 521"))
    report = empty_lib.import_files([path], strict=True)
    assert empty_lib.count() == 0
    (failure,) = report.failures
    assert failure.line == ZOTERO_RIS.splitlines().index("VL  - 521") + 1
    assert "VL - 521" in failure.message


def test_importing_the_same_ris_again_reports_duplicates(
    empty_lib: Library, tmp_path: Path
) -> None:
    path = write(tmp_path, "endnote.ris", ENDNOTE_RIS)
    empty_lib.import_files([path])
    again = empty_lib.import_files([path])
    assert any(d.startswith("vaswani2017attention (") for d in again.duplicates)
    assert "endnote.ris:1" in again.duplicates[0]


#: What RIS carries of a BibTeX entry, whatever its type (the rest: see db/ris.py).
RIS_FIELDS = {
    "author",
    "editor",
    "title",
    "year",
    "month",
    "volume",
    "pages",
    "doi",
    "url",
    "abstract",
    "keywords",
    "note",
    "address",
    "edition",
}


def assert_ris_fields(lib: Library, back: Library) -> None:
    for pid in lib.paper_ids():
        paper = lib.paper(pid)
        before = values(lib, field_map(paper.fields))
        after = values(back, field_map(back.paper_by_key(paper.key).fields))
        # A year or month RIS cannot hold (xampl's "{\noopsort{1973b}}1973", "10~" # jan)
        # comes back as the number it starts with, or not at all.
        # The container is T2: a journal's for an article, a book's for a part of one.
        container = {"article": "journal", "inproceedings": "booktitle"}.get(
            paper.entry_type, "booktitle" if paper.entry_type.startswith("in") else ""
        )
        carried = {
            k: v
            for k, v in before.items()
            if (k in RIS_FIELDS or k == container)
            and not (k == "year" and not str(v).isdigit())
            and not (k == "month" and not isinstance(v, int))
        }
        assert {k: v for k, v in after.items() if k in carried} == carried, paper.key


def test_seeded_papers_round_trip_through_ris(seeded: Library, tmp_path: Path) -> None:
    back, text = round_trip(seeded, tmp_path, "ris", ".ris")
    assert text.count("\nER  - ") == 25
    assert_ris_fields(seeded, back)
    back.close()


def test_xampl_round_trips_through_ris(empty_lib: Library, tmp_path: Path) -> None:
    empty_lib.import_files([DATA / "xampl.bib"])
    back, _ = round_trip(empty_lib, tmp_path, "ris", ".ris")
    assert_ris_fields(empty_lib, back)
    back.close()
