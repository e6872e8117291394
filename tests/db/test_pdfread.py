"""db.pdfread: text by page, metadata, identifiers and annotations of real PDF files."""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from citedesk.db.pdfread import (
    Annotation,
    PdfInfo,
    PdfProblem,
    annotations,
    annotations_markdown,
    extract,
    find_arxiv,
    find_doi,
    find_isbn,
    merge_annotation_note,
    page_texts,
    pdf_info,
)


@pytest.fixture
def blank_pdf(tmp_path: Path) -> Path:
    """A PDF of two pages and no text at all, as a scan without OCR would be."""
    doc = pdfium.PdfDocument.new()
    doc.new_page(595, 842).close()
    doc.new_page(595, 842).close()
    path = tmp_path / "scan.pdf"
    doc.save(path)
    doc.close()
    return path


def _problem(path: Path) -> PdfProblem:
    with pytest.raises(PdfProblem) as caught:
        page_texts(path)
    return caught.value


# --- page_texts ----------------------------------------------------------------------------


def test_page_texts_gives_each_page_in_order(pdfs: Path) -> None:
    texts = page_texts(pdfs / "pdflatex-4-pages.pdf")
    assert len(texts) == 4
    assert texts[0].startswith("Hello, here is some text without a meaning.")
    assert texts[1].startswith("information. Really? Is there no information?")
    assert texts[2].startswith("you information about the selected font")
    assert texts[3].startswith("in of the original language.")
    # Each page ends with its printed page number.
    assert [t.rstrip().splitlines()[-1] for t in texts] == ["1", "2", "3", "4"]


def test_page_texts_are_normalised(pdfs: Path) -> None:
    texts = page_texts(pdfs / "arxiv-1111.2011v2.pdf")
    assert len(texts) == 8
    joined = "".join(texts)
    assert "\r" not in joined and "\ufffe" not in joined and "\x02" not in joined
    # "approximat-" / "ing" at a line end is one word again.
    assert "approximating a superconductor" in texts[0]


def test_right_to_left_text_is_read(pdfs: Path) -> None:
    (text,) = page_texts(pdfs / "habibi.pdf")
    assert "habibi" in text
    assert "\u064a" in text  # Arabic yeh


