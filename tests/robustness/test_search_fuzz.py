"""Any text typed as a search returns results or a hint, never an exception (hypothesis).

The FTS5 string search.py builds is also run directly, because Library.paper_ids turns an
FTS error into "nothing found": only the direct check shows the escaping itself is sound.
"""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citedesk.cli import main
from citedesk.db import Library, Query
from citedesk.db.search import parse_query

HOSTILE_TOKENS = [
    '"',
    '""',
    '"unclosed',
    "(",
    ")",
    "()",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "NEAR(a b, 2)",
    "*",
    "**",
    "-",
    "--",
    ":",
    "::",
    "^",
    "+",
    "title:",
    'author:"',
    "year:",
    "year:..",
    "year:2020..",
    "year:abc",
    "tag:",
    "key:",
    "key:%_",
    "note:",
    "col:val",
    "🙂",
    "👩‍🔬",
    "\\",
    "'",
    "{",
    "}",
    "%",
    "_",
    "\u202e",
    "\ufeff",
    "\x00",
    "\x7f",
    "yolo",
    "Müller",
    "-yolo",
    "transf*",
    "a*b",
    "x" * 300,
    "; DROP TABLE papers; --",
    "' OR 1=1 --",
]

token_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE_TOKENS), st.text(max_size=12)),
    max_size=40,
).map(" ".join)
long_text = st.builds(
    lambda t, n: (t * (10_000 // max(len(t), 1) + 1))[:n],
    st.sampled_from(HOSTILE_TOKENS + ["a OR ", '"x" NEAR ', "(a AND "]),
    st.integers(1000, 10_000),
)
any_search = st.one_of(token_text, st.text(max_size=300), long_text)

FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(any_search)
def test_any_search_returns_results_or_a_hint(seeded: Library, text: str) -> None:
    ids = seeded.paper_ids(Query(search=text))
    assert isinstance(ids, list) and len(ids) == seeded.count(Query(search=text))
    hint = seeded.search_hint(text)
    assert hint is None or isinstance(hint, str)
    if len(text) > 1000:
        assert hint and "first 1000 characters" in hint


@FUZZ
@given(any_search)
def test_the_fts_query_built_from_any_text_is_valid_fts5(seeded: Library, text: str) -> None:
    parsed = parse_query(text)
    for table, expr in parsed.matches():
        seeded.conn.execute(
            f"SELECT count(*) FROM {table} WHERE {table} MATCH ?", [expr]
        ).fetchone()
    # The whole WHERE clause, with its parameters, is valid SQL too.
    seeded.conn.execute(
        f"SELECT count(*) FROM papers p WHERE {parsed.where}", parsed.params
    ).fetchone()


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(any_search.filter(lambda t: "\x00" not in t))
def test_any_search_through_list_search(seeded: Library, text: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--library", str(seeded.path), "list", f"--search={text}"])
    assert code == 0, err.getvalue()
    assert all(line.startswith("citedesk: search: ") for line in err.getvalue().splitlines())


@pytest.mark.parametrize(
    "text",
    [
        '"',
        "NEAR(",
        "a OR",
        "title:",
        "-",
        "🙂 (",
        "x" * 10_000,
        "year:abc",
        "'; DROP TABLE papers; --",
    ],
)
def test_hostile_search_in_the_real_command(lib_path: Path, text: str) -> None:
    Library.open(lib_path).close()
    r = subprocess.run(
        [sys.executable, "-m", "citedesk", "--library", str(lib_path), "list", f"--search={text}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert all(line.startswith("citedesk: search: ") for line in r.stderr.splitlines())
    with Library.open(lib_path) as lib:
        assert lib.count() == 25


def test_a_search_that_finds_nothing_says_why(seeded: Library) -> None:
    assert seeded.paper_ids(Query(search="year:abc")) == seeded.paper_ids()  # ignored part
    assert "year:abc" in (seeded.search_hint("year:abc") or "")
    assert seeded.search_hint("...") == "'...' has no letters or digits to search for"
