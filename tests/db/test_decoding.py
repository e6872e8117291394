"""What decoding changes in a file is reported, with file and line: NULs, undefined bytes."""

from __future__ import annotations

from pathlib import Path

from citedesk.db.bibtex import decode_lines, parse_file, parse_text, undefined_bytes

UTF8_WITH_A_CP1252_LINE = (
    "@misc{k1, title = {Gödel}}\n".encode()
    + b"@misc{k2, title = {x\x81y \x9dz}}\n"
    + b"@misc{k3, title = {Caf\xe9}}\n"
)


def test_nul_bytes_are_left_out_with_a_warning_naming_line_and_entry() -> None:
    parsed = parse_text("@misc{n\x00ul, title = {a\x00b}}\n\n@misc{k2,\r\n note = {\x00}}\n")
    assert [(e.key, e.fields) for e in parsed.entries] == [
        ("nul", [("title", "{ab}")]),
        ("k2", [("note", "{}")]),
    ]
    assert [(w.line, w.key, w.message) for w in parsed.warnings] == [
        (1, "nul", "holds 2 NUL bytes (0x00), which were left out"),
        (4, "k2", "holds a NUL byte (0x00), which was left out"),
    ]


def test_nul_lines_are_counted_from_the_first_line_of_a_chunk() -> None:
    parsed = parse_text("% x\x00\n@misc{k, t = {1}}\n", "f.bib", first_line=41)
    assert [(str(w)) for w in parsed.warnings] == [
        "f.bib:41: holds a NUL byte (0x00), which was left out"
    ]


def test_many_lines_with_nuls_give_ten_warnings_and_a_count() -> None:
    parsed = parse_text("@misc{k, t = {1}}\n" + "\x00junk\n" * 25)
    assert len(parsed.warnings) == 11
    assert str(parsed.warnings[-1]) == "<text>:12: and 15 more lines with NUL bytes left out"


def test_undefined_cp1252_bytes_are_named_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.bib"
    path.write_bytes(UTF8_WITH_A_CP1252_LINE)
    parsed = parse_file(path)
    assert [e.key for e in parsed.entries] == ["k1", "k2", "k3"]
    assert parsed.entries[1].fields == [("title", "{x\x81y \x9dz}")]
    assert [(w.line, w.key, w.message) for w in parsed.warnings] == [
        (
            2,
            None,
            "lines 2, 3 not in UTF-8 like the rest of the file; read as Windows-1252 (Latin-1)",
        ),
        (
            2,
            "k2",
            "bytes 0x81, 0x9D are not defined in Windows-1252, which this line was "
            "read as; kept as control characters U+0081, U+009D, written back as "
            "those bytes when the file's encoding is kept",
        ),
    ]


def test_undefined_bytes_of_a_windows_1252_file_are_named(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.bib"
    path.write_bytes(b"@misc{k1, title = {Caf\xe9}}\r\n\r\n@misc{k2, title = {a\x90b}}\r\n")
    parsed = parse_file(path)
    assert parsed.encoding == "cp1252"
    assert [str(w) for w in parsed.warnings] == [
        f"{path}:3 (entry k2): byte 0x90 is not defined in Windows-1252, which this line was "
        "read as; kept as the control character U+0090, written back as that byte when the "
        "file's encoding is kept"
    ]


def test_undefined_bytes_are_looked_for_in_the_lines_read_as_windows_1252() -> None:
    text, bad, _ = decode_lines(UTF8_WITH_A_CP1252_LINE)
    assert bad == [2, 3]
    found = undefined_bytes(UTF8_WITH_A_CP1252_LINE, bad)
    assert found == [(2, 20, 0x81), (2, 23, 0x9D)]
    assert (text.splitlines()[1][20], text.splitlines()[1][23]) == ("\x81", "\x9d")
    # (A UTF-8 line holds such bytes in its characters: "Gödel" has none, "ŝ" has 0x9D.)
    assert undefined_bytes("ŝ\n".encode(), []) == []
    parsed = parse_text(text, "chunk.bib", first_line=11, undefined=found)
    assert [str(w) for w in parsed.warnings] == [
        "chunk.bib:12 (entry k2): bytes 0x81, 0x9D are not defined in Windows-1252, which "
        "this line was read as; kept as control characters U+0081, U+009D, written back as "
        "those bytes when the file's encoding is kept"
    ]


def test_text_without_such_bytes_has_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "plain.bib"
    path.write_bytes("@misc{k1, title = {Gödel ŝ}}\n".encode())
    assert parse_file(path).warnings == []


def test_binary_junk_between_entries_is_told_once(tmp_path: Path) -> None:
    """Its NULs and undefined bytes are in the text a warning says was skipped."""
    path = tmp_path / "junk.bib"
    path.write_bytes(
        b"@misc{k1, title = {One}}\n\n\x01\x02\x03\x04\x05 \x81\x8d\x00 junk\n"
        b"@misc{k2, title = {T\x00w\x90o}}\n"
    )
    parsed = parse_file(path)
    assert [e.key for e in parsed.entries] == ["k1", "k2"]
    assert [(w.line, w.key, w.message[:30]) for w in parsed.warnings] == [
        (4, "k2", "holds a NUL byte (0x00), which"),
        (4, "k2", "byte 0x90 is not defined in Wi"),
        (3, None, "line 3 holds binary data (not "),
    ]
