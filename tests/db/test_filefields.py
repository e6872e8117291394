"""db.filefields: the attachments JabRef, Zotero, Mendeley and BibDesk name in a .bib file."""

from __future__ import annotations

import base64
import plistlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citedesk.db.filefields import (
    FileRef,
    file_refs,
    parse_bdsk_file,
    parse_file_field,
    resolve,
)

# --- JabRef ------------------------------------------------------------------------------


def test_jabref_triplet() -> None:
    assert parse_file_field("Full text:papers/a.pdf:PDF") == [
        FileRef("papers/a.pdf", "Full text", "PDF")
    ]


def test_jabref_empty_description_and_type() -> None:
    assert parse_file_field(":a.pdf:") == [FileRef("a.pdf")]


def test_jabref_several_files() -> None:
    assert parse_file_field(":a.pdf:PDF;Notes:b.txt:Text") == [
        FileRef("a.pdf", "", "PDF"),
        FileRef("b.txt", "Notes", "Text"),
    ]


def test_jabref_escaped_colon_and_semicolon() -> None:
    assert parse_file_field(r"A\: b\; c:x\;y\:z.pdf:PDF") == [
        FileRef("x;y:z.pdf", "A: b; c", "PDF")
    ]


def test_jabref_escaped_backslash() -> None:
    assert parse_file_field(r":dir\\a.pdf:PDF") == [FileRef("dir\\a.pdf", "", "PDF")]


def test_jabref_escaped_windows_path() -> None:
    assert parse_file_field(r":C\:\\papers\\a.pdf:PDF") == [FileRef(r"C:\papers\a.pdf", "", "PDF")]


def test_jabref_unescaped_windows_path_of_older_versions() -> None:
    assert parse_file_field(r":C:\papers\a.pdf:PDF") == [FileRef(r"C:\papers\a.pdf", "", "PDF")]


def test_unescaped_windows_path_keeps_backslash_before_punctuation() -> None:
    assert parse_file_field(r":C:\papers\_old\a.pdf:PDF") == [
        FileRef(r"C:\papers\_old\a.pdf", "", "PDF")
    ]


def test_windows_path_with_forward_slashes() -> None:
    assert parse_file_field(":C:/papers/a.pdf:PDF") == [FileRef("C:/papers/a.pdf", "", "PDF")]


def test_unescaped_windows_paths_in_two_records() -> None:
    assert parse_file_field(r":C:\a.pdf:PDF;:D:\b.pdf:PDF") == [
        FileRef(r"C:\a.pdf", "", "PDF"),
        FileRef(r"D:\b.pdf", "", "PDF"),
    ]


def test_description_and_path_without_type() -> None:
    assert parse_file_field("Draft:a.pdf") == [FileRef("a.pdf", "Draft")]


def test_unescaped_url_colon_is_not_a_separator() -> None:
    assert parse_file_field(":http://arxiv.org/pdf/1.pdf:PDF") == [
        FileRef("http://arxiv.org/pdf/1.pdf", "", "PDF")
    ]


def test_extra_unescaped_colons_stay_in_the_path() -> None:
    assert parse_file_field("d:a:b.pdf:PDF") == [FileRef("a:b.pdf", "d", "PDF")]


def test_jabref_source_ignores_latex_marks() -> None:
    assert parse_file_field(r":a{\_}b.pdf:PDF", source="jabref") == [
        FileRef(r"a{_}b.pdf", "", "PDF")
    ]


def test_whitespace_around_parts_is_dropped() -> None:
    assert parse_file_field("  :a.pdf:PDF ;\n  :b.pdf:PDF") == [
        FileRef("a.pdf", "", "PDF"),
        FileRef("b.pdf", "", "PDF"),
    ]


# Real values from JabRef's test files (in /work/shared/bibdata/jabref/jablib/src/test/resources).