def test_page_texts_closes_what_it_opens(pdfs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every document, page and text page is closed at once, not left to the collector."""
    counts = {"opened": 0, "closed": 0}
    for cls in (pdfium.PdfDocument, pdfium.PdfPage, pdfium.PdfTextPage):
        original_init, original_close = cls.__init__, cls.close

        def init(self, *args, _init=original_init, **kwargs):  # type: ignore[no-untyped-def]
            counts["opened"] += 1
            _init(self, *args, **kwargs)

        def close(self, *args, _close=original_close, **kwargs):  # type: ignore[no-untyped-def]
            if self.raw is not None:
                counts["closed"] += 1
            return _close(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", init)
        monkeypatch.setattr(cls, "close", close)
    for _ in range(3):
        page_texts(pdfs / "pdflatex-4-pages.pdf")
    assert counts["opened"] == 3 * (1 + 4 + 4)
    assert counts["closed"] == counts["opened"]


# --- Problems ------------------------------------------------------------------------------


def test_an_encrypted_pdf_is_a_problem_not_a_crash(pdfs: Path) -> None:
    problem = _problem(pdfs / "libreoffice-writer-password.pdf")
    assert problem.kind == "encrypted"
    assert str(problem) == "is encrypted: it needs a password"


def test_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    problem = _problem(path)
    assert (problem.kind, str(problem)) == ("empty", "is empty (0 bytes)")


def test_a_file_that_is_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "paper.pdf"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00 a zip file really")
    problem = _problem(path)
    assert problem.kind == "not-pdf"
    assert str(problem) == r"is not a PDF (it starts with 'PK\x03\x04\x14\x00\x00\x00')"


def test_a_truncated_pdf_is_damaged(pdfs: Path, tmp_path: Path) -> None:
    data = (pdfs / "arxiv-1111.2011v2.pdf").read_bytes()
    path = tmp_path / "half.pdf"
    path.write_bytes(data[: len(data) // 2])
    problem = _problem(path)
    assert problem.kind == "damaged"
    assert str(problem).startswith("is damaged: ")
    assert len(str(problem)) > len("is damaged: ")


def test_a_missing_file(tmp_path: Path) -> None:
    problem = _problem(tmp_path / "gone.pdf")
    assert problem.kind == "missing"


def test_a_pdf_without_text_is_a_scan(blank_pdf: Path) -> None:
    problem = _problem(blank_pdf)
    assert problem.kind == "no-text"
    assert str(problem) == "has no text layer (a scan?): 2 pages, no text"


def test_extract_reports_instead_of_raising(pdfs: Path, blank_pdf: Path) -> None:
    good = str(pdfs / "minimal-document.pdf")
    path, pages, kind, message = extract(good)
    assert path == good and pages is not None and len(pages) == 1
    assert (kind, message) == (None, None)
    assert extract(str(blank_pdf))[1:3] == (None, "no-text")
    assert extract(str(pdfs / "libreoffice-writer-password.pdf"))[1:] == (
        None,
        "encrypted",
        "is encrypted: it needs a password",
    )


def test_extract_can_go_to_a_process_pool() -> None:
    assert pickle.loads(pickle.dumps(extract)) is extract
    copy = pickle.loads(pickle.dumps(PdfProblem("damaged", "is damaged: x")))
    assert (copy.kind, str(copy)) == ("damaged", "is damaged: x")


# --- pdf_info ------------------------------------------------------------------------------


def test_an_arxiv_paper_gives_its_id_and_title(pdfs: Path) -> None:
    info = pdf_info(pdfs / "arxiv-1111.2011v2.pdf")
    assert info.arxiv == "1111.2011"
    assert info.arxiv_version == 2
    assert info.pages == 8
    assert info.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert info.year == 2012  # CreationDate, and the stamp's "2 Apr 2012"
    assert info.doi is None and info.isbn is None


def test_xmp_metadata_gives_title_and_author(pdfs: Path) -> None:
    info = pdf_info(pdfs / "output_with_metadata_pymupdf.pdf")
    assert info.title == "Sample PDF with XMP Metadata"
    assert info.authors == ("John Doe",)
    assert info.year == 1990  # dc:date 1990-04-28
    assert info.subject == "This is a text"


XMP = b"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/"
  xmlns:xmp="http://ns.adobe.com/xap/1.0/" prism:doi="10.1234/abc.5678" xmp:CreateDate="2021-05-06">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Compressed Title</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>Jane Q. Doe</rdf:li><rdf:li>Smith, John</rdf:li></rdf:Seq></dc:creator>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="r"?>"""


def test_compressed_xmp_is_read_and_wins_over_the_info(tmp_path: Path) -> None:
    path = _pdf_with_info(tmp_path / "x.pdf", {"Title": "Info Title", "Author": "Nobody"}, xmp=XMP)
    info = pdf_info(path)
    assert (info.title, info.authors, info.doi, info.year) == (
        "Compressed Title",
        ("Jane Q. Doe", "Smith, John"),
        "10.1234/abc.5678",
        2021,
    )


def test_document_info_gives_title(pdfs: Path) -> None:
    info = pdf_info(pdfs / "annotated_pdf.pdf")
    assert info == PdfInfo(title="Annotated PDF", year=1990, pages=1)


def test_title_guessed_from_large_type(pdfs: Path) -> None:
    assert pdf_info(pdfs / "multicolumn.pdf").title == "Two-Column Document with Lorem Ipsum"


def test_body_text_is_no_title(pdfs: Path) -> None:
    assert pdf_info(pdfs / "pdflatex-4-pages.pdf").title == ""


def test_pdf_info_of_an_encrypted_pdf(pdfs: Path) -> None:
    with pytest.raises(PdfProblem) as caught:
        pdf_info(pdfs / "libreoffice-writer-password.pdf")
    assert caught.value.kind == "encrypted"


def _pdf_with_info(
    path: Path, info: dict[str, str], text: str = "", xmp: bytes | None = None
) -> Path:
    """A one-page PDF with this information dictionary, written by hand, and this XMP
    packet in a compressed metadata stream."""
    entries = "".join(f"/{k} ({v})" for k, v in info.items())
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode() if text else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< {entries} >>".encode("latin-1"),
    ]
    if xmp is not None:
        packed = zlib.compress(xmp)
        objects[0] = b"<< /Type /Catalog /Pages 2 0 R /Metadata 7 0 R >>"
        objects.append(
            b"<< /Type /Metadata /Subtype /XML /Filter /FlateDecode /Length %d >>\nstream\n"
            % len(packed)
            + packed
            + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def test_junk_titles_are_dropped(tmp_path: Path) -> None:
    for junk in ("Microsoft Word - draft3.docx", "untitled", "Untitled-1", "paper", ""):
        path = _pdf_with_info(tmp_path / "paper.pdf", {"Title": junk})
        assert pdf_info(path).title == "", junk


def test_author_lists_are_split_into_people(tmp_path: Path) -> None:
    cases = {
        "Jane Q. Doe; John Smith": ("Jane Q. Doe", "John Smith"),
        "Jane Q. Doe, John Smith, and Ann Lee": ("Jane Q. Doe", "John Smith", "Ann Lee"),
        "Jane Doe and John Smith": ("Jane Doe", "John Smith"),
        "Doe, Jane": ("Doe, Jane",),
        "Doe, J. and Smith, K.": ("Doe, J.", "Smith, K."),
        "Administrator": (),
    }
    for written, people in cases.items():
        path = _pdf_with_info(tmp_path / "a.pdf", {"Author": written})
        assert pdf_info(path).authors == people, written


def test_identifiers_come_from_the_text(tmp_path: Path) -> None:
    path = _pdf_with_info(
        tmp_path / "book.pdf",
        {"Title": "A Book", "CreationDate": "D:20190101"},
        "ISBN 978-3-16-148410-0 doi:10.1000/xyz123.",
    )
    info = pdf_info(path)
    assert (info.title, info.year, info.isbn, info.doi) == (
        "A Book",
        2019,
        "9783161484100",
        "10.1000/xyz123",
    )


# --- Identifiers in text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "doi"),
    [
        ("See doi:10.1103/PhysRevB.84.024201.", "10.1103/PhysRevB.84.024201"),
        ("(https://doi.org/10.1000/xyz123), later", "10.1000/xyz123"),
        # Angle brackets end a DOI in free text.
        (
            "DOI: 10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI5>3.0.CO;2-O",
            "10.1002/(SICI)1097-4571(199806)49:8",
        ),
        ("http://dx.doi.org/10.1007%2F978-3-540-74958-5_14;", "10.1007/978-3-540-74958-5_14"),
        (
            "doi 10.1002/(SICI)1097-0258(19980815)17:15 appears",
            "10.1002/(SICI)1097-0258(19980815)17:15",
        ),
        ("no identifier here, 10.5 percent", None),
    ],
)
def test_find_doi(text: str, doi: str | None) -> None:
    assert find_doi(text) == doi


