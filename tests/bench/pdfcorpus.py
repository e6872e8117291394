"""A seeded corpus of PDFs for the full-text figures (issue 14).

1,000 distinct papers of about 10 pages each (about 10,000 pages in all): a title in large
bold type, authors, an abstract in small type, numbered sections of English-like paragraphs
in body type and a list of references in footnote type. The words come from
``generate.py``'s vocabulary, a few thousand seeded made-up technical terms (Zipf-weighted,
so the full-text index sees a realistic long tail of rare words), author names, numbers and
citations; every paper has its own topic words, so every file has its own content and hash.

The fast way is ONE ``pdflatex`` run of a 10,000-page document, split into one file per
paper with pypdfium2 (each paper starts on a new page and leaves a ``\\label`` with its first
page in the .aux file). Without pdflatex the pages are drawn with pypdfium2 itself (PDFium's
standard Times fonts, one text object per line). Either way the text is real text that
pypdfium2 extracts.

The same seed gives the same text, pages and files, byte for byte but for the creation date
and /ID that PDFium writes into each split file. The corpus is generated once into
``/tmp/citedesk-bench/pdfs-1000-s1-v1`` (under ``CITEDESK_BENCH_DIR``); ``corpus.json`` is
written last and a later call returns at once.

    python -m tests.bench.pdfcorpus [--files 1000] [--big 20]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench import generate  # noqa: E402

#: Bump when the output changes, so cached corpora are rebuilt.
VERSION = 1
N_FILES = 1000
PAGES_PER_FILE = 10
MANIFEST = "corpus.json"

# -- words --------------------------------------------------------------------------------------

_ONSETS = "b c d f g h k l m n p r s t v z br cr dr fl gr pl pr st tr ch sh th ph".split()
_NUCLEI = "a e i o u ai ea io ou y".split()
_CODAS = ["", "", "", "n", "r", "s", "l", "m", "x", "nt", "st", "ct", "rm", "ng"]
_SUFFIXES = ["", "", "", "ic", "al", "ity", "ous", "ize", "ation", "ism", "ive", "ent", "ology"]
_SECTIONS = [
    "Introduction",
    "Related Work",
    "Background",
    "Problem Setting",
    "Method",
    "Analysis",
    "Theoretical Results",
    "Experiments",
    "Experimental Setup",
    "Results",
    "Ablation Study",
    "Discussion",
    "Limitations",
    "Conclusion",
]
_INSTITUTES = [
    "Department of Computer Science, University of Somewhere",
    "Institute for Advanced Study",
    "Max Planck Institute for Intelligent Systems",
    "ETH Zürich",
    "École Polytechnique Fédérale de Lausanne",
    "Peking University",
    "University of Tokyo",
    "Microsoft Research",
    "INRIA Paris",
    "Universidad de Buenos Aires",
]


def _made_up_terms(rng: random.Random, n: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_NUCLEI) + rng.choice(_CODAS)
            for _ in range(rng.randint(2, 3))
        ) + rng.choice(_SUFFIXES)
        if word not in seen and 4 <= len(word) <= 13:
            seen.add(word)
            out.append(word)
    return out


def _plain_names() -> list[str]:
    """generate.FAMILIES without its LaTeX spellings (those repeat the UTF-8 ones)."""
    return [f for f in generate.FAMILIES if "\\" not in f and "{" not in f]


class _Text:
    """Seeded paper text: a global Zipf-weighted vocabulary plus each paper's own topic."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.terms = _made_up_terms(random.Random(seed + 7), 6000)
        content = generate.WORDS + self.terms
        self.vocab = content + generate.FILLER
        weights = [1.0 / (i + 1) ** 1.05 for i in range(len(content))]
        weights += [0.25] * len(generate.FILLER)  # about one word in three is a filler word
        self.cum = list(itertools.accumulate(weights))
        self.names = _plain_names()
        self.givens = [g for g in generate.GIVENS if "\\" not in g and "{" not in g]
        self.topic: list[str] = []

    def new_topic(self) -> None:
        rng = self.rng
        self.topic = rng.sample(generate.WORDS, 12) + rng.sample(self.terms, 25)

    def words(self, n: int) -> list[str]:
        rng = self.rng
        out = rng.choices(self.vocab, cum_weights=self.cum, k=n)
        for i in range(n):
            if rng.random() < 0.12:
                out[i] = rng.choice(self.topic)
        return out

    def sentence(self) -> str:
        rng = self.rng
        w = self.words(rng.randint(9, 28))
        w[0] = w[0].capitalize()
        roll = rng.random()
        if roll < 0.08:
            w.insert(rng.randrange(1, len(w)), f"[{rng.randint(1, 40)}]")
        elif roll < 0.14:
            w.insert(rng.randrange(1, len(w)), f"{rng.uniform(0, 100):.{rng.randint(1, 3)}f}")
        elif roll < 0.17:
            w.append(f"({rng.choice(self.names)} et al., {rng.randint(1980, 2025)})")
        elif roll < 0.19:
            w.append(f"in Table {rng.randint(1, 6)}")
        return " ".join(w) + ("?" if rng.random() < 0.03 else ".")

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(3, 9)))

    def title(self) -> str:
        w = self.words(self.rng.randint(5, 12))
        return " ".join(x.capitalize() if len(x) > 3 else x for x in w)

    def person(self) -> str:
        return f"{self.rng.choice(self.givens)} {self.rng.choice(self.names)}"

    def paper(self, words: int) -> dict[str, object]:
        """One paper's parts; the sections hold about ``words`` words."""
        rng = self.rng
        self.new_topic()
        sections: list[tuple[str, list[str]]] = []
        n = 0
        names = [s for s in _SECTIONS if s not in ("Introduction", "Conclusion")]
        middle = sorted(rng.sample(range(len(names)), rng.randint(3, 6)))
        heads = ["Introduction", *(names[i] for i in middle), "Conclusion"]
        per = words // len(heads)
        for head in heads:
            paras: list[str] = []
            m = 0
            while m < per:
                p = self.paragraph()
                paras.append(p)
                m += p.count(" ") + 1
            n += m
            sections.append((head, paras))
        refs = [
            f"{self.person()} and {self.person()}. {self.title()}. "
            f"{rng.choice(generate.CONFERENCES)} {rng.randint(1985, 2025)}."
            for _ in range(rng.randint(12, 25))
        ]
        return {
            "title": self.title(),
            "authors": [self.person() for _ in range(rng.randint(2, 6))],
            "institute": rng.choice(_INSTITUTES),
            "abstract": " ".join(self.sentence() for _ in range(rng.randint(6, 10))),
            "sections": sections,
            "references": refs,
            "words": n,
        }


