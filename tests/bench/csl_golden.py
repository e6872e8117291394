"""Golden output of db/csl.py: every common style, every output form, byte for byte.

    python -m tests.bench.csl_golden [--save] [--only STYLE ...] [--baseline FILE]

Renders the bibliography and a few citations of (a) the 25 seeded papers, (b) the 1,000
papers of the cite-as-you-write bench (tests/bench/cayw.py), (c) a few hundred entries of the
real-world corpus (../shared/bibdata), each as the app gets them (``Library.csl_items``), in
each style of :func:`csl.styles` and each of :data:`csl.OUTPUTS`, and compares the lot with a
saved baseline (``--save`` writes it; it lives in /tmp, not in git). For changes that must
not change the output by a byte, such as citeproc-py's speed-ups in db/csl.py.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.cayw import distinct_papers  # noqa: E402

BIBDATA = Path(__file__).resolve().parents[3] / "shared" / "bibdata"
DEFAULT_BASELINE = Path(tempfile.gettempdir()) / "citedesk-csl-golden" / "baseline.txt"
#: Corpus files and how many of their entries to take (in the library's order).
CORPUS = (
    ("texlive/biblatex-examples.bib", 92),
    ("texlive/xampl.bib", 40),
    ("pybtex/IEEEtran.bib", 60),
    ("large/contextlab-cdl/cdl.bib", 250),
)


def seeded(tmp: Path) -> list[dict[str, Any]]:
    from citedesk import db

    library = db.Library.open(tmp / "seeded.sqlite")
    items = library.csl_items()
    library.close()
    return items


def corpus(tmp: Path) -> list[dict[str, Any]]:
    from citedesk import db

    items: list[dict[str, Any]] = []
    for n, (name, count) in enumerate(CORPUS):
        path = BIBDATA / name
        if not path.is_file():
            print(f"missing {path}", file=sys.stderr)
            continue
        library = db.Library.open(tmp / f"corpus{n}.sqlite", seed=False)
        library.import_files([path])
        items.extend(library.csl_items()[:count])
        library.close()
    return items


def renders(sets: dict[str, list[dict[str, Any]]], only: Sequence[str]) -> Iterator[str]:
    from citedesk.db import csl

    names = [name for name, _title in csl.styles()]
    jobs: list[tuple[str, str]] = [(name, "en-US") for name in names]
    jobs += [("apa", "de-DE"), ("ieee", "fr-FR")]
    for style, locale in jobs:
        if only and style not in only:
            continue
        for output in csl.OUTPUTS:
            for set_name, items in sets.items():
                started = time.perf_counter()
                head = f"=== {style} {locale} {output} {set_name}"
                entries = csl.bibliography(items, style, locale, output)
                yield f"{head} bibliography ({len(entries)})"
                yield from entries
                picks = [[0], [1, 2], [5, 3, len(items) - 1], [7, 7, 4]]
                for pick in picks:
                    cited = [items[i] for i in pick]
                    yield f"{head} citation {pick}"
                    yield csl.citation(cited, style, locale, output, context=items)
                took = time.perf_counter() - started
                print(f"{head}: {len(entries)} entries, {took:.1f} s", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", action="store_true", help="write the baseline")
    parser.add_argument("--only", nargs="*", default=[], help="only these styles")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    args = parser.parse_args()
    baseline: Path = args.baseline
    if args.only:
        baseline = baseline.with_name(f"{baseline.stem}-{'-'.join(args.only)}.txt")
    with tempfile.TemporaryDirectory(prefix="citedesk-csl-golden-") as tmp_name:
        tmp = Path(tmp_name)
        seeds = seeded(tmp)
        sets = {"seeded": seeds, "bench": distinct_papers(seeds), "corpus": corpus(tmp)}
        print({k: len(v) for k, v in sets.items()}, file=sys.stderr)
        started = time.perf_counter()
        text = "\n".join(renders(sets, args.only)) + "\n"
        print(f"rendered in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.save:
        baseline.parent.mkdir(parents=True, exist_ok=True)
        baseline.write_text(text, encoding="utf-8")
        print(f"saved {baseline} ({len(text.encode()):,} bytes)")
        return 0
    expected = baseline.read_text(encoding="utf-8")
    if text == expected:
        print(f"identical to {baseline} ({len(text.encode()):,} bytes)")
        return 0
    diff = difflib.unified_diff(
        expected.splitlines(), text.splitlines(), str(baseline), "now", lineterm="", n=1
    )
    for n, line in enumerate(diff):
        if n >= 60:
            print("...")
            break
        print(line)
    print("DIFFERENT")
    return 1


if __name__ == "__main__":
    sys.exit(main())
