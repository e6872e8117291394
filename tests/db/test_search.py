"""Whatever is typed into search returns results or a hint, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db import Library, Query
from db.search import parse_query

HOSTILE = ['"', '""', "(", ")", "AND", "OR", "NOT", "NEAR(a b)", "*", "-", ":", "title:",
           "year:", "year:abc", "year:..", "tag:", "a OR", '"unclosed', "🙂", "x" * 10_000,
           "^", "col:val", "-\"", "---", "{", "\\", "'", "author:\"", "NEAR", "AND AND"]


def test_hostile_queries_never_raise(seeded: Library) -> None:
    for text in HOSTILE:
        seeded.paper_ids(Query(search=text))
        seeded.count(Query(search=text))


def test_bad_year_gives_a_hint() -> None:
    assert "year:abc" in (parse_query("year:abc").hint or "")
    assert parse_query("sgd").hint is None


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_text_is_a_valid_query(seeded: Library, text: str) -> None:
    seeded.paper_ids(Query(search=text))
