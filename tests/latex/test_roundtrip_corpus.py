"""Round trips over every well-formed file of the shared corpus (../shared/bibdata).

A file imported into an empty library and exported whole (keeping its encoding) comes back
byte for byte, and BibTeX makes the same .bbl of it; an edited entry comes back in the clean
layout with exactly the field values the library holds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from citedesk.db import Library
from citedesk.db.bibtex import decode_bytes, parse_file, parse_text

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "bibdata"
FILES = (
    sorted(p for p in CORPUS.rglob("*.bib") if "malformed" not in p.parts)
    if CORPUS.is_dir()
    else []
)


def _fields(text: str) -> dict[str, list[tuple[str, str]]]:
    return {e.key: e.fields for e in parse_text(text).entries}


@pytest.mark.skipif(not FILES, reason=f"the shared corpus is not at {CORPUS}")
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_round_trips(path: Path, tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        report = lib.import_files([path])
        if not report.added:
            reason = (
                f"not well-formed ({report.failures[0].message}); the robustness tests cover it"
                if report.failures
                else "holds no entries (only @string, @preamble or comments)"
            )
            pytest.skip(f"{path.name} {reason}")
        exported, given = _whole_file(lib, path, tmp_path)
        text, n = lib.export_text()
        assert n == len(report.added)
        # Byte for byte: each untouched entry's text is in the export as it was read.
        for pid in lib.paper_ids():
            source = lib.entry_source(pid)
            # Entries that came without a key got one and are written afresh.
            assert source in text if source is not None else lib.paper(pid).key in text
        original = _fields(lib.export_text()[0])
        assert _fields(text) == original
        if shutil.which("bibtex"):
            # The same references, but for the keys given to entries that had none.
            bbl = _bbl(exported, tmp_path / "out")[0]
            for key in given:
                bbl = bbl.replace(f"\\bibitem{{{key}}}", "\\bibitem{}")
            original_bbl, errors = _bbl(path.read_bytes(), tmp_path / "in")
            if not errors:  # BibTeX reads the file without an error (a key given twice, …)
                assert bbl == original_bbl
        # An edit rewrites that one entry in the clean layout; the others stay as they were.
        first = lib.paper_ids()[0]
        key = lib.paper(first).key
        lib.update_fields(first, {"note": "checked by Citedesk"})
        after = _fields(lib.export_text()[0])
        assert dict(after[key])["note"] == "{checked by Citedesk}"
        assert {k: v for k, v in after.items() if k != key} == {
            k: v for k, v in original.items() if k != key
        }
        # Same values; the clean layout writes names in lower case, in a fixed order.
        assert sorted((n.lower(), v) for n, v in after[key] if n.lower() != "note") == sorted(
            (n.lower(), v) for n, v in original[key] if n.lower() != "note"
        )


def _whole_file(lib: Library, path: Path, tmp_path: Path) -> tuple[bytes, list[str]]:
    """Export the library whole, keeping the file's encoding; the bytes must be the file's.

    Entries that came without a key got one, written into their text: that key is the only
    difference allowed (taken out again here before comparing).
    """
    out = tmp_path / "whole.bib"
    lib.export(out, keep_encoding=True)
    exported, original = out.read_bytes(), path.read_bytes()
    in_file = {e.key for e in parse_file(path).entries}
    given = [k for k in (lib.paper(pid).key for pid in lib.paper_ids()) if k not in in_file]
    if not given:
        assert exported == original, f"{path.name}: a whole export differs from the file"
        return exported, given
    text, encoding = decode_bytes(exported)
    for key in given:
        text = re.sub(
            r"(@[^{(]*[{(][ \t]*)" + re.escape(key) + r"(?=\s*[,})])", r"\1", text, count=1
        )
    assert (text, encoding) == decode_bytes(original), (
        f"{path.name}: a whole export differs from the file by more than the keys given"
    )
    return exported, given


def _bbl(bib: bytes, work: Path) -> tuple[str, bool]:
    """BibTeX's .bbl (style plain, every entry) of a .bib file's bytes, and whether BibTeX
    reported an error."""
    work.mkdir()
    (work / "refs.bib").write_bytes(bib)
    (work / "doc.aux").write_text("\\relax\n\\citation{*}\n\\bibstyle{plain}\n\\bibdata{refs}\n")
    subprocess.run(
        ["bibtex", "-terse", "doc"],
        cwd=work,
        capture_output=True,
        timeout=60,
        env={**os.environ, "openout_any": "a"},
    )
    bbl, blg = work / "doc.bbl", work / "doc.blg"
    errors = "error message" in blg.read_text(encoding="latin-1") if blg.exists() else True
    return (bbl.read_text(encoding="latin-1") if bbl.exists() else ""), errors