# -- the corpus ---------------------------------------------------------------------------------


@dataclass
class Corpus:
    folder: Path
    files: list[Path]
    pages: list[int]
    maker: str
    seconds: float  # how long generating it took (when it was generated)
    key: str  # names this corpus in cache keys of libraries built on it

    @property
    def total_pages(self) -> int:
        return sum(self.pages)


def corpus_dir(
    n: int = N_FILES, seed: int = generate.DEFAULT_SEED, cache: Path | None = None
) -> Path:
    return (cache or generate.CACHE_DIR) / f"pdfs-{n}-s{seed}-v{VERSION}"


def _load(folder: Path) -> Corpus | None:
    try:
        m = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    files = [folder / f for f in m["files"]]
    if not all(f.is_file() for f in files):
        return None
    return Corpus(folder, files, m["pages"], m["maker"], m["seconds"], folder.name)


def corpus(
    n: int = N_FILES,
    seed: int = generate.DEFAULT_SEED,
    cache: Path | None = None,
    *,
    maker: str | None = None,
    quiet: bool = False,
) -> Corpus:
    """The corpus of ``n`` PDFs, generated when missing (pdflatex if present, else pypdfium2)."""
    folder = corpus_dir(n, seed, cache)
    done = _load(folder)
    if done is not None:
        return done
    maker = maker or ("pdflatex" if shutil.which("pdflatex") else "pypdfium2")
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = folder.with_name(folder.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    t = time.perf_counter()
    text = _Text(seed)
    if maker == "pdflatex":
        names, pages = _make_pdflatex(text, n, building, quiet)
    else:
        names, pages = _make_pdfium(text, n, building)
    seconds = time.perf_counter() - t
    (building / MANIFEST).write_text(
        json.dumps(
            {
                "files": names,
                "pages": pages,
                "maker": maker,
                "seconds": seconds,
                "seed": seed,
                "version": VERSION,
            }
        )
    )
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(building, folder)
    if not quiet:
        print(
            f"# generated {n} PDFs, {sum(pages)} pages, with {maker} in {seconds:.1f} s "
            f"into {folder}",
            flush=True,
        )
    result = _load(folder)
    assert result is not None
    return result


# LaTeX: T1 + Latin Modern and glyph-to-Unicode maps, so text (ligatures, accents) extracts.
_PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\input{glyphtounicode}
\pdfgentounicode=1
\pdfcompresslevel=9
\pdfobjcompresslevel=2
\begin{document}
"""

_TEX_SPECIAL = str.maketrans({"%": r"\%", "&": r"\&", "#": r"\#", "_": r"\_", "$": r"\$"})


def _tex_paper(i: int, p: dict[str, object], out: list[str]) -> None:
    esc = lambda s: str(s).translate(_TEX_SPECIAL)  # noqa: E731
    out.append("\\clearpage\\setcounter{section}{0}\n")
    out.append(
        f"\\begin{{center}}{{\\LARGE\\bfseries {esc(p['title'])}\\label{{doc{i}}}\\par}}"
        f"\\vspace{{1em}}{{\\large {esc(', '.join(p['authors']))}\\par}}"  # type: ignore[arg-type]
        f"\\vspace{{0.5em}}{{\\small {esc(p['institute'])}\\par}}\\end{{center}}\n"
    )
    out.append(f"\\begin{{abstract}}\n{esc(p['abstract'])}\n\\end{{abstract}}\n")
    for head, paras in p["sections"]:  # type: ignore[attr-defined]
        out.append(f"\\section{{{esc(head)}}}\n")
        for para in paras:
            out.append(esc(para) + "\n\n")
    out.append("\\section*{References}\n{\\footnotesize\n")
    for n, ref in enumerate(p["references"], 1):  # type: ignore[arg-type]
        out.append(f"\\noindent[{n}] {esc(ref)}\\par\n")
    out.append("}\n")


#: Body words that make about 10 pages of 10pt article (calibrated on this generator).
_WORDS_PER_PAPER = 3500


def _paper_words(rng: random.Random) -> int:
    return int(_WORDS_PER_PAPER * rng.uniform(0.85, 1.15))


def _make_pdflatex(text: _Text, n: int, out: Path, quiet: bool) -> tuple[list[str], list[int]]:
    import pypdfium2 as pdfium

    with tempfile.TemporaryDirectory(prefix="citedesk-pdfcorpus-") as tmp:
        parts = [_PREAMBLE]
        for i in range(n):
            _tex_paper(i, text.paper(_paper_words(text.rng)), parts)
        parts.append("\\end{document}\n")
        tex = Path(tmp) / "corpus.tex"
        tex.write_text("".join(parts), encoding="utf-8")
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "FORCE_SOURCE_DATE": "1"}
        t = time.perf_counter()
        proc = subprocess.run(
            ["pdflatex", "-interaction=batchmode", "-halt-on-error", "corpus.tex"],
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            log = (Path(tmp) / "corpus.log").read_text(errors="replace")
            raise RuntimeError(f"pdflatex failed:\n{log[-3000:]}")
        if not quiet:
            print(f"# pdflatex: {time.perf_counter() - t:.1f} s", flush=True)
        aux = (Path(tmp) / "corpus.aux").read_text(errors="replace")
        starts = {
            int(m[1]): int(m[2])
            for m in re.finditer(r"\\newlabel\{doc(\d+)\}\{\{[^{}]*\}\{(\d+)\}", aux)
        }
        src = pdfium.PdfDocument(Path(tmp) / "corpus.pdf")
        try:
            total = len(src)
            firsts = [starts[i] - 1 for i in range(n)] + [total]
            names, pages = [], []
            for i in range(n):
                a, b = firsts[i], firsts[i + 1]
                dst = pdfium.PdfDocument.new()
                dst.import_pages(src, list(range(a, b)))
                name = f"paper-{i:04d}.pdf"
                dst.save(out / name)
                dst.close()
                names.append(name)
                pages.append(b - a)
        finally:
            src.close()
    return names, pages


def _fold(s: str) -> str:
    """ASCII for PDFium's standard fonts (WinAnsi would miss Ł and Ø anyway)."""
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


def _make_pdfium(text: _Text, n: int, out: Path) -> tuple[list[str], list[int]]:
    """Without pdflatex: pages drawn with PDFium's standard Times fonts, a line per object."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as c

    width, height, margin = 612.0, 792.0, 72.0
    names, pages = [], []
    for i in range(n):
        p = text.paper(_paper_words(text.rng))
        doc = pdfium.PdfDocument.new()
        regular = c.FPDFText_LoadStandardFont(doc.raw, b"Times-Roman")
        bold = c.FPDFText_LoadStandardFont(doc.raw, b"Times-Bold")
        lines: list[tuple[str, float, bool, float]] = []  # text, size, bold, space after

        def block(
            s: str, size: float, is_bold: bool = False, after: float = 0.0, lines: list = lines
        ) -> None:
            per_line = int((width - 2 * margin) / (size * 0.47))
            words, line = s.split(), ""
            for w in words:
                if line and len(line) + 1 + len(w) > per_line:
                    lines.append((line, size, is_bold, 0.0))
                    line = w
                else:
                    line = f"{line} {w}" if line else w
            lines.append((line, size, is_bold, after))

        block(_fold(str(p["title"])), 17, True, 10)
        block(_fold(", ".join(p["authors"])), 12, False, 4)  # type: ignore[arg-type]
        block(_fold(str(p["institute"])), 9, False, 14)
        block("Abstract", 10, True, 2)
        block(_fold(str(p["abstract"])), 9, False, 12)
        for k, (head, paras) in enumerate(p["sections"], 1):  # type: ignore[arg-type]
            block(f"{k} {head}", 12, True, 4)
            for para in paras:
                block(_fold(para), 10, False, 4)
        block("References", 12, True, 4)
        for k, ref in enumerate(p["references"], 1):  # type: ignore[arg-type]
            block(_fold(f"[{k}] {ref}"), 8, False, 1)
        page = None
        y = 0.0
        count = 0
        for line, size, is_bold, after in lines:
            if page is None or y - size * 1.2 < margin:
                if page is not None:
                    page.gen_content()
                    page.close()
                page = doc.new_page(width, height)
                count += 1
                y = height - margin
            y -= size * 1.2
            obj = c.FPDFPageObj_CreateTextObj(doc.raw, bold if is_bold else regular, size)
            data = (line + "\0").encode("utf-16-le")
            buf = ctypes.create_string_buffer(data, len(data))
            c.FPDFText_SetText(obj, ctypes.cast(buf, ctypes.POINTER(c.FPDF_WCHAR)))
            c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, margin, y)
            c.FPDFPage_InsertObject(page.raw, obj)
            y -= after
        assert page is not None
        page.gen_content()
        page.close()
        name = f"paper-{i:04d}.pdf"
        doc.save(out / name)
        doc.close()
        names.append(name)
        pages.append(count)
    return names, pages


# -- ~1 MB PDFs (attach and rename) ---------------------------------------------------------------


def big_pdfs(
    count: int = 20,
    size: int = 1_000_000,
    seed: int = generate.DEFAULT_SEED,
    cache: Path | None = None,
) -> list[Path]:
    """``count`` distinct PDFs of about ``size`` bytes each: papers of the corpus, one after
    another, until the file is that large (the size of a paper with a few figures)."""
    import pypdfium2 as pdfium

    base = corpus(seed=seed, cache=cache)
    folder = (cache or generate.CACHE_DIR) / f"pdfs-big-{count}x{size}-s{seed}-v{VERSION}"
    names = [f"big-{i:02d}.pdf" for i in range(count)]
    if all((folder / n).is_file() for n in names):
        return [folder / n for n in names]
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + 99)
    order = list(range(len(base.files)))
    rng.shuffle(order)
    take = iter(itertools.cycle(order))
    for name in names:
        dst = pdfium.PdfDocument.new()
        have = 0
        while have < size:
            f = base.files[next(take)]
            src = pdfium.PdfDocument(f)
            dst.import_pages(src)
            src.close()
            have += f.stat().st_size  # each file brings its own fonts: about its size
        tmp = folder / (name + ".part")
        dst.save(tmp)
        dst.close()
        os.replace(tmp, folder / name)
    return [folder / n for n in names]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=N_FILES)
    ap.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    ap.add_argument("--dir", type=Path, default=generate.CACHE_DIR)
    ap.add_argument("--maker", choices=["pdflatex", "pypdfium2"], default=None)
    ap.add_argument("--big", type=int, default=0, help="also make this many ~1 MB PDFs")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    c = corpus(args.files, args.seed, args.dir, maker=args.maker)
    print(
        f"{c.folder}: {len(c.files)} PDFs, {c.total_pages} pages "
        f"({min(c.pages)}-{max(c.pages)} per file), made with {c.maker} in {c.seconds:.1f} s; "
        f"this call {time.perf_counter() - t:.2f} s"
    )
    if args.big:
        big = big_pdfs(args.big, seed=args.seed, cache=args.dir)
        print(f"{len(big)} big PDFs: {big[0].parent} ({big[0].stat().st_size / 1e6:.2f} MB each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
