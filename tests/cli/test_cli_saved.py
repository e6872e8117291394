"""``citedesk saved`` and ``--saved``: saved searches from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from citedesk.db import Library, Query
from tests.cli.test_cli import citedesk


def keys_of(bib: Path) -> set[str]:
    return {
        line.split("{", 1)[1].rstrip(",").strip()
        for line in bib.read_text().splitlines()
        if line.startswith("@")
    }


def test_add_list_rename_and_remove(lib_path: Path) -> None:
    r = citedesk("saved", "add", "Yolo", "yolo", "--status", "unread", lib=lib_path)
    assert r.returncode == 0, r.stderr
    listed = json.loads(citedesk("saved", "list", "--json", lib=lib_path).stdout)
    assert listed == [
        {"name": "Yolo", "query": "yolo", "tag": None, "status": "unread", "count": 1}
    ]
    assert citedesk("saved", "list", lib=lib_path).stdout.startswith("Yolo\tyolo")
    assert citedesk("saved", "rename", "yolo", "Detectors", lib=lib_path).returncode == 0
    assert citedesk("saved", "list", lib=lib_path).stdout.startswith("Detectors\t")
    assert citedesk("saved", "remove", "detectors", lib=lib_path).returncode == 0
    assert json.loads(citedesk("saved", "list", "--json", lib=lib_path).stdout) == []


def test_an_unknown_or_taken_name_is_an_error_naming_it(lib_path: Path) -> None:
    citedesk("saved", "add", "sgd", "sgd", lib=lib_path)
    r = citedesk("saved", "add", "SGD", "other", lib=lib_path)
    assert r.returncode == 1 and "'sgd'" in r.stderr
    r = citedesk("list", "--saved", "nothing", lib=lib_path)
    assert r.returncode == 1 and "'nothing'" in r.stderr


def test_list_saved_equals_list_search(lib_path: Path) -> None:
    citedesk("saved", "add", "sgd", "sgd year:2022..", lib=lib_path)
    saved = citedesk("list", "--saved", "sgd", lib=lib_path)
    searched = citedesk("list", "--search", "sgd year:2022..", lib=lib_path)
    assert saved.returncode == 0, saved.stderr
    assert saved.stdout == searched.stdout and saved.stdout.count("\n") > 1


def test_export_saved_writes_the_saved_searchs_papers(lib_path: Path, tmp_path: Path) -> None:
    citedesk("saved", "add", "sgd", "sgd", lib=lib_path)
    citedesk("export", "--saved", "sgd", "-o", str(tmp_path / "a.bib"), lib=lib_path)
    citedesk("export", "--search", "sgd", "-o", str(tmp_path / "b.bib"), lib=lib_path)
    assert (tmp_path / "a.bib").read_text() == (tmp_path / "b.bib").read_text()


def test_an_autoexport_follows_the_saved_search_as_it_changes(
    lib_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "refs.bib"
    citedesk("saved", "add", "yolo", "yolo", lib=lib_path)
    r = citedesk("autoexport", "add", str(out), "--saved", "yolo", lib=lib_path)
    assert r.returncode == 0, r.stderr
    assert keys_of(out) == {"wang2023qyolo"}

    assert citedesk("saved", "rename", "yolo", "reading", lib=lib_path).returncode == 0
    with Library.open(lib_path) as lib:  # the window's Edit… does this
        lib.update_saved_search("reading", Query(search="sgd"))
    assert citedesk("autoexport", "run", lib=lib_path).returncode == 0
    searched = json.loads(citedesk("list", "--search", "sgd", "--json", lib=lib_path).stdout)
    assert keys_of(out) == {p["key"] for p in searched} and len(searched) > 1

    r = citedesk("saved", "remove", "reading", lib=lib_path)
    assert r.returncode == 1 and str(out) in r.stderr  # refused: the file follows it
    citedesk("autoexport", "remove", str(out), lib=lib_path)
    assert citedesk("saved", "remove", "reading", lib=lib_path).returncode == 0


def test_an_autoexport_writes_the_search_as_it_is_when_run(lib_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "refs.bib"
    citedesk("saved", "add", "mine", "", "--tag", "mine", lib=lib_path)
    citedesk("autoexport", "add", str(out), "--saved", "mine", lib=lib_path)
    assert keys_of(out) == set()
    assert citedesk("tag", "wang2023qyolo", "mine", lib=lib_path).returncode == 0
    assert keys_of(out) == {"wang2023qyolo"}
