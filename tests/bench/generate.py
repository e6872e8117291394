"""A seeded generator of realistic BibTeX libraries for the benchmarks.

Entries look like what people import: 3-8 authors (accented names written both in LaTeX and
in UTF-8, ``von`` parts, ``Jr.``, some ``and others``), ~150-word abstracts, DOIs, keywords,
journals given as @string macros, months as macros, arXiv eprints, and some crossref children
whose @proceedings parents come at the end of the file, as BibTeX wants. The same seed and size
always give the same bytes, so figures of different runs compare.

Files go to a cache directory outside the repository (default ``/tmp/citedesk-bench``,
``CITEDESK_BENCH_DIR`` overrides it) and are reused while the generator version is unchanged.

    python -m tests.bench.generate --sizes 1k,10k,100k
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
from pathlib import Path

#: Bump when the output changes, so cached files are rebuilt.
VERSION = 1
DEFAULT_SEED = 1
CACHE_DIR = Path(os.environ.get("CITEDESK_BENCH_DIR", "/tmp/citedesk-bench"))
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}

# -- word material ------------------------------------------------------------------------------

# Family and given names as a .bib file writes them: LaTeX accents, UTF-8 and plain ASCII.
FAMILIES = [
    'M{\\"u}ller',
    "Müller",
    'Schr{\\"o}dinger',
    "Gödel",
    "Erd{\\H{o}}s",
    "Dvo{\\v{r}}{\\'a}k",
    "Łukasiewicz",
    "{\\L}ukasiewicz",
    "Garc{\\'\\i}a",
    "García",
    "Nu{\\~n}ez",
    "Núñez",
    'Bront{\\"e}',
    "Fran{\\c{c}}ois",
    "Øksendal",
    "{\\O}ksendal",
    "Ångström",
    'Sj{\\"o}berg',
    "Kowalczyk",
    "Nowak",
    "Wang",
    "Zhang",
    "Li",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Lin",
    "Luo",
    "Gao",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Hill",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Kim",
    "Park",
    "Choi",
    "Jung",
    "Kang",
    "Cho",
    "Yoon",
    "Tanaka",
    "Suzuki",
    "Takahashi",
    "Watanabe",
    "Ito",
    "Yamamoto",
    "Nakamura",
    "Kobayashi",
    "Kato",
    "Yoshida",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Dubois",
    "Lef{\\`e}vre",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Mercier",
    "Petrov",
    "Ivanov",
    "Smirnov",
    "Kuznetsov",
    "Popov",
    "Sokolov",
    "Lebedev",
    "Kozlov",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    'Sch{\\"a}fer',
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    'Schr{\\"o}der',
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    'Kr{\\"u}ger',
    "Hofmann",
    "Hartmann",
    "Jansen",
    "de Vries",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Kumar",
    "Singh",
    "Sharma",
    "Gupta",
    "Patel",
    "Reddy",
    "Rao",
    "Iyer",
    "Nair",
    "Das",
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Pereira",
    "Costa",
    "Carvalho",
    "Gomes",
    "Martins",
    "Jovanovi{\\'c}",
    "Petrovi{\\'c}",
    "Nikoli{\\'c}",
    "Horv{\\'a}th",
    "Szab{\\'o}",
    "Kov{\\'a}cs",
    "T{\\'o}th",
    "Nagy",
    "Varga",
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Öztürk",
]
GIVENS = [
    'J{\\"o}rg',
    "Jörg",
    "Ren{\\'e}",
    "René",
    "Fran{\\c{c}}oise",
    "José",
    "Jos{\\'e}",
    "Zoë",
    "Søren",
    "S{\\o}ren",
    'Bj{\\"o}rn',
    "Åsa",
    "Ana",
    "Ahmed",
    "Alice",
    "Amir",
    "Anna",
    "Antonio",
    "Arjun",
    "Ben",
    "Bo",
    "Carlos",
    "Chen",
    "Chiara",
    "Daniel",
    "David",
    "Dmitri",
    "Elena",
    "Emma",
    "Eric",
    "Fatima",
    "Felix",
    "Gabriel",
    "Hana",
    "Hans",
    "Hao",
    "Hiroshi",
    "Igor",
    "Ingrid",
    "Isabel",
    "Jan",
    "Jane",
    "Jia",
    "Jin",
    "Johan",
    "John",
    "Julia",
    "Kai",
    "Karl",
    "Kenji",
    "Lars",
    "Lei",
    "Lena",
    "Li",
    "Lin",
    "Lucas",
    "Lucía",
    "Luca",
    "Maria",
    "María",
    "Marco",
    "Mark",
    "Martin",
    "Maya",
    "Mei",
    "Michael",
    "Min",
    "Ming",
    "Mingze",
    "Nadia",
    "Naomi",
    "Nikolai",
    "Olga",
    "Omar",
    "Pablo",
    "Paolo",
    "Peter",
    "Pierre",
    "Priya",
    "Qiang",
    "Rahul",
    "Raj",
    "Robert",
    "Rui",
    "Sara",
    "Sarah",
    "Sergei",
    "Shin",
    "Sofia",
    "Stefan",
    "Sven",
    "Takeshi",
    "Thomas",
    "Tomás",
    "Wei",
    "Xin",
    "Yan",
    "Yuki",
    "Yusuf",
    "Zhen",
    "A.",
    "B.",
    "C. D.",
    "J.-P.",
    "M. J.",
    "R. K.",
    "Jean-Luc",
    "Hans-Peter",
]
WORDS = """
learning network deep neural model training data gradient stochastic descent optimization
convergence generalization bound analysis theory algorithm method approach framework
inference bayesian probabilistic estimation regression classification clustering kernel
representation embedding transformer attention language vision image video speech graph
reinforcement policy reward agent environment exploration robust adversarial privacy
federated distributed parallel efficient scalable sparse low-rank matrix tensor
factorization spectral random feature linear nonlinear convex nonconvex loss landscape
sharpness flat minima noise label regularization implicit bias dynamics phase transition
overparameterized interpolation benign overfitting double descent scaling law compute
memory hardware quantization pruning distillation compression inference latency
benchmark dataset evaluation metric experiment empirical study survey review dynamical
system differential equation stability control signal processing estimation filter
sampling monte carlo markov chain variational autoencoder generative diffusion score
flow normalizing energy contrastive self-supervised semi-supervised unsupervised
few-shot zero-shot transfer domain adaptation meta-learning continual lifelong causal
counterfactual fairness interpretability explanation uncertainty calibration
out-of-distribution detection segmentation tracking recognition retrieval ranking
recommendation search query index database protein molecule chemistry physics climate
medical clinical genomics biology finance economics social network epidemic
""".split()
FILLER = """
the of and in to a we for is that on with this by are as our an be which from it show
these results can its also paper propose present novel new method shows prove demonstrate
provide study consider both under while using between than more most such via through into
have has been not only but when where how why what their they does first second finally
""".split()
KEYWORD_POOL = [
    "machine learning",
    "deep learning",
    "optimization",
    "statistics",
    "computer vision",
    "natural language processing",
    "reinforcement learning",
    "graph neural networks",
    "generalization",
    "SGD",
    "transformers",
    "Bayesian inference",
    "kernel methods",
    "robustness",
    "privacy",
    "fairness",
    "causality",
    "information theory",
    "signal processing",
    "control",
    "bioinformatics",
    "quantum computing",
    "scientific computing",
    "databases",
]
JOURNALS = [
    ("jmlr", "Journal of Machine Learning Research"),
    ("tpami", "IEEE Transactions on Pattern Analysis and Machine Intelligence"),
    ("tit", "IEEE Transactions on Information Theory"),
    ("tsp", "IEEE Transactions on Signal Processing"),
    ("nature", "Nature"),
    ("science", "Science"),
    ("pnas", "Proceedings of the National Academy of Sciences"),
    ("aos", "The Annals of Statistics"),
    ("jasa", "Journal of the American Statistical Association"),
    ("siopt", "SIAM Journal on Optimization"),
    ("mathprog", "Mathematical Programming"),
    ("neco", "Neural Computation"),
    ("ml", "Machine Learning"),
    ("ijcv", "International Journal of Computer Vision"),
    ("cacm", "Communications of the ACM"),
    ("jacm", "Journal of the ACM"),
    ("tacl", "Transactions of the Association for Computational Linguistics"),
    ("nmi", "Nature Machine Intelligence"),
    ("physrev", "Physical Review E"),
    ("bioinf", "Bioinformatics"),
    ("zamm", 'Zeitschrift f{\\"u}r Angewandte Mathematik und Mechanik'),
    ("cras", "Comptes Rendus de l'Acad{\\'e}mie des Sciences"),
]
CONFERENCES = [
    "NeurIPS",
    "ICML",
    "ICLR",
    "COLT",
    "AISTATS",
    "CVPR",
    "ICCV",
    "ECCV",
    "ACL",
    "EMNLP",
    "NAACL",
    "KDD",
    "AAAI",
    "IJCAI",
    "UAI",
    "SIGMOD",
    "VLDB",
    "STOC",
    "FOCS",
    "SODA",
]
MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
PUBLISHERS = [
    "Springer",
    "MIT Press",
    "Cambridge University Press",
    "Elsevier",
    "Wiley",
    "Springer-Verlag",
    "Oxford University Press",
    "Now Publishers",
]
TAGS = [
    "to-read",
    "thesis",
    "survey",
    "theory",
    "ml",
    "cv",
    "nlp",
    "optimization",
    "review",
    "important",
    "reproduce",
    "teaching",
    "reading-group",
    "cite-in-paper",
    "background",
    "related-work",
    "methods",
    "datasets",
    "benchmarks",
    "Ünïcode-tag",
]


class _Writer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        vocab = WORDS + [w.capitalize() for w in WORDS[:40]]
        # Zipf-like weights: a few words are everywhere, most are rare (as in real abstracts).
        self.vocab = vocab + FILLER
        weights = [1.0 / (i + 1) ** 0.9 for i in range(len(vocab))] + [3.0] * len(FILLER)
        self.cum = list(itertools.accumulate(weights))
        self.used_keys: set[str] = set()
        self.serial = 0

    def words(self, n: int) -> list[str]:
        return self.rng.choices(self.vocab, cum_weights=self.cum, k=n)

    def title(self) -> str:
        rng = self.rng
        w = self.words(rng.randint(5, 13))
        w[0] = w[0].capitalize()
        roll = rng.random()
        if roll < 0.15:
            w.insert(
                rng.randrange(len(w)),
                "{"
                + rng.choice(["SGD", "BERT", "ResNet", "GPU", "LaTeX", "PAC-Bayes", "MCMC"])
                + "}",
            )
        elif roll < 0.22:
            w.append("in $O(n \\log n)$ time")
        elif roll < 0.27:
            w.insert(1, rng.choice(["{\\'E}tude", "à la", "Schr{\\\"o}dinger's", 'na{\\"\\i}ve']))
        text = " ".join(w)
        if rng.random() < 0.3:
            text += ": " + " ".join(self.words(rng.randint(3, 6)))
        return text

    def abstract(self) -> str:
        rng = self.rng
        sentences = []
        n = 0
        target = rng.randint(165, 225)
        while n < target:
            k = rng.randint(10, 24)
            s = self.words(k)
            s[0] = s[0].capitalize()
            sentence = " ".join(s)
            roll = rng.random()
            if roll < 0.05:
                sentence += " with rate $\\mathcal{O}(1/\\sqrt{T})$"
            elif roll < 0.08:
                sentence += " (see \\emph{Section 3})"
            elif roll < 0.10:
                sentence += ", 95\\% of the time"
            elif roll < 0.11:
                sentence += " (contact: first.last@example.org)"
            sentences.append(sentence + ".")
            n += k
        return " ".join(sentences)

    def person(self) -> str:
        rng = self.rng
        family = rng.choice(FAMILIES)
        given = rng.choice(GIVENS)
        roll = rng.random()
        if roll < 0.03:
            return f"{family}, Jr., {given}"
        if roll < 0.08:
            return f"{given} {family}"  # "First Last" form
        return f"{family}, {given}"  # von parts ("van den Berg") lead the family part

    def authors(self) -> tuple[str, str]:
        rng = self.rng
        people = [self.person() for _ in range(rng.randint(3, 8))]
        text = " and ".join(people)
        if rng.random() < 0.05:
            text += " and others"
        first = people[0].split(",")[0].split()[-1]
        return text, first

    def key(self, first_family: str, year: int, title: str) -> str:
        import re
        import unicodedata

        fam = unicodedata.normalize("NFKD", re.sub(r"\\.|[{}\\'\"`~^]", "", first_family))
        fam = "".join(c for c in fam if c.isascii() and c.isalnum()).lower() or "anon"
        word = next((w for w in re.findall(r"[a-z]{4,}", title.lower())), "paper")
        base = f"{fam}{year}{word}"
        key = base
        for suffix in itertools.chain(
            "abcdefghijklmnopqrstuvwxyz", (str(i) for i in itertools.count(2))
        ):
            if key.lower() not in self.used_keys:
                break
            key = base + suffix
        self.used_keys.add(key.lower())
        return key

    def entry(self, i: int, parent: str | None = None) -> str:
        rng = self.rng
        year = rng.randint(1965, 2026)
        title = self.title()
        authors, first = self.authors()
        key = self.key(first, year, title)
        fields: list[tuple[str, str]] = [
            ("author", "{" + authors + "}"),
            ("title", "{" + title + "}"),
        ]
        roll = rng.random()
        if parent is not None:
            etype = "inproceedings"
            fields.append(("crossref", "{" + parent + "}"))
            fields.append(("pages", f"{{{rng.randint(1, 400)}--{rng.randint(401, 800)}}}"))
        elif roll < 0.55:
            etype = "article"
            macro, _ = rng.choice(JOURNALS)
            fields += [
                ("journal", macro),
                ("volume", f"{{{rng.randint(1, 80)}}}"),
                ("number", f"{{{rng.randint(1, 12)}}}"),
                ("pages", f"{{{rng.randint(1, 900)}--{rng.randint(901, 1800)}}}"),
            ]
        elif roll < 0.80:
            etype = "inproceedings"
            conf = rng.choice(CONFERENCES)
            fields += [
                ("booktitle", f"{{Proceedings of {conf} {year}}}"),
                ("pages", f"{{{rng.randint(1, 900)}--{rng.randint(901, 1800)}}}"),
                ("publisher", "{" + rng.choice(PUBLISHERS) + "}"),
            ]
        elif roll < 0.88:
            etype = "misc"
            cls = rng.choice(["cs.LG", "stat.ML", "cs.CV", "cs.CL", "math.OC"])
            fields += [
                (
                    "eprint",
                    f"{{{year % 100:02d}{rng.randint(1, 12):02d}.{rng.randint(1, 99999):05d}}}",
                ),
                ("archiveprefix", "{arXiv}"),
                ("primaryclass", "{" + cls + "}"),
            ]
        elif roll < 0.93:
            etype = "book"
            fields += [
                ("publisher", "{" + rng.choice(PUBLISHERS) + "}"),
                (
                    "address",
                    "{"
                    + rng.choice(["Berlin", "New York", 'Z{\\"u}rich', "Cambridge, MA", "Paris"])
                    + "}",
                ),
            ]
        elif roll < 0.97:
            etype = "phdthesis"
            fields.append(
                (
                    "school",
                    "{"
                    + rng.choice(
                        ['ETH Z{\\"u}rich', "MIT", "Université Paris-Saclay", "Peking University"]
                    )
                    + "}",
                )
            )
        else:
            etype = "techreport"
            fields.append(
                (
                    "institution",
                    "{" + rng.choice(["Microsoft Research", "INRIA", "Max-Planck-Institut"]) + "}",
                )
            )
        fields.append(("year", str(year) if rng.random() < 0.5 else f"{{{year}}}"))
        if rng.random() < 0.6:
            fields.append(("month", rng.choice(MONTHS)))
        if rng.random() < 0.85:
            self.serial += 1
            fields.append(
                (
                    "doi",
                    f"{{10.{rng.randint(1000, 9999)}/"
                    f"{rng.choice(['j', 'a', 's', 'tpami', 'nips'])}."
                    f"{year}.{self.serial:07d}}}",
                )
            )
        if rng.random() < 0.4:
            fields.append(("url", f"{{https://example.org/papers/{key}}}"))
        kws = rng.sample(KEYWORD_POOL, rng.randint(2, 5))
        fields.append(("keywords", "{" + ", ".join(kws) + "}"))
        fields.append(("abstract", "{" + self.abstract() + "}"))
        if rng.random() < 0.05:
            fields.append(("note", '"Extended version of " # {' + rng.choice(CONFERENCES) + "}"))
        width = max(len(n) for n, _ in fields)
        body = ",\n".join(f"  {n.ljust(width)} = {v}" for n, v in fields)
        return f"@{etype}{{{key},\n{body}\n}}\n"

    def proceedings(self, key: str) -> str:
        rng = self.rng
        conf = rng.choice(CONFERENCES)
        year = rng.randint(1990, 2026)
        editors = " and ".join(self.person() for _ in range(rng.randint(1, 3)))
        return (
            f"@proceedings{{{key},\n  editor    = {{{editors}}},\n"
            f"  title     = {{Proceedings of the {conf} Conference {year}}},\n"
            f"  year      = {{{year}}},\n"
            f"  publisher = {{{rng.choice(PUBLISHERS)}}}\n}}\n"
        )


def generate(path: Path, n: int, seed: int = DEFAULT_SEED) -> Path:
    """Write an ``n``-entry .bib file to ``path`` (about 1.7 KB per entry)."""
    w = _Writer(seed)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(f"% Citedesk benchmark library: {n} entries, seed {seed}, generator v{VERSION}\n")
        fh.write('@preamble{"\\providecommand{\\noopsort}[1]{}"}\n')
        for macro, name in JOURNALS:
            fh.write(f"@string{{{macro} = {{{name}}}}}\n")
        fh.write("\n@comment{jabref-meta: databaseType:bibtex; contact @ example.org}\n\n")
        n_parents = max(1, n // 200)
        parents = [f"proc{i:05d}" for i in range(n_parents)]
        n_children = n_parents * 2
        children_at = set(w.rng.sample(range(n - n_parents), min(n_children, n - n_parents)))
        for i in range(n - n_parents):
            parent = parents[i % n_parents] if i in children_at else None
            fh.write(w.entry(i, parent))
            fh.write("\n")
        for key in parents:
            fh.write(w.proceedings(key))
            fh.write("\n")
    os.replace(tmp, path)
    return path


def bib_path(size: str | int, seed: int = DEFAULT_SEED, cache: Path | None = None) -> Path:
    """The cached .bib file for a size (``"10k"`` or a number), generated when missing."""
    n = SIZES[size] if isinstance(size, str) else int(size)
    cache = cache or CACHE_DIR
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"lib-{n}-s{seed}-v{VERSION}.bib"
    if not path.exists():
        generate(path, n, seed)
    return path


def add_personal_data(lib: object, seed: int = DEFAULT_SEED) -> None:
    """Give an imported library tags (30 % of papers), notes (5 %), statuses and ratings."""
    from citedesk.db import Library

    assert isinstance(lib, Library)
    rng = random.Random(seed + 1000)
    ids = lib.paper_ids()
    by_tag: dict[str, list[int]] = {}
    for pid in ids:
        if rng.random() < 0.3:
            for tag in rng.sample(TAGS, rng.randint(1, 3)):
                by_tag.setdefault(tag, []).append(pid)
    for tag, tagged in by_tag.items():
        lib.add_tags(tagged, [tag])
    reading = [pid for pid in ids if rng.random() < 0.1]
    read = [pid for pid in ids if rng.random() < 0.2 and pid not in set(reading)]
    lib.set_status(reading, "reading")
    lib.set_status(read, "read")
    for stars in range(1, 6):
        lib.set_rating([pid for pid in ids if rng.random() < 0.03], stars)
    w = _Writer(seed + 2000)
    with lib._write():  # one transaction for all notes
        for pid in ids:
            if rng.random() < 0.05:
                lib.add_note(pid, " ".join(w.words(rng.randint(20, 80))))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1k,10k", help="comma-separated: 1k,10k,100k or numbers")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--dir", type=Path, default=CACHE_DIR)
    args = ap.parse_args(argv)
    for size in args.sizes.split(","):
        size = size.strip()
        path = bib_path(size if size in SIZES else int(size), args.seed, args.dir)
        print(f"{size}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.exit(main())