def test_real_jabref_windows_path() -> None:
    # org/jabref/util/unlinkedFilesTestBib.bib
    value = (
        r":D\:\\Janosh\\_UNI\\_Eclipse_WS\\Jabref\\pdfTestFolder\\sub2\\sub22\\d1anl2.pdf:PDF;"
        r":D\:\\Janosh\\_UNI\\_Eclipse_WS\\Jabref\\pdfTestFolder\\metaDataPdf.pdf:PDF"
    )
    assert parse_file_field(value) == [
        FileRef(
            r"D:\Janosh\_UNI\_Eclipse_WS\Jabref\pdfTestFolder\sub2\sub22\d1anl2.pdf", "", "PDF"
        ),
        FileRef(r"D:\Janosh\_UNI\_Eclipse_WS\Jabref\pdfTestFolder\metaDataPdf.pdf", "", "PDF"),
    ]


def test_real_jabref_description_and_relative_windows_path() -> None:
    # testbib/testjabref_210as292.bib (file names shortened)
    value = r"Draft:JabRef\\Aziz2009_draft.pdf:PDF;Aziz2009.pdf:JabRef\\Aziz2009.pdf:PDF"
    assert parse_file_field(value) == [
        FileRef(r"JabRef\Aziz2009_draft.pdf", "Draft", "PDF"),
        FileRef(r"JabRef\Aziz2009.pdf", "Aziz2009.pdf", "PDF"),
    ]


def test_real_jabref_escaped_url() -> None:
    # testbib/testjabref.bib
    [ref] = parse_file_field(r":http\://arxiv.org/pdf/quant-ph/0701054v1:PDF")
    assert ref == FileRef("http://arxiv.org/pdf/quant-ph/0701054v1", "", "PDF")
    assert ref.is_url


def test_real_jabref_path_with_spaces_and_umlaut() -> None:
    # org/jabref/bibtexFiles/test.bib
    value = (
        ":/Volumes/iDisk/Freie Universität Berlin/Semester 9/Softwareprozesse/p11-bostrom.pdf:PDF"
    )
    assert parse_file_field(value) == [
        FileRef(
            "/Volumes/iDisk/Freie Universität Berlin/Semester 9/Softwareprozesse/p11-bostrom.pdf",
            "",
            "PDF",
        )
    ]


def test_real_jabref_relative_path() -> None:
    # org/jabref/logic/pseudonymization/Chocolate.bib
    value = ":DownloadedViaJabRef/Corti et al. (2009-03) Cocoa Cardiovascular Health.pdf:PDF"
    assert parse_file_field(value) == [
        FileRef(
            "DownloadedViaJabRef/Corti et al. (2009-03) Cocoa Cardiovascular Health.pdf", "", "PDF"
        )
    ]


def test_real_endnote_file_uri() -> None:
    # org/jabref/logic/importer/fileformat/EndnoteXmlImporterTestArticle.bib
    value = "file://localhost/Users/user/Documents/Bookends/Attachments/Ahmad%20et%20al%202015.pdf"
    [ref] = parse_file_field(value)
    assert ref == FileRef(value)
    assert not ref.is_url
    assert resolve(ref, Path("/elsewhere")) == Path(
        "/Users/user/Documents/Bookends/Attachments/Ahmad et al 2015.pdf"
    )


# --- Zotero and Better BibTeX ------------------------------------------------------------


def test_better_bibtex_bare_paths() -> None:
    assert parse_file_field("/home/x/Zotero/storage/ABC/a.pdf;/home/x/b.pdf") == [
        FileRef("/home/x/Zotero/storage/ABC/a.pdf"),
        FileRef("/home/x/b.pdf"),
    ]


def test_better_bibtex_escapes() -> None:
    # Better BibTeX escapes \ { } : ; in a path with a backslash.
    assert parse_file_field(r"/x/a\;b\:c\{d\}.pdf;C\:\\Users\\x\\e.pdf") == [
        FileRef("/x/a;b:c{d}.pdf"),
        FileRef(r"C:\Users\x\e.pdf"),
    ]


def test_zotero_triplet_with_mime_type() -> None:
    value = "Full Text PDF:/home/x/Zotero/storage/ABC/a.pdf:application/pdf"
    assert parse_file_field(value) == [
        FileRef("/home/x/Zotero/storage/ABC/a.pdf", "Full Text PDF", "application/pdf")
    ]


