"""A JabRef user's groups become tags, and the file's JabRef settings stay in it."""

from __future__ import annotations

from pathlib import Path

from citedesk.db import Library, Query
from citedesk.db.jabref import parse_groups

JABREF2 = """\
@article{a1, title = {First}, keywords = {deep learning, vision}}
@article{a2, title = {Second}, keywords = {Vision}}
@article{a3, title = {Third}}

@comment{jabref-meta: groupstree:
0 AllEntriesGroup:;
1 ExplicitGroup:To read\\;0\\;a1\\;a3\\;;
1 KeywordGroup:Vision\\;0\\;keywords\\;vision\\;0\\;0\\;;
1 SearchGroup:Old\\;0\\;year < 2000\\;0\\;0\\;;
}
"""


def test_explicit_and_keyword_groups_become_tags(tmp_path: Path) -> None:
    src = tmp_path / "jabref2.bib"
    src.write_text(JABREF2)
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        report = lib.import_files([src])
        assert report.changes.tags
        assert sorted(lib.paper_tags(lib.require_key("a1"))) == ["To read", "Vision"]
        assert lib.paper_tags(lib.require_key("a2")) == ["Vision"]
        assert lib.paper_tags(lib.require_key("a3")) == ["To read"]
        # A search group is a query in JabRef's language: no tag, and the comment stays.
        assert "Old" not in {t.name for t in lib.tags()}
        assert lib.export_text()[0] == JABREF2
        # Tags are searchable right after the import.
        assert lib.count(Query(search="tag:vision")) == 2


def test_jabref_5_groups_of_a_real_file(bibdata: Path, tmp_path: Path) -> None:
    src = bibdata / "jabref/jablib/src/main/resources/Chocolate.bib"
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        report = lib.import_files([src])
        assert report.ok
        tags = {t.name: t for t in lib.tags()}
        assert {"Used", "Paywalled", "Skimmed", "Read"} <= set(tags)
        assert tags["Used"].color == "#0000ff" and tags["Skimmed"].color == "#ffff00"
        assert tags["Used"].count == 5
        assert tags["Read"].count == src.read_text().count("readstatus   = {read}")
        out = tmp_path / "out.bib"
        lib.export(out)
    # Its jabref-meta settings (groups, key patterns, search syntax) come back in place.
    assert out.read_bytes() == src.read_bytes()


def test_group_lines_with_escapes_and_colours() -> None:
    groups = parse_groups(
        "jabref-meta: grouping:\n0 AllEntriesGroup:;\n"
        "1 StaticGroup:Covid\\;0\\;1\\;0xcc3333ff\\;\\;Test folder\\;;\n"
        "2 StaticGroup:Covid subgroup\\;0\\;0\\;0x8a8a8aff\\;\\;\\;;\n"
    )
    assert [(g.name, g.kind, g.color) for g in groups] == [
        ("Covid", "static", "#cc3333"),
        ("Covid subgroup", "static", "#8a8a8a"),
    ]
    assert parse_groups("jabref-meta: databaseType:bibtex;") == []
