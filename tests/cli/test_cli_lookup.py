"""``citedesk add ID...`` and ``citedesk refresh KEY...`` against the loopback replay server.

The command runs in process, as in test_cli_formats.py; ``lookup_env`` points doi.org,
Crossref, arXiv and Open Library at tests/lookupserver.py (recorded answers, no network).
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import pytest

from citedesk import cli
from citedesk.db import Library

SCIENCE = "10.1126/science.169.3946.635"  # recorded at doi.org (content negotiation)
SCIENCE_KEY = "frank1970structureordinarywater"
HEAT_BATH = "1605.08386"  # recorded at arXiv
HEAT_BATH_KEY = "stanley2016heatbathrandomwalks"
NOWHERE = "10.9999/no.such.paper"  # doi.org answers 404

#: A seeded preprint (seeds/seed.bib: no eprint, no url) and what arXiv will say of it.
SEEDED_KEY = "zhang2026learningdynamicstwolayer"
SEEDED_TITLE = "On the Learning Dynamics of Two-layer Linear Networks with Label Noise SGD"
SEEDED_ID = "2603.10975"


def citedesk(*args: str, lib: Path | None = None, stdin: str | None = None) -> SimpleNamespace:
    """``citedesk [--library LIB] ARGS``: its exit code, stdout and stderr."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    err = io.StringIO()
    argv = [*(["--library", str(lib)] if lib is not None else []), *args]
    with redirect_stdout(out), redirect_stderr(err), pytest.MonkeyPatch.context() as mp:
        if stdin is not None:
            mp.setattr("sys.stdin", io.StringIO(stdin))
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        out.flush()
    stdout = out.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]
    return SimpleNamespace(returncode=code, stdout=stdout, stderr=err.getvalue())


def fields_of(lib_path: Path, key: str) -> dict[str, str]:
    lib = Library.open(lib_path)
    try:
        return {name.lower(): value for name, value in lib.paper(lib.require_key(key)).fields}
    finally:
        lib.close()


def count(lib_path: Path) -> int:
    lib = Library.open(lib_path)
    try:
        return lib.count()
    finally:
        lib.close()


def register_seeded_preprint(server) -> None:
    server.add_arxiv_entry(
        SEEDED_ID,
        SEEDED_TITLE,
        ["Tongcheng Zhang", "Zhanpeng Zhou", "Mingze Wang"],
        "2026-03-11",
        "One crucial factor behind the success of deep learning lies in the implicit bias.",
        primary_category="cs.LG",
    )


# -- add ------------------------------------------------------------------------------------------


