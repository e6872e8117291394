"""The importer on hypothesis-generated BibTeX and on mutated real files (a bounded run).

The checks live in fuzz_import.py, which is also the long run (see its docstring); here
they run for a few hundred cases, in about 20 seconds.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_spec = importlib.util.spec_from_file_location(
    "fuzz_import", Path(__file__).resolve().parent / "fuzz_import.py"
)
assert _spec is not None and _spec.loader is not None
fuzz = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("fuzz_import", fuzz)
_spec.loader.exec_module(fuzz)

BOUNDED = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture
def checker(tmp_path: Path):
    c = fuzz.Checker(tmp_path)
    yield c
    c.close()


@BOUNDED
@given(fuzz.bibtex_file())
def test_generated_bibtex_never_crashes_or_corrupts(checker, data: bytes) -> None:
    checker.check(data)


@pytest.fixture(scope="module")
def corpus_contents() -> list[bytes]:
    files = fuzz.corpus_files()
    if not files:
        pytest.skip(f"the shared BibTeX corpus is not at {fuzz.CORPUS}: no real files to mutate")
    return [p.read_bytes() for p in files]


@BOUNDED
@given(data=st.data())
def test_mutated_real_files_never_crash_or_corrupt(
    checker, corpus_contents: list[bytes], data: st.DataObject
) -> None:
    original = data.draw(st.sampled_from(corpus_contents))
    mutations = data.draw(st.lists(fuzz.mutation, min_size=1, max_size=5))
    checker.check(fuzz.mutate(original, mutations))


def test_the_checker_notices_a_changed_paper(checker, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzz checks would catch damage: an import that also edits a paper fails them."""
    real = checker.lib.import_files

    def import_and_damage(paths):
        report = real(paths)
        checker.lib.update_fields(checker.lib.paper_ids()[0], {"title": "changed"})
        return report

    monkeypatch.setattr(checker.lib, "import_files", import_and_damage)
    with pytest.raises(AssertionError, match="papers that were there changed"):
        checker.check(b"@misc{new, title = {New}}\n")
