"""A file imported into an empty library and exported whole comes back byte for byte.

Issue 11: @string redefinitions hold from where they stand, @comments and @preambles stay
where they were (and are not merged), text between entries is kept, line ends and (on
request) the encoding are the file's own, and edits change only the edited entry.
"""

from __future__ import annotations

import codecs
import subprocess
import sys
from pathlib import Path

import pytest

from citedesk.db import Library, Query

REDEFINED = """\
@string{pub = "First Press"}

% The first part: books of the first press.
@book{one, author = {Ann Alpha}, title = {One}, publisher = pub, year = 2001}

@comment{checked 2020}
@string{pub = "Second Press"}
@book{two, author = {Bob Beta}, title = {Two}, publisher = pub, year = 2002}
@comment{checked 2020}
@preamble{"\\newcommand{\\noop}[1]{}"}
@preamble{"\\newcommand{\\noop}[1]{}"}

%@book{gone, title = {Commented out}}
Free text after the entries, no line end at the end."""


def _import(lib: Library, path: Path) -> None:
    report = lib.import_files([path])
    assert report.ok, report.failures


def _round_trip(tmp_path: Path, data: bytes, name: str = "in.bib", **export: bool) -> bytes:
    src = tmp_path / name
    src.write_bytes(data)
    with Library.open(tmp_path / f"{name}.sqlite", seed=False) as lib:
        _import(lib, src)
        out = tmp_path / f"{name}.out.bib"
        lib.export(out, **export)
    return out.read_bytes()


def test_a_file_comes_back_byte_for_byte(tmp_path: Path) -> None:
    data = REDEFINED.encode()
    assert _round_trip(tmp_path, data) == data


def test_a_redefined_string_holds_from_where_it_stands(tmp_path: Path, bbl) -> None:
    src = tmp_path / "in.bib"
    src.write_text(REDEFINED)
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        _import(lib, src)
        assert lib.paper_by_key("one").venue == "First Press"
        assert lib.paper_by_key("two").venue == "Second Press"
        out = tmp_path / "out.bib"
        lib.export(out)
        # A selection still gets each definition before the entries it holds for.
        lib.add_tags([lib.require_key("two")], ["second"])
        part = lib.export_text(Query(tag="second"))[0]
    assert part.index('"First Press"') < part.index('"Second Press"') < part.index("@book{two")
    original = bbl(src)
    assert "Second Press" in original and original == bbl(out)


def test_comments_and_preambles_stay_where_they_were(tmp_path: Path) -> None:
    src = tmp_path / "in.bib"
    src.write_text(REDEFINED)
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        _import(lib, src)
        text = lib.export_text()[0]
    assert text.count("@comment{checked 2020}") == 2
    assert text.count("@preamble") == 2
    assert text.index("@comment{checked 2020}") < text.index("@book{two")
    assert "%@book{gone, title = {Commented out}}" in text
    assert text.endswith("no line end at the end.")


def test_an_edit_changes_only_the_edited_entry(tmp_path: Path) -> None:
    src = tmp_path / "in.bib"
    src.write_text(REDEFINED)
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        _import(lib, src)
        lib.update_fields(lib.require_key("one"), {"note": "Reread"})
        edited = lib.export_text()[0]
        # Still derived with the macro in force at its place, not the later definition.
        assert lib.paper_by_key("one").venue == "First Press"
        lib.delete_papers([lib.require_key("two")])
        deleted = lib.export_text()[0]
    before, _, after = REDEFINED.partition(
        "@book{one, author = {Ann Alpha}, title = {One}, publisher = pub, year = 2001}"
    )
    assert edited.startswith(before) and edited.endswith(after)
    assert "note      = {Reread}" in edited
    assert "@book{two" not in deleted and deleted.endswith(
        "%@book{gone, title = {Commented out}}\nFree text after the entries, no line end at "
        "the end."
    )


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_line_ends_are_the_files_own(tmp_path: Path, newline: str) -> None:
    data = REDEFINED.replace("\n", newline).encode()
    assert _round_trip(tmp_path, data) == data


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("cp1252", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
    ],
)
def test_the_encoding_is_kept_when_asked(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = REDEFINED.replace("Ann Alpha", "Anne Ødegård").replace(
        "Bob", "Bőb" if encoding != "cp1252" else "Böb"
    )
    data = bom + text.encode(encoding)
    assert _round_trip(tmp_path, data, keep_encoding=True) == data
    # UTF-8 stays the default.
    assert _round_trip(tmp_path, data, name="default.bib") == text.encode("utf-8")


def test_a_whole_export_is_the_same_from_auto_export(tmp_path: Path) -> None:
    src = tmp_path / "in.bib"
    src.write_bytes(REDEFINED.replace("\n", "\r\n").encode())
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        _import(lib, src)
        lib.update_fields(lib.require_key("two"), {"note": "edited"})
        lib.add_autoexport(tmp_path / "auto.bib")
        lib.run_autoexports()
        lib.export(tmp_path / "out.bib")
        lib.add_autoexport(tmp_path / "tagged.bib", tag="t")
        lib.add_tags([lib.require_key("one")], ["t"])
        lib.run_autoexports()
        tagged = lib.encode_export(lib.export_text(Query(tag="t"))[0])
    assert (tmp_path / "auto.bib").read_bytes() == (tmp_path / "out.bib").read_bytes()
    assert b"\r\n" in (tmp_path / "auto.bib").read_bytes()
    assert (tmp_path / "tagged.bib").read_bytes() == tagged


def test_undoing_an_import_takes_its_blocks_back(tmp_path: Path) -> None:
    src = tmp_path / "in.bib"
    src.write_text(REDEFINED)
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        report = lib.import_files([src])
        taken = lib.delete_import(report)
        assert lib.export_text() == ("", 0) and lib.macros() == {}
        assert taken.undo is not None
        lib.undo(taken.undo)
        assert lib.export_text()[0] == REDEFINED
        # The same file again adds no second copy of its blocks.
        lib.import_files([src])
        assert lib.export_text()[0].count("@comment{checked 2020}") == 2


def test_a_keyless_entry_gets_its_key_written_into_its_own_text(tmp_path: Path) -> None:
    text = "% keyless\n@misc{,\n  title = {No Key Here},\n  year  = 1999,\n}\n"
    out = _round_trip(tmp_path, text.encode()).decode()
    assert out == text.replace("@misc{,", "@misc{1999nokeyhere,")


def test_the_command_line_round_trips_a_file(tmp_path: Path) -> None:
    src = tmp_path / "in.bib"
    data = REDEFINED.replace("Ann", "Ånn").replace("\n", "\r\n").encode("cp1252")
    src.write_bytes(data)
    lib = tmp_path / "cli.sqlite"

    def citedesk(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "citedesk", "--library", str(lib), "--empty", *args],
            capture_output=True,
            timeout=120,
        )

    assert citedesk("import", str(src)).returncode == 0
    assert citedesk("export", "--keep-encoding", "-o", str(tmp_path / "o.bib")).returncode == 0
    assert (tmp_path / "o.bib").read_bytes() == data
    printed = citedesk("export")
    assert printed.returncode == 0
    assert printed.stdout == data.decode("cp1252").encode("utf-8")
