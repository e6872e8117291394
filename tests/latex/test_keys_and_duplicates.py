"""Key regeneration on request, aliases, and finding and merging duplicates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from citedesk.db import Library, LibraryError


def test_keys_never_change_by_themselves(seeded: Library) -> None:
    pid = seeded.id_for_key("wang2023qyolo")
    seeded.update_fields(pid, {"title": "Something else entirely", "year": "2030"})
    assert seeded.paper(pid).key == "wang2023qyolo"


def test_regenerate_changes_key_and_keeps_old_as_alias(seeded: Library) -> None:
    pid = seeded.id_for_key("wang2023qyolo")
    changed = seeded.regenerate_keys([pid], "[auth][year]").keys
    assert changed == {pid: ("wang2023qyolo", "Wang2023")}
    assert seeded.id_for_key("wang2023qyolo") == pid
    assert seeded.paper(pid).aliases == ["wang2023qyolo"]


def test_suffixes_follow_date_added_not_argument_order(empty_lib: Library) -> None:
    first = empty_lib.add_paper(
        {"author": "Li, A", "title": "Alpha", "year": "2020"}, key="k1"
    ).new_paper
    second = empty_lib.add_paper(
        {"author": "Li, B", "title": "Beta", "year": "2020"}, key="k2"
    ).new_paper
    changed = empty_lib.regenerate_keys([second, first], "[auth:lower][year]").keys
    assert changed[first][1] == "li2020" and changed[second][1] == "li2020a"


def test_bad_pattern_is_refused(seeded: Library) -> None:
    with pytest.raises(ValueError, match="unknown key pattern token"):
        seeded.regenerate_keys(None, "[nonsense]")


def test_set_key_pattern_persists(lib_path: Path) -> None:
    with Library.open(lib_path) as lib:
        lib.set_key_pattern("[auth][year]")
    with Library.open(lib_path) as lib:
        assert lib.key_pattern == "[auth][year]"
        pid = lib.add_paper({"author": "Zhu, Q", "title": "T", "year": "2001"}).new_paper
        assert lib.paper(pid).key == "Zhu2001"


def test_duplicates_by_doi_arxiv_and_title(empty_lib: Library) -> None:
    empty_lib.import_text(
        "@article{a1, title={Deep Things}, doi={10.1/x}, year=2020, author={Li, A}}\n"
        "@misc{a2, title={Deep things!}, year=2020, author={Li, Ann}, eprint={2001.00001}}\n"
        "@misc{a3, title={Other}, eprint={2001.00001v2}, archiveprefix={arXiv}}\n"
        "@misc{b1, title={A Completely Different Paper}, year=2021}\n"
        "@misc{b2, title={A completely different paper}, year=2021}\n"
        "@misc{c1, title={Unique Work Here}, year=2019}\n"
    )
    groups = [[empty_lib.paper(i).key for i in g] for g in empty_lib.find_duplicates()]
    assert groups == [["a1", "a2", "a3"], ["b1", "b2"]]


def test_merge_keeps_richer_fields_tags_notes_and_old_key(empty_lib: Library) -> None:
    empty_lib.import_text(
        "@article{keep, title={Deep}, doi={10.1/x}}\n"
        "@article{dup, title={Deep learning, the long title}, pages={1--2}}\n"
    )
    keep, dup = empty_lib.id_for_key("keep"), empty_lib.id_for_key("dup")
    empty_lib.add_tags([keep], ["a"])
    empty_lib.add_tags([dup], ["b"])
    empty_lib.add_note(dup, "from the duplicate")
    empty_lib.set_status([dup], "read")
    empty_lib.merge_papers(keep, [dup])
    p = empty_lib.paper(keep)
    assert p.title == "Deep learning, the long title" and p.pages == "1–2"
    assert p.tags == ["a", "b"] and [n.body for n in p.notes] == ["from the duplicate"]
    assert p.status == "read" and p.aliases == ["dup"]
    assert empty_lib.count() == 1 and empty_lib.id_for_key("dup") == keep


def test_merge_can_be_undone_exactly(empty_lib: Library) -> None:
    empty_lib.import_text(
        "@article{keep, title={Deep}, doi={10.1/x}}\n@article{dup, title={Deeper}, doi={10.1/x2}}\n"
    )
    ids = [empty_lib.id_for_key("keep"), empty_lib.id_for_key("dup")]
    before = empty_lib.export_text()
    merged = empty_lib.merge_papers(ids[0], ids[1:])
    assert merged.undo is not None
    empty_lib.undo(merged.undo)
    assert empty_lib.export_text() == before
    assert empty_lib.paper(ids[1]).key == "dup"


def test_cli_keys_and_duplicates(lib_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "citedesk", "--library", str(lib_path), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert run("keys", "pattern").stdout.strip() == "[auth:lower][year][shorttitle]"
    assert run("keys", "pattern", "[bogus]").returncode == 2
    r = run("keys", "regenerate", "--key", "wang2023qyolo", "--pattern", "[auth][year]")
    assert r.returncode == 0 and "wang2023qyolo -> Wang2023" in r.stdout
    assert run("keys", "regenerate").returncode == 2
    assert run("duplicates").stdout == ""
    assert run("tag", "wang2023qyolo", "x").returncode == 0  # the old key still works


def test_merge_refuses_unknown_key(seeded: Library) -> None:
    with pytest.raises(LibraryError):
        seeded.merge_papers(seeded.require_key("nope"), [])
