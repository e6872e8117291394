"""A library whose shown values were derived by older rules is derived again on opening."""

from __future__ import annotations

from pathlib import Path

from citedesk.db import Library, Query
from citedesk.db.derive import DERIVE_VERSION
from citedesk.db.options import DERIVED_WITH


def test_a_library_derived_by_older_rules_is_derived_again_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with Library.open(path) as lib:
        assert lib.setting(DERIVED_WITH) == DERIVE_VERSION  # a new library is up to date
        pid = lib.require_key("wang2023theoreticalanalysisnoise")
        shown = lib.rows([pid])[pid].authors
        # As an older Citedesk left it: other short forms, a stale index, no version.
        lib.conn.execute("UPDATE papers SET authors = 'Wang, Wu', title = 'Stale'")
        lib.conn.execute("DELETE FROM settings WHERE name = ?", [DERIVED_WITH.name])
        lib.rebuild_index()

    with Library.open(path) as lib:
        row = lib.rows([pid])[pid]
        assert row.authors == shown == "Wang & Wu"
        assert row.title.startswith("A Theoretical Analysis of Noise")
        assert lib.paper_ids(Query(search="stale")) == []
        assert pid in lib.paper_ids(Query(search="noise geometry"))
        assert lib.setting(DERIVED_WITH) == DERIVE_VERSION


def test_an_up_to_date_library_is_not_derived_again(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    Library.open(path).close()
    with Library.open(path, seed=False) as lib:
        lib.conn.execute("UPDATE papers SET title = 'Kept' WHERE id = 1")
    with Library.open(path) as lib:
        assert lib.rows([1])[1].title == "Kept"  # nothing re-derived it