@pytest.mark.parametrize(
    ("text", "arxiv"),
    [
        ("a onearXiv:1111.2011v2 [cond-mat.str-el] 2 Apr 2012", "1111.2011v2"),
        ("see https://arxiv.org/abs/2101.00001v3.", "2101.00001v3"),
        ("as in [3] arXiv:0704.0001, and", "0704.0001"),
        ("Preprint hep-th/9901001", "hep-th/9901001"),
        ("arxiv.org/pdf/math.AG/0601001v1", "math.AG/0601001v1"),
        ("cites arXiv:0801.1234 but is arXiv:1501.00002 [hep-th] 1 Jan 2015", "1501.00002"),
        ("version 1111.2011 alone", None),
    ],
)
def test_find_arxiv(text: str, arxiv: str | None) -> None:
    assert find_arxiv(text) == arxiv


@pytest.mark.parametrize(
    ("text", "isbn"),
    [
        ("ISBN 978-3-16-148410-0.", "9783161484100"),
        ("ISBN-10: 0-306-40615-2, paperback", "0306406152"),
        ("ISBN 0-8044-2957-X", "080442957X"),
        ("Printed 978 3 16 148410 0", "9783161484100"),
        ("ISBN 978-3-16-148410-1", None),  # wrong check digit
        ("ISBN 0-306-40615-3", None),
        ("call 555-0100", None),
    ],
)
def test_find_isbn(text: str, isbn: str | None) -> None:
    assert find_isbn(text) == isbn


# --- Annotations ---------------------------------------------------------------------------


def test_annotations_of_a_real_pdf(pdfs: Path) -> None:
    assert annotations(pdfs / "annotated_pdf.pdf") == [
        Annotation(1, "note", "", "This is a text annotation."),
        Annotation(1, "highlight", "Line 1 Line 2", "Highlight comment", color="#ffff00"),
        Annotation(1, "ink", "", "Hello world!", author="Lucas", color="#ffff00"),
    ]