def test_zotero_escaped_dollar() -> None:
    assert parse_file_field(r"/x/cost \$5.pdf") == [FileRef("/x/cost $5.pdf")]


def test_zotero_source_reads_two_parts_as_one_path() -> None:
    assert parse_file_field("notes:a.pdf", source="zotero") == [FileRef("notes:a.pdf")]


def test_zotero_source_still_reads_triplets() -> None:
    assert parse_file_field("PDF:/x/a.pdf:application/pdf", source="zotero") == [
        FileRef("/x/a.pdf", "PDF", "application/pdf")
    ]


def test_backslash_before_a_letter_stays() -> None:
    # Not an escape any writer makes: a Windows separator left as it was.
    assert parse_file_field(r"papers\a.pdf") == [FileRef(r"papers\a.pdf")]


def test_hand_written_windows_path() -> None:
    assert parse_file_field(r"C:\Users\x\a.pdf") == [FileRef(r"C:\Users\x\a.pdf")]


# --- Mendeley ----------------------------------------------------------------------------


def test_mendeley_windows_path() -> None:
    value = r":C$\backslash$:/Users/x/Documents/Mendeley Desktop/a{\_}b.pdf:pdf"
    assert parse_file_field(value) == [
        FileRef("C:/Users/x/Documents/Mendeley Desktop/a_b.pdf", "", "pdf")
    ]


def test_mendeley_unix_path() -> None:
    value = r":home/x/Mendeley/Smith{\_}2010{\_}On{\&}Off.pdf:pdf"
    assert parse_file_field(value) == [FileRef("home/x/Mendeley/Smith_2010_On&Off.pdf", "", "pdf")]


def test_mendeley_tilde() -> None:
    assert parse_file_field(r":a{\~{}}b.pdf:pdf") == [FileRef("a~b.pdf", "", "pdf")]


def test_mendeley_several_files() -> None:
    value = r":C$\backslash$:/a.pdf:pdf;:C$\backslash$:/b.pdf:pdf"
    assert parse_file_field(value) == [
        FileRef("C:/a.pdf", "", "pdf"),
        FileRef("C:/b.pdf", "", "pdf"),
    ]


def test_mendeley_source_forces_latex_reading() -> None:
    assert parse_file_field(r":a\_{}b.pdf:pdf", source="mendeley") == [
        FileRef("a_b.pdf", "", "pdf")
    ]


# --- Malformed input ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "   ", ";", ";;;", ":", "::", ":::;::"])
def test_empty_values_name_nothing(value: str) -> None:
    assert parse_file_field(value) == []


def test_records_without_path_are_skipped() -> None:
    assert parse_file_field("desc::PDF;:a.pdf:PDF") == [FileRef("a.pdf", "", "PDF")]


def test_trailing_backslash_does_not_raise() -> None:
    assert parse_file_field("a.pdf\\") == [FileRef("a.pdf\\")]


def test_trailing_separator() -> None:
    assert parse_file_field(":a.pdf:PDF;") == [FileRef("a.pdf", "", "PDF")]


def test_real_garbage_value_does_not_raise() -> None:
    # org/jabref/logic/importer/fileformat/MarcXmlParserTestBook.bib: a Java toString()
    value = "ParsedFileField{description='', link='https://example.org/x', fileType='PDF'}"
    assert all(isinstance(ref, FileRef) for ref in parse_file_field(value))


@pytest.mark.parametrize("value", ["\\", "\\\\\\", "C:", "C:\\", "a:\\", "$\\backslash$", "{\\_}"])
def test_odd_values_do_not_raise(value: str) -> None:
    parse_file_field(value)


# --- BibDesk -----------------------------------------------------------------------------