def test_add_by_doi_stores_the_paper_with_its_doi(lookup_env, lib_path: Path) -> None:
    r = citedesk("add", f"https://doi.org/{SCIENCE}", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert f"added {SCIENCE_KEY}  The Structure of Ordinary Water" in r.stdout
    stored = fields_of(lib_path, SCIENCE_KEY)
    assert stored["doi"].strip("{}") == SCIENCE
    assert "Structure of Ordinary Water" in stored["title"]
    assert count(lib_path) == 26  # the 25 seeded papers and this one


def test_add_by_bare_arxiv_id(lookup_env, lib_path: Path) -> None:
    r = citedesk("add", HEAT_BATH, lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert f"added {HEAT_BATH_KEY}  Heat-bath random walks with Markov bases" in r.stdout
    stored = fields_of(lib_path, HEAT_BATH_KEY)
    assert stored["eprint"].strip("{}").startswith(HEAT_BATH)
    assert stored["eprinttype"].strip("{}") == "arxiv"


def test_add_from_a_reference_list_takes_every_identifier(lookup_env, lib_path, tmp_path) -> None:
    refs = tmp_path / "refs.txt"
    refs.write_text(
        "[1] H. S. Frank, The structure of ordinary water, Science 169 (1970), "
        f"doi:{SCIENCE}.\n"
        "[2] C. Stanley, T. Windisch, Heat-bath random walks with Markov bases, "
        f"arXiv:{HEAT_BATH}.\n"
        "[3] T. H. Cormen et al., Introduction to Algorithms, MIT Press, ISBN 978-0-262-03384-8.\n",
        encoding="utf-8",
    )
    r = citedesk("add", "--from", str(refs), lib=lib_path)
    assert r.returncode == 0, r.stderr
    added = [line.split()[1] for line in r.stdout.splitlines() if line.startswith("added ")]
    assert added == [SCIENCE_KEY, HEAT_BATH_KEY, "cormen2009introductionalgorithms"]
    assert count(lib_path) == 28


def test_add_reads_identifiers_from_standard_input(lookup_env, lib_path: Path) -> None:
    r = citedesk("add", "--from", "-", lib=lib_path, stdin=f"{HEAT_BATH}\n")
    assert r.returncode == 0, r.stderr
    assert f"added {HEAT_BATH_KEY}" in r.stdout


def test_a_failed_identifier_is_named_and_the_others_still_added(lookup_env, lib_path) -> None:
    r = citedesk("add", SCIENCE, NOWHERE, HEAT_BATH, lib=lib_path)
    assert r.returncode == 1
    problems = [line for line in r.stderr.splitlines() if NOWHERE in line]
    assert len(problems) == 1
    assert problems[0].startswith(f"citedesk: DOI {NOWHERE}: doi.org: ")
    assert "404" in problems[0]
    assert f"added {SCIENCE_KEY}" in r.stdout
    assert f"added {HEAT_BATH_KEY}" in r.stdout
    assert count(lib_path) == 27


def test_adding_again_skips_the_paper_the_library_has(lookup_env, lib_path: Path) -> None:
    assert citedesk("add", SCIENCE, lib=lib_path).returncode == 0
    r = citedesk("add", SCIENCE, lib=lib_path)
    assert r.returncode == 0, r.stderr  # a duplicate is not a failure
    assert f"skipped: {SCIENCE_KEY} already has it (same DOI)" in r.stdout
    assert "added " not in r.stdout
    assert count(lib_path) == 26


def test_allow_duplicates_adds_a_second_copy_under_a_new_key(lookup_env, lib_path) -> None:
    assert citedesk("add", SCIENCE, lib=lib_path).returncode == 0
    r = citedesk("add", SCIENCE, "--allow-duplicates", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert f"added {SCIENCE_KEY}a" in r.stdout
    assert count(lib_path) == 27


def test_a_second_lookup_is_answered_from_the_librarys_cache(lookup_env, lib_path) -> None:
    assert citedesk("add", SCIENCE, "--dry-run", lib=lib_path).returncode == 0
    lookup_env.clear()
    r = citedesk("add", SCIENCE, "--dry-run", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert lookup_env.requests == []


def test_dry_run_prints_the_bibtex_and_adds_nothing(lookup_env, lib_path: Path) -> None:
    r = citedesk("add", SCIENCE, "--dry-run", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"@article{{{SCIENCE_KEY},")
    assert f"doi       = {{{SCIENCE}}}," in r.stdout
    assert "added " not in r.stdout
    assert count(lib_path) == 25


def test_json_reports_each_identifier(lookup_env, lib_path: Path) -> None:
    assert citedesk("add", HEAT_BATH, lib=lib_path).returncode == 0
    r = citedesk("add", SCIENCE, HEAT_BATH, NOWHERE, "--json", lib=lib_path)
    assert r.returncode == 1
    by_asked = {rec["asked"]: rec for rec in json.loads(r.stdout)}
    assert by_asked[f"DOI {SCIENCE}"]["status"] == "added"
    assert by_asked[f"DOI {SCIENCE}"]["key"] == SCIENCE_KEY
    assert by_asked[f"DOI {SCIENCE}"]["source"] == "doi.org"
    dup = by_asked[f"arXiv {HEAT_BATH}"]
    assert dup["status"] == "duplicate"
    assert dup["same"] == [
        {
            "key": HEAT_BATH_KEY,
            "title": "Heat-bath random walks with Markov bases",
            "why": "same arXiv id",
        }
    ]
    failed = by_asked[f"DOI {NOWHERE}"]
    assert failed["status"] == "failed"
    assert failed["error"].startswith("doi.org: ")


def test_two_identifiers_of_one_paper_add_it_once(lookup_env, lib_path: Path) -> None:
    r = citedesk("add", HEAT_BATH, f"https://arxiv.org/abs/{HEAT_BATH}v1", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("added ") == 1
    assert "is the same paper as" in r.stdout
    assert count(lib_path) == 26


def test_text_without_an_identifier_is_a_usage_error(lookup_env, lib_path: Path) -> None:
    r = citedesk("add", "see the paper by Frank", lib=lib_path)
    assert r.returncode == 2
    assert "no DOI, arXiv id or ISBN found in 'see the paper by Frank'" in r.stderr
    assert lookup_env.requests == []


def test_a_server_error_at_doi_org_is_one_line_and_adds_nothing_of_it(lookup_env, lib_path) -> None:
    lookup_env.misbehave("500", path_prefix="/doi")
    r = citedesk("add", SCIENCE, HEAT_BATH, lib=lib_path)
    assert r.returncode == 1
    problems = [line for line in r.stderr.splitlines() if SCIENCE in line]
    assert len(problems) == 1
    assert problems[0].startswith(f"citedesk: DOI {SCIENCE}: doi.org: ")
    assert "500" in problems[0]
    assert "Traceback" not in r.stderr
    assert f"added {HEAT_BATH_KEY}" in r.stdout
    lib = Library.open(lib_path)
    try:
        assert lib.id_for_key(SCIENCE_KEY) is None
        assert lib.count() == 26
    finally:
        lib.close()


def test_a_published_preprint_arrives_as_published_unless_preprint(lookup_env, lib_path) -> None:
    lookup_env.add_arxiv_entry(
        "2001.01234",
        "The Structure of Ordinary Water",
        ["Henry S. Frank"],
        "2020-01-05",
        "Water.",
        doi=SCIENCE,
        primary_category="physics.chem-ph",
    )
    r = citedesk("add", "arXiv:2001.01234", "--dry-run", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("@article{")
    assert "eprint" in r.stdout and SCIENCE in r.stdout
    r = citedesk("add", "arXiv:2001.01234", "--dry-run", "--preprint", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("@misc{")


def test_ctrl_c_during_the_lookup_exits_130_and_adds_nothing(
    lookup_env, lib_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self, ids, progress=None, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("citedesk.db.lookup.Lookup.run", interrupted)
    r = citedesk("add", SCIENCE, lib=lib_path)
    assert r.returncode == 130
    assert "interrupted; nothing added" in r.stderr
    assert count(lib_path) == 25


# -- refresh --------------------------------------------------------------------------------------


def test_refresh_yes_fills_in_a_seeded_preprint(lookup_env, lib_path: Path) -> None:
    register_seeded_preprint(lookup_env)
    before = fields_of(lib_path, SEEDED_KEY)
    assert "eprint" not in before and "url" not in before
    r = citedesk("refresh", SEEDED_KEY, "--yes", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert f"{SEEDED_KEY}: matched arXiv (score " in r.stdout
    assert "  + eprint: " in r.stdout
    after = fields_of(lib_path, SEEDED_KEY)  # the key did not change
    assert after["eprint"].strip("{}").startswith(SEEDED_ID)
    assert SEEDED_ID in after["url"]
    assert after["keywords"] == before["keywords"]  # the person's own fields stay


def test_refresh_without_yes_writes_nothing(lookup_env, lib_path: Path) -> None:
    register_seeded_preprint(lookup_env)
    before = fields_of(lib_path, SEEDED_KEY)
    r = citedesk("refresh", SEEDED_KEY, lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert "  + eprint: " in r.stdout
    assert "(dry run: --yes applies all, --accept title,doi applies some)" in r.stdout
    assert fields_of(lib_path, SEEDED_KEY) == before


def test_refresh_accept_applies_only_the_fields_named(lookup_env, lib_path: Path) -> None:
    register_seeded_preprint(lookup_env)
    r = citedesk("refresh", SEEDED_KEY, "--accept", "eprint", lib=lib_path)
    assert r.returncode == 0, r.stderr
    after = fields_of(lib_path, SEEDED_KEY)
    assert "eprint" in after
    assert "url" not in after


def test_refresh_of_a_paper_with_a_doi_up_to_date(lookup_env, lib_path: Path) -> None:
    assert citedesk("add", SCIENCE, lib=lib_path).returncode == 0
    lookup_env.clear()
    r = citedesk("refresh", SCIENCE_KEY, lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert f"{SCIENCE_KEY}: matched doi.org (DOI {SCIENCE})" in r.stdout
    assert f"{SCIENCE_KEY}: up to date" in r.stdout
    assert any(req.path.startswith("/doi/") for req in lookup_env.requests)  # not the cache


def test_refresh_says_when_no_match_is_good_enough(lookup_env, lib_path: Path) -> None:
    r = citedesk("refresh", SEEDED_KEY, "--yes", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert f"{SEEDED_KEY}: no match" in r.stdout


def test_refresh_needs_keys_or_all(lookup_env, lib_path: Path) -> None:
    r = citedesk("refresh", lib=lib_path)
    assert r.returncode == 2
    assert "KEY... or --all" in r.stderr
