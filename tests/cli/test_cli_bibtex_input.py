"""``citedesk import`` reads what BibTeX reads, and says what decoding changed; ``list``
shows every author, whatever the name is made of. Through the real command, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citedesk.cli import main


def citedesk(capsys: pytest.CaptureFixture[str], lib: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--library", str(lib), "--empty", *args])
    out, err = capsys.readouterr()
    return code, out, err


def imported(capsys: pytest.CaptureFixture[str], lib: Path) -> dict[str, dict]:
    code, out, _ = citedesk(capsys, lib, "list", "--json", "--sort", "key")
    assert code == 0
    return {r["key"]: r for r in json.loads(out)}


def test_import_reads_entries_whose_start_bibtexparser_does_not_see(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bib = tmp_path / "starts.bib"
    bib.write_text(
        "@ inproceedings{s1, title={A}, year=2008}\n@InProceedings\n"
        "{s2, title={B}, year=2003}\n@www-inproceedings{s4, title={C}, year=2001}\n"
        "@misc{s3, title={D}}\n"
    )
    lib = tmp_path / "x.sqlite"
    code, out, err = citedesk(capsys, lib, "import", str(bib))
    assert (code, err) == (0, "")
    assert "4 added" in out
    assert {k: (r["title"], r["year"], r["type"]) for k, r in imported(capsys, lib).items()} == {
        "s1": ("A", 2008, "inproceedings"),
        "s2": ("B", 2003, "inproceedings"),
        "s3": ("D", None, "misc"),
        "s4": ("C", 2001, "www-inproceedings"),
    }


def test_a_file_of_only_such_entries_is_imported_not_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bib = tmp_path / "only.bib"
    bib.write_text("@ misc{a, title={A}}\n\n@Book\n  {b, title={B}}\n")
    code, out, err = citedesk(capsys, tmp_path / "x.sqlite", "import", str(bib))
    assert (code, err) == (0, "") and "2 added" in out


def test_a_brace_after_a_backslash_counts_as_bibtex_counts_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bib = tmp_path / "braces.bib"
    bib.write_text(
        "@article{gre01,\n\tAuthor = {T. {Te\\{v}zak-Gregl}},\n"
        "\tJournal = {Opuscula},\n\tTitle = {Veze},\n\tYear = {2001}}\n\n"
        "@misc{h1, title = {Horse, wagon \\{\\&} chariot}, year = 1999}\n"
    )
    lib = tmp_path / "x.sqlite"
    code, out, err = citedesk(capsys, lib, "import", str(bib))
    assert (code, err) == (0, "") and "2 added" in out
    papers = imported(capsys, lib)
    assert (papers["gre01"]["title"], papers["gre01"]["venue"], papers["gre01"]["year"]) == (
        "Veze",
        "Opuscula",
        2001,
    )
    assert papers["h1"]["year"] == 1999
    code, out, _ = citedesk(capsys, lib, "export", "--key", "gre01")
    assert code == 0 and "Journal = {Opuscula}" in out and "Year = {2001}" in out


def test_nul_bytes_left_out_are_reported_with_file_line_and_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bib = tmp_path / "nul.bib"
    bib.write_bytes(b"@misc{ok, title={Fine}}\n\n@misc{n\x00ul, title={A\x00B}}\n")
    lib = tmp_path / "x.sqlite"
    code, _, err = citedesk(capsys, lib, "import", str(bib))
    assert code == 0
    assert err == (
        f"citedesk: warning: {bib}:3 (entry nul): holds 2 NUL bytes (0x00), which were left out\n"
    )
    assert imported(capsys, lib)["nul"]["title"] == "AB"


def test_bytes_windows_1252_does_not_define_are_reported_with_line_and_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bib = tmp_path / "cp1252.bib"
    bib.write_bytes(b"@misc{k1, title = {Caf\xe9}}\n@misc{k2, title = {a\x90b}}\n")
    code, _, err = citedesk(capsys, tmp_path / "x.sqlite", "import", str(bib))
    assert code == 0
    assert err == (
        f"citedesk: warning: {bib}:2 (entry k2): byte 0x90 is not defined in "
        "Windows-1252, which this line was read as; kept as the control character "
        "U+0090, written back as that byte when the file's encoding is kept\n"
    )
    # And so it is: the file comes back as it was.
    out = tmp_path / "out.bib"
    assert (
        citedesk(capsys, tmp_path / "x.sqlite", "export", "--keep-encoding", "-o", str(out))[0] == 0
    )
    assert out.read_bytes() == bib.read_bytes()


def test_an_author_that_is_a_bare_command_is_listed_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bib = tmp_path / "thanh.bib"
    bib.write_text(
        '@misc{th, author = "\\Thanh", title = {Pdf}}\n'
        '@misc{two, author = "\\Thanh and Knuth, Donald", title = {Two}}\n'
    )
    lib = tmp_path / "x.sqlite"
    assert citedesk(capsys, lib, "import", str(bib))[0] == 0
    assert {k: r["authors"] for k, r in imported(capsys, lib).items()} == {
        "th": ["\\Thanh"],
        "two": ["\\Thanh", "Donald Knuth"],
    }
    code, out, err = citedesk(capsys, lib, "list", "--sort", "key")
    assert (code, err) == (0, "")
    assert [line.split()[:4] for line in out.splitlines()] == [
        ["th", "unread", "\\Thanh", "Pdf"],
        ["two", "unread", "\\Thanh", "&"],  # "\Thanh & Knuth"
    ]


@pytest.mark.parametrize(
    ("author", "shown"),
    [
        ("King, Jr., Martin Luther and Doe, Jane", "King & Doe"),
        ("von Neumann, John", "von Neumann"),
    ],
)
def test_list_names_authors_as_the_window_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], author: str, shown: str
) -> None:
    bib = tmp_path / "names.bib"
    bib.write_text(f"@misc{{k, author = {{{author}}}, title = {{T}}}}\n")
    lib = tmp_path / "x.sqlite"
    assert citedesk(capsys, lib, "import", str(bib))[0] == 0
    code, out, _ = citedesk(capsys, lib, "list")
    assert code == 0
    assert out.split("unread")[1].strip().removesuffix("T").strip() == shown