# texlive/examples/biblatex-historian_historian.bib (line 139), as BibDesk wrote it.
REAL_BDSK_FILE = (
    "YnBsaXN0MDDUAQIDBAUIJidUJHRvcFgkb2JqZWN0c1gkdmVyc2lvblkkYXJjaGl2ZXLRBgdUcm9vdIABqAkKFRYX"
    "GyIjVSRudWxs0wsMDQ4RFFpOUy5vYmplY3RzV05TLmtleXNWJGNsYXNzog8QgASABqISE4ACgAOAB1lhbGlhc0Rh"
    "dGFccmVsYXRpdmVQYXRo0hgNGRpXTlMuZGF0YU8RAiwAAAAAAiwAAgAADE1hY2ludG9zaCBIRAAAAAAAAAAAAAAA"
    "AAAAAMgGfdtIKwAAAAhQXB9adXIgUGh5bG9nZW5pZSBkZXIgYXUjODUwNUQucGRmAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAACFBdyC7akQAAAAAAAAAAAAQABAAACSAAAAAAAAAAAAAAAAAAAAAHSGFlY2tlbAAAEAAI"
    "AADIBrYbAAAAEQAIAADILxLRAAAAAQAYAAhQXAAIUCYACE5zAAhKAwAISfYAAJI/AAIAY01hY2ludG9zaCBIRDpV"
    "c2VyczpzZ2xpYm9mZjpEb2N1bWVudHM6fkFyY2hpdmU6SCBvZiBTIG5vdGVzOkhhZWNrZWw6WnVyIFBoeWxvZ2Vu"
    "aWUgZGVyIGF1Izg1MDVELnBkZgAADgBWACoAWgB1AHIAIABQAGgAeQBsAG8AZwBlAG4AaQBlACAAZABlAHIAIABh"
    "AHUAcwB0AHIAYQBsAGkAcwBjAGgAZQBuACAARgBhAHUAbgBhAC4AcABkAGYADwAaAAwATQBhAGMAaQBuAHQAbwBz"
    "AGgAIABIAEQAEgBhVXNlcnMvc2dsaWJvZmYvRG9jdW1lbnRzL35BcmNoaXZlL0ggb2YgUyBub3Rlcy9IYWVja2Vs"
    "L1p1ciBQaHlsb2dlbmllIGRlciBhdXN0cmFsaXNjaGVuIEZhdW5hLnBkZgAAEwABLwAAFQACAA///wAAgAXSHB0e"
    "H1gkY2xhc3Nlc1okY2xhc3NuYW1lox8gIV1OU011dGFibGVEYXRhVk5TRGF0YVhOU09iamVjdF8QVC4uLy4uLy4u"
    "Ly4uL35BcmNoaXZlL0ggb2YgUyBub3Rlcy9IYWVja2VsL1p1ciBQaHlsb2dlbmllIGRlciBhdXN0cmFsaXNjaGVu"
    "IEZhdW5hLnBkZtIcHSQloiUhXE5TRGljdGlvbmFyeRIAAYagXxAPTlNLZXllZEFyY2hpdmVyAAgAEQAWAB8AKAAy"
    "ADUAOgA8AEUASwBSAF0AZQBsAG8AcQBzAHYAeAB6AHwAhgCTAJgAoALQAtIC1wLgAusC7wL9AwQDDQNkA2kDbAN5"
    "A34AAAAAAAACAQAAAAAAAAAoAAAAAAAAAAAAAAAAAAADkA=="
)


def _b64(obj: object) -> str:
    return base64.b64encode(plistlib.dumps(obj, fmt=plistlib.FMT_BINARY)).decode("ascii")


def _keyed_archive(objects: list[object]) -> str:
    """An NSKeyedArchiver archive whose root is ``objects[1]``."""
    return _b64(
        {
            "$archiver": "NSKeyedArchiver",
            "$version": 100000,
            "$top": {"root": plistlib.UID(1)},
            "$objects": objects,
        }
    )


def test_real_bibdesk_file() -> None:
    assert parse_bdsk_file(REAL_BDSK_FILE) == FileRef(
        "../../../../~Archive/H of S notes/Haeckel/Zur Phylogenie der australischen Fauna.pdf"
    )


def test_bibdesk_plain_dictionary() -> None:
    value = _b64({"relativePath": "papers/a.pdf", "bookmark": b"\x00\x01"})
    assert parse_bdsk_file(value) == FileRef("papers/a.pdf")


