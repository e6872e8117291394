"""Round trips over every well-formed file of the shared corpus (../shared/bibdata).

Untouched entries must come back byte for byte; an edited entry comes back in the clean
layout with exactly the field values the library holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from db import Library
from db.bibtex import parse_text

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "bibdata"
FILES = sorted(p for p in CORPUS.rglob("*.bib") if "malformed" not in p.parts) \
    if CORPUS.is_dir() else []


def _fields(text: str) -> dict[str, list[tuple[str, str]]]:
    return {e.key: e.fields for e in parse_text(text).entries}


@pytest.mark.skipif(not FILES, reason=f"the shared corpus is not at {CORPUS}")
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_round_trips(path: Path, tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        report = lib.import_files([path])
        if not report.added:
            reason = (f"not well-formed ({report.failures[0].message}); the robustness tests "
                      "cover it" if report.failures else
                      "holds no entries (only @string, @preamble or comments)")
            pytest.skip(f"{path.name} {reason}")
        text, n = lib.export_text()
        assert n == len(report.added)
        # Byte for byte: each untouched entry's text is in the export as it was read.
        for pid in lib.paper_ids():
            source = lib.entry_source(pid)
            # Entries that came without a key got one and are written afresh.
            assert source in text if source is not None else lib.paper(pid).key in text
        original = _fields(lib.export_text()[0])
        exported = _fields(text)
        assert exported == original
        # An edit rewrites that one entry in the clean layout; the others stay as they were.
        first = lib.paper_ids()[0]
        key = lib.paper(first).key
        lib.update_fields(first, {"note": "checked by Citedesk"})
        after = _fields(lib.export_text()[0])
        assert dict(after[key])["note"] == "{checked by Citedesk}"
        assert {k: v for k, v in after.items() if k != key} == \
            {k: v for k, v in original.items() if k != key}
        # Same values; the clean layout writes names in lower case, in a fixed order.
        assert sorted((n.lower(), v) for n, v in after[key] if n.lower() != "note") == \
            sorted((n.lower(), v) for n, v in original[key] if n.lower() != "note")
