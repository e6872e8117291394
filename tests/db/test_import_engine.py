"""The streaming import engine (db.importer): chunks, workers, batches, one transaction."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import bibtexparser
import pytest

from citedesk.db import Library, Query, bibin, importer
from citedesk.db.bibtex import parse_file

DATA = Path(__file__).resolve().parents[1] / "data"

#: Tiny chunks and the worker pool even for small files: every path of the engine runs.
PARALLEL: dict[str, Any] = {"workers": 2, "parallel_min": 0, "chunk_bytes": 300}
SERIAL: dict[str, Any] = {"workers": 1, "chunk_bytes": 300}


def _entry(key: str, extra: str = "", title: str | None = None) -> str:
    title = title or f"Paper {key}"
    return (
        f'@article{{{key},\n  author = {{M{{\\"u}}ller, J{{\\"o}}rg and Doe, Jane}},\n'
        f"  title = {{{title}}},\n  journal = jmlr,\n  year = 2020,{extra}\n}}\n\n"
    )


TRICKY_VALUES = (
    "@string{jmlr = {Journal of Machine Learning Research}}\n\n"
    "@comment{mail me @ example.org, or see @misc{x} -- still a comment}\n\n"
    + _entry(
        "at1",
        "\n  note = {first line\n@misc{not a block: the braces are open}\n"
        "  and {a nested {deeper} group} end}",
    )
    + _entry("at2", "\n  abstract = {Email first@last.org; @ signs {and {nested} braces}}")
    + "".join(_entry(f"k{i:03d}") for i in range(40))
)


def _dump(lib: Library) -> dict[str, Any]:
    """Everything an import writes, without the time stamps.

    Places in the layout and the text between blocks depend on where chunks were cut (a
    chunk's end is a text block of its own); the whole-library export, which they make,
    must not.
    """
    cols = [d[0] for d in lib.conn.execute("SELECT * FROM papers LIMIT 0").description]
    keep = [i for i, c in enumerate(cols) if c not in ("added", "modified", "pos", "lead")]
    return {
        "papers": [
            tuple(r[i] for i in keep) for r in lib.conn.execute("SELECT * FROM papers ORDER BY id")
        ],
        "persons": lib.conn.execute("SELECT * FROM persons ORDER BY 1, 2, 3").fetchall(),
        "blocks": lib.conn.execute(
            "SELECT kind, name, value, source FROM blocks WHERE kind != 'text' ORDER BY pos"
        ).fetchall(),
        "export": lib.export_text(),
        "fts": lib.conn.execute("SELECT rowid, * FROM papers_fts ORDER BY rowid").fetchall(),
        "abstracts": lib.conn.execute(
            "SELECT rowid, * FROM papers_abstract ORDER BY rowid"
        ).fetchall(),
    }


def _new(tmp_path: Path, name: str) -> Library:
    return Library.open(tmp_path / name, seed=False)


def _write(tmp_path: Path, text: str, name: str = "in.bib") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- cutting the file -------------------------------------------------------------------------


def test_chunks_start_at_block_starts_and_keep_braced_values_whole() -> None:
    data = TRICKY_VALUES.encode()
    chunks = importer.split_bytes(data, target=1)
    assert b"".join(chunks) == data
    assert len(chunks) > 30
    for chunk in chunks:
        assert re.match(rb"\s*@(string|comment|article)\{", chunk), chunk[:40]
        assert importer._depth(chunk, 0, len(chunk)) == 0, chunk[:60]
    # The line starting with @misc inside the open note is never a cut.
    assert not any(c.startswith(b"@misc") for c in chunks)


def test_chunks_parse_to_the_same_blocks_as_the_whole_file() -> None:
    data = TRICKY_VALUES.encode()

    def blocks(text: str) -> list[tuple[str, str]]:
        return [
            (type(b).__name__, b.raw)
            for b in bibtexparser.parse_string(text, parse_stack=[]).blocks
            if type(b).__name__ != "ImplicitComment"
        ]

    whole = blocks(data.decode())
    pieces = [b for c in importer.split_bytes(data, target=1) for b in blocks(c.decode())]
    assert pieces == whole


def test_an_unbalanced_entry_does_not_stop_the_cutting_for_long() -> None:
    broken = "@article{broken, title = {never closed\n\n"
    data = (broken + "".join(_entry(f"k{i:03d}") for i in range(200))).encode()
    chunks = importer.split_bytes(data, target=200, limit=2000)
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) < 2000 + 200
    assert len(chunks) > 10


def test_a_long_comment_before_the_first_entry_is_not_a_chunk_of_its_own() -> None:
    data = ("%" * 80 + "\n") * 20 + _entry("first") + _entry("second")
    chunks = importer.split_bytes(data.encode(), target=100)
    assert b"@article{first" in chunks[0]


# -- the library it makes ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["xampl.bib", "tricky.bib"])
def test_parallel_and_serial_imports_make_identical_libraries(tmp_path: Path, name: str) -> None:
    src = DATA / name
    serial, parallel = _new(tmp_path, "s.sqlite"), _new(tmp_path, "p.sqlite")
    r1 = bibin.import_files(serial, [src], **SERIAL)
    r2 = bibin.import_files(parallel, [src], **PARALLEL)
    assert (r1.added, r1.duplicates, r1.failures, r1.warnings) == (
        r2.added,
        r2.duplicates,
        r2.failures,
        r2.warnings,
    )
    assert _dump(serial) == _dump(parallel)
    assert r1.added


def test_chunked_import_matches_the_whole_file_import(tmp_path: Path) -> None:
    src = _write(tmp_path, TRICKY_VALUES + (DATA / "xampl.bib").read_text())
    chunked, whole = _new(tmp_path, "c.sqlite"), _new(tmp_path, "w.sqlite")
    r1 = bibin.import_files(chunked, [src], **PARALLEL)
    r2 = bibin.import_parsed(whole, [parse_file(src)])
    assert (r1.added, r1.duplicates, [str(f) for f in r1.failures]) == (
        r2.added,
        r2.duplicates,
        [str(f) for f in r2.failures],
    )
    assert _dump(chunked) == _dump(whole)


def test_a_large_text_imports_as_its_file_would(tmp_path: Path) -> None:
    """import_bibtex (a group's papers joining a library) takes the file's parallel path:
    the same library as importing the text as a file."""
    text = TRICKY_VALUES + (DATA / "xampl.bib").read_text() * 1
    from_text, from_file = _new(tmp_path, "t.sqlite"), _new(tmp_path, "f.sqlite")
    r1 = from_text.imports.import_bibtex(text, "group")
    r2 = bibin.import_files(from_file, [_write(tmp_path, text)], **PARALLEL)
    assert (r1.added, [str(f.message) for f in r1.failures]) == (
        r2.added,
        [str(f.message) for f in r2.failures],
    )
    assert r1.added and _dump(from_text) == _dump(from_file)


def test_failure_lines_are_right_in_every_chunk(tmp_path: Path) -> None:
    parts = []
    for i in range(60):
        parts.append(_entry(f"k{i:03d}"))
        if i % 7 == 3:
            parts.append(f"@article{{bad{i}, title = {{unclosed\n\n")
    text = "".join(parts)
    src = _write(tmp_path, text)
    lines = text.split("\n")
    expected = {
        f"bad{i}": next(
            n for n, line in enumerate(lines, 1) if line.startswith(f"@article{{bad{i},")
        )
        for i in range(60)
        if i % 7 == 3
    }
    for options in (SERIAL, PARALLEL):
        report = bibin.import_files(_new(tmp_path, f"{len(options)}.sqlite"), [src], **options)
        assert {f.key: f.line for f in report.failures} == expected
        assert len(report.added) == 60


def test_duplicate_key_in_a_later_chunk_fails_with_its_line(tmp_path: Path) -> None:
    text = _entry("same") + "".join(_entry(f"k{i:03d}") for i in range(20)) + _entry("SAME")
    text += _entry("same")
    src = _write(tmp_path, text)
    report = bibin.import_files(_new(tmp_path, "l.sqlite"), [src], **PARALLEL)
    lines = text.split("\n")
    where = [n for n, line in enumerate(lines, 1) if line.lower().startswith("@article{same")]
    assert [(f.key, f.line) for f in report.failures] == [("SAME", where[1]), ("same", where[2])]
    assert "collides with 'same'" in report.failures[0].message
    assert f"the entry on line {where[0]} already has it" in report.failures[1].message


def test_taken_keys_are_skipped_and_shared_dois_kept_across_chunks(tmp_path: Path) -> None:
    lib = _new(tmp_path, "d.sqlite")
    lib.import_text(_entry("old", "\n  doi = {10.1000/OLD}"))
    text = (
        _entry("fresh", "\n  doi = {10.1000/same}")
        + _entry("OLD")
        + "".join(_entry(f"k{i:03d}") for i in range(20))
        + _entry("other", "\n  doi = {10.1000/SAME}")
        + _entry("third", "\n  doi = {10.1000/old}")
    )
    report = bibin.import_files(lib, [_write(tmp_path, text)], **PARALLEL)
    # Only a key already taken makes a duplicate; a shared DOI is worth a word, not a loss.
    assert [d.split(" ")[0] for d in report.duplicates] == ["OLD"]
    assert "other" in report.added and "third" in report.added and len(report.added) == 23
    assert any("other has DOI 10.1000/SAME, as fresh has" in w for w in report.warnings)
    assert any("third has DOI 10.1000/old, as old has" in w for w in report.warnings)
    assert lib.count() == 24


def test_a_macro_defined_after_its_use_still_applies(tmp_path: Path) -> None:
    text = "".join(_entry(f"k{i:03d}") for i in range(30))
    text += "@string{jmlr = {Journal of Machine Learning Research}}\n"
    lib = _new(tmp_path, "m.sqlite")
    bibin.import_files(lib, [_write(tmp_path, text)], **PARALLEL)
    venues = {r.venue for r in lib.rows(lib.paper_ids()).values()}
    assert venues == {"Journal of Machine Learning Research"}


def test_crossref_child_gets_a_parent_from_a_later_chunk(tmp_path: Path) -> None:
    text = (
        "@inproceedings{child, author = {Doe, Jane}, title = {A child}, crossref = {parent}}"
        "\n\n"
        + "".join(_entry(f"k{i:03d}") for i in range(30))
        + "@proceedings{parent, title = {Proceedings of Things}, year = {1999}}\n"
    )
    lib = _new(tmp_path, "x.sqlite")
    bibin.import_files(lib, [_write(tmp_path, text)], **PARALLEL)
    child = lib.paper_by_key("child")
    assert (child.year, child.venue) == (1999, "Proceedings of Things")


def test_search_index_built_in_batches_matches_a_rebuilt_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Papers are indexed a few at a time while later chunks are parsed; a crossref child
    # indexed before its parent arrives must be indexed again with what it inherits.
    monkeypatch.setattr(importer, "FTS_BATCH", 3)
    text = (
        "@inproceedings{child, author = {Doe, Jane}, title = {A child}, crossref = {parent}}"
        "\n\n"
        + "".join(_entry(f"k{i:03d}") for i in range(30))
        + "@proceedings{parent, title = {Proceedings of Zygomorphic Things}, year = {1999}}\n"
    )
    lib = _new(tmp_path, "b.sqlite")
    bibin.import_files(lib, [_write(tmp_path, text)], **PARALLEL)
    found = {lib.paper(i).key for i in lib.paper_ids(Query(search="zygomorphic"))}
    assert found == {"child", "parent"}
    batched = _dump(lib)["fts"]
    lib.rebuild_index()
    assert batched == _dump(lib)["fts"]
    assert len(batched) == 32


def test_latin1_lines_in_a_utf8_file_are_read_and_reported(tmp_path: Path) -> None:
    body = _entry("utf8", title="Über Gödel") + "".join(_entry(f"k{i:03d}") for i in range(30))
    data = body.encode() + "@misc{late, title = {Caf\xe9 cr\xe8me}}\n".encode("latin-1")
    src = tmp_path / "mixed.bib"
    src.write_bytes(data)
    lib = _new(tmp_path, "e.sqlite")
    report = bibin.import_files(lib, [src], **PARALLEL)
    line = body.count("\n") + 1
    assert lib.paper_by_key("late").title == "Café crème"
    assert report.warnings[0] == (
        f"{src}:{line}: line {line} not in UTF-8 like the rest of "
        "the file; read as Windows-1252 (Latin-1)"
    )


def test_empty_and_missing_files_are_failures(tmp_path: Path) -> None:
    empty = _write(tmp_path, "", "empty.bib")
    report = bibin.import_files(
        _new(tmp_path, "f.sqlite"), [empty, tmp_path / "none.bib"], **PARALLEL
    )
    assert [(f.file, f.message) for f in report.failures] == [
        (str(tmp_path / "none.bib"), "no such file"),
        (str(empty), "is empty: there is nothing to import"),
    ]


# -- one transaction --------------------------------------------------------------------------


@pytest.mark.parametrize("options", [SERIAL, PARALLEL], ids=["serial", "parallel"])
def test_cancelling_leaves_the_library_as_it_was(tmp_path: Path, options: dict[str, Any]) -> None:
    lib = _new(tmp_path, "c.sqlite")
    lib.import_text(_entry("kept"))
    before = _dump(lib)
    calls = 0

    def cancelled() -> bool:
        nonlocal calls
        calls += 1
        return calls > 25

    report = bibin.import_files(
        lib, [_write(tmp_path, TRICKY_VALUES)], cancelled=cancelled, **options
    )
    assert report.added == [] and "import cancelled: nothing was added" in report.warnings
    assert _dump(lib) == before


def test_strict_import_adds_nothing_when_a_later_chunk_fails(tmp_path: Path) -> None:
    text = "".join(_entry(f"k{i:03d}") for i in range(30)) + "@article{bad, title = {x\n"
    lib = _new(tmp_path, "s.sqlite")
    report = lib.import_files([_write(tmp_path, text)], strict=True)
    assert [f.key for f in report.failures] == ["bad"]
    assert report.added == [] and lib.count() == 0


def test_progress_rises_to_the_total(tmp_path: Path) -> None:
    src = _write(tmp_path, TRICKY_VALUES)
    seen: list[tuple[int, int]] = []
    bibin.import_files(
        _new(tmp_path, "g.sqlite"),
        [src],
        progress=lambda done, total: seen.append((done, total)),
        **PARALLEL,
    )
    total = src.stat().st_size
    assert len(seen) > 5
    assert all(t == total for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (total, total)


def test_library_import_files_takes_progress_and_cancel(tmp_path: Path) -> None:
    lib = _new(tmp_path, "h.sqlite")
    seen: list[int] = []
    report = lib.import_files(
        [DATA / "xampl.bib"], progress=lambda d, t: seen.append(d), cancelled=lambda: False
    )
    assert len(report.added) == 36 and seen[-1] == (DATA / "xampl.bib").stat().st_size
    assert lib.paper_ids(Query(search="knuth"))  # the new papers are in the search index


def test_the_fast_name_split_splits_as_bibtexparser_does() -> None:
    """Where a brace follows a backslash, BibTeX counts it and bibtexparser does not: the
    reference there is bibtexparser's loop with that backslash a plain character."""
    import random

    from bibtexparser.middlewares.names import split_multiple_persons_names

    from citedesk.db.names import _bibtexparser_split, _split_names

    rng = random.Random(3)
    pieces = [
        "a",
        "A",
        "n",
        "N",
        "d",
        "D",
        " ",
        "  ",
        "\t",
        "\n",
        "x",
        " and ",
        " AND ",
        "~",
        "é",
        "\xa0",
        ",",
        "{",
        "}",
        "\\",
    ]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert _split_names(text) == _bibtexparser_split(text), repr(text)
        if not ("\\{" in text or "\\}" in text):
            assert _split_names(text) == split_multiple_persons_names(text), repr(text)