def test_bibdesk_archive_of_an_object() -> None:
    value = _keyed_archive(
        [
            "$null",
            {"relativePath": plistlib.UID(2), "$class": plistlib.UID(3)},
            "papers/b.pdf",
            {"$classname": "BDSKFile", "$classes": ["BDSKFile", "NSObject"]},
        ]
    )
    assert parse_bdsk_file(value) == FileRef("papers/b.pdf")


def test_bibdesk_archive_of_a_dictionary() -> None:
    value = _keyed_archive(
        [
            "$null",
            {
                "NS.keys": [plistlib.UID(2), plistlib.UID(3)],
                "NS.objects": [plistlib.UID(4), plistlib.UID(5)],
                "$class": plistlib.UID(6),
            },
            "aliasData",
            "relativePath",
            b"alias",
            "c d/e.pdf",
            {"$classname": "NSDictionary", "$classes": ["NSDictionary", "NSObject"]},
        ]
    )
    assert parse_bdsk_file(value) == FileRef("c d/e.pdf")


def test_bibdesk_base64_split_over_lines() -> None:
    value = _b64({"relativePath": "a.pdf"})
    wrapped = "\n\t".join(value[i : i + 20] for i in range(0, len(value), 20))
    assert parse_bdsk_file(wrapped) == FileRef("a.pdf")


def test_bibdesk_xml_plist_is_read_too() -> None:
    value = base64.b64encode(plistlib.dumps({"relativePath": "a.pdf"})).decode()
    assert parse_bdsk_file(value) == FileRef("a.pdf")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64!",
        "YnBsaXN0MDA",  # bad padding
        base64.b64encode(b"not a plist").decode(),
        REAL_BDSK_FILE[:200],  # truncated
        base64.b64encode(base64.b64decode(REAL_BDSK_FILE)[:-40]).decode(),  # bad trailer
    ],
)
def test_bibdesk_bad_data_is_none(value: str) -> None:
    assert parse_bdsk_file(value) is None


def test_bibdesk_without_relative_path_is_none() -> None:
    assert parse_bdsk_file(_b64({"aliasData": b"x"})) is None


def test_bibdesk_non_string_relative_path_is_none() -> None:
    assert parse_bdsk_file(_b64({"relativePath": 3})) is None


def test_bibdesk_plist_that_is_not_a_dictionary_is_none() -> None:
    assert parse_bdsk_file(_b64(["relativePath", "a.pdf"])) is None


def test_bibdesk_archive_with_dangling_uid_is_none() -> None:
    value = _keyed_archive(["$null", {"relativePath": plistlib.UID(9)}])
    assert parse_bdsk_file(value) is None


# --- An entry's fields -------------------------------------------------------------------


def test_file_refs_reads_braced_and_quoted_values() -> None:
    fields = [
        ("title", "{A {B} c}"),
        ("file", "{:a.pdf:PDF}"),
        ("files", '"/x/b.pdf"'),
    ]
    assert file_refs(fields) == [FileRef("a.pdf", "", "PDF"), FileRef("/x/b.pdf")]


def test_file_refs_reads_bibdesk_fields_in_any_case() -> None:
    fields = [
        ("Bdsk-File-1", "{" + _b64({"relativePath": "a.pdf"}) + "}"),
        ("bdsk-file-2", "{" + _b64({"relativePath": "b.pdf"}) + "}"),
        ("Bdsk-Url-1", "{http://example.org}"),
    ]
    assert file_refs(fields) == [FileRef("a.pdf"), FileRef("b.pdf")]


def test_file_refs_real_bibdesk_entry_field() -> None:
    # texlive/examples/biblatex-historian_historian.bib
    [ref] = file_refs([("Bdsk-File-1", "{" + REAL_BDSK_FILE + "}")])
    assert ref.path.endswith("Zur Phylogenie der australischen Fauna.pdf")