def test_links_and_attachments_are_no_annotations(pdfs: Path) -> None:
    assert annotations(pdfs / "pdflatex-outline.pdf") == []
    assert annotations(pdfs / "with-attachment.pdf") == []


def test_annotations_of_an_encrypted_pdf(pdfs: Path) -> None:
    with pytest.raises(PdfProblem) as caught:
        annotations(pdfs / "libreoffice-writer-password.pdf")
    assert caught.value.kind == "encrypted"


MARKS = [
    Annotation(3, "highlight", "the  highlighted\ntext", "I doubt it\nsecond thought"),
    Annotation(5, "note", "", "a sticky note"),
    Annotation(6, "ink", "", ""),
    Annotation(7, "underline", "", "underlined, text unknown"),
]


def test_annotations_markdown() -> None:
    assert annotations_markdown("paper.pdf", MARKS) == (
        "## Annotations from paper.pdf\n"
        "\n"
        "- p. 3: “the highlighted text” — I doubt it\n"
        "  second thought\n"
        "- p. 5: a sticky note\n"
        "- p. 6 (ink)\n"
        "- p. 7 (underline): underlined, text unknown\n"
    )


def test_annotations_markdown_of_nothing() -> None:
    assert annotations_markdown("a.pdf", []) == "## Annotations from a.pdf\n\n"


# --- merge_annotation_note -----------------------------------------------------------------

OLD = "## Annotations from a.pdf\n\n- p. 1: > alpha\n  comment on alpha\n- p. 2: > beta\n"


def test_an_untouched_note_is_replaced() -> None:
    new = "## Annotations from a.pdf\n\n- p. 2: > beta\n"
    assert merge_annotation_note(OLD, OLD, new) == new


def test_user_lines_are_kept_in_place() -> None:
    current = OLD.replace("- p. 2: > beta\n", "my own thought\n- p. 2: > beta\nthe end\n")
    new = OLD.replace("- p. 2: > beta\n", "- p. 2: > beta\n- p. 4: > delta\n")
    assert merge_annotation_note(OLD, current, new) == (
        "## Annotations from a.pdf\n\n- p. 1: > alpha\n  comment on alpha\nmy own thought\n"
        "- p. 2: > beta\n- p. 4: > delta\nthe end\n"
    )


def test_a_removed_annotation_goes_unless_edited() -> None:
    new = "## Annotations from a.pdf\n\n- p. 2: > beta\n"
    current = OLD + "user note\n"
    assert merge_annotation_note(OLD, current, new) == (
        "## Annotations from a.pdf\n\n- p. 2: > beta\nuser note\n"
    )
    edited = OLD.replace("comment on alpha", "comment on alpha, which I disagree with")
    assert merge_annotation_note(OLD, edited, new) == (
        "## Annotations from a.pdf\n\n  comment on alpha, which I disagree with\n- p. 2: > beta\n"
    )


def test_a_new_annotation_goes_where_it_belongs() -> None:
    current = OLD.replace("  comment on alpha\n", "  comment on alpha\n  and mine\n")
    new = OLD.replace("- p. 2: > beta\n", "- p. 1: > gamma\n- p. 2: > beta\n")
    assert merge_annotation_note(OLD, current, new) == (
        "## Annotations from a.pdf\n\n- p. 1: > alpha\n  comment on alpha\n  and mine\n"
        "- p. 1: > gamma\n- p. 2: > beta\n"
    )


def test_a_new_annotation_at_the_end_follows_its_item() -> None:
    current = OLD + "  my comment on beta\n\nMy summary.\n"
    new = OLD + "- p. 9: > omega\n"
    assert merge_annotation_note(OLD, current, new) == (
        OLD + "  my comment on beta\n- p. 9: > omega\n\nMy summary.\n"
    )


def test_merge_never_drops_a_user_line() -> None:
    current = "my title\n" + OLD + "closing words\n"
    merged = merge_annotation_note(OLD, current, "## Annotations from a.pdf\n\n")
    assert merged == "my title\n## Annotations from a.pdf\n\nclosing words\n"


def test_merge_into_a_note_with_no_generated_part() -> None:
    assert merge_annotation_note("", "mine\n", "- p. 1: > a\n") == "mine\n- p. 1: > a\n"