def test_file_refs_keeps_a_file_named_twice_once() -> None:
    fields = [("file", "{:a.pdf:PDF}"), ("File", "{:a.pdf:PDF;:b.pdf:PDF}")]
    assert file_refs(fields) == [FileRef("a.pdf", "", "PDF"), FileRef("b.pdf", "", "PDF")]


def test_file_refs_ignores_other_fields() -> None:
    assert file_refs([("pdf", "{a.pdf}"), ("url", "{http://x}"), ("filename", "{a}")]) == []


def test_file_refs_skips_unreadable_bibdesk_field() -> None:
    assert file_refs([("bdsk-file-1", "{garbage}"), ("file", "{a.pdf}")]) == [FileRef("a.pdf")]


def test_file_refs_real_mendeley_like_field_keeps_latex() -> None:
    # The raw value keeps its inner braces, which the Mendeley reading needs.
    fields = [("file", r"{:C$\backslash$:/Users/x/a{\_}b.pdf:pdf}")]
    assert file_refs(fields) == [FileRef("C:/Users/x/a_b.pdf", "", "pdf")]


def test_file_refs_unbalanced_value_does_not_raise() -> None:
    file_refs([("file", "{:a.pdf:PDF"), ("bdsk-file-1", "{")])


# --- Resolving paths ---------------------------------------------------------------------


def test_resolve_relative_path_from_bib_folder(tmp_path: Path) -> None:
    assert resolve(FileRef("papers/a.pdf"), tmp_path) == tmp_path / "papers" / "a.pdf"


def test_resolve_relative_windows_path(tmp_path: Path) -> None:
    assert resolve(FileRef(r"JabRef\a.pdf"), tmp_path) == tmp_path / "JabRef" / "a.pdf"


def test_resolve_bibdesk_parent_folders(tmp_path: Path) -> None:
    ref = FileRef("../pdf/a.pdf")
    assert resolve(ref, tmp_path / "bib") == tmp_path / "bib" / ".." / "pdf" / "a.pdf"


def test_resolve_finds_the_real_file(tmp_path: Path) -> None:
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "a.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "bib").mkdir()
    [ref] = file_refs([("bdsk-file-1", "{" + _b64({"relativePath": "../pdf/a.pdf"}) + "}")])
    assert resolve(ref, tmp_path / "bib").read_bytes() == b"%PDF-1.4"


def test_resolve_absolute_path_unchanged(tmp_path: Path) -> None:
    assert resolve(FileRef("/home/x/a.pdf"), tmp_path) == Path("/home/x/a.pdf")


@pytest.mark.parametrize("path", [r"C:\papers\a.pdf", "C:/papers/a.pdf", r"\\server\share\a.pdf"])
def test_resolve_windows_absolute_path_unchanged(tmp_path: Path, path: str) -> None:
    assert resolve(FileRef(path), tmp_path) == Path(path)


def test_resolve_file_uri_with_drive(tmp_path: Path) -> None:
    assert resolve(FileRef("file:///C:/papers/a%20b.pdf"), tmp_path) == Path("C:/papers/a b.pdf")


def test_resolve_web_address_raises(tmp_path: Path) -> None:
    ref = FileRef("https://arxiv.org/pdf/1.pdf")
    assert ref.is_url
    with pytest.raises(ValueError, match="web address"):
        resolve(ref, tmp_path)


def test_local_paths_are_not_urls() -> None:
    assert not FileRef(r"C:\a.pdf").is_url
    assert not FileRef("/a.pdf").is_url
    assert not FileRef("file:///a.pdf").is_url


# --- Never raising -----------------------------------------------------------------------


@given(st.text(alphabet=st.sampled_from(list(":;\\/{}$_~Ca .\n")), max_size=40))
def test_any_file_field_is_read_without_raising(value: str) -> None:
    for source in ("auto", "jabref", "zotero", "mendeley"):
        assert all(ref.path for ref in parse_file_field(value, source))


@given(st.binary(max_size=200))
def test_any_bibdesk_data_is_read_without_raising(data: bytes) -> None:
    parse_bdsk_file(base64.b64encode(b"bplist00" + data).decode())
