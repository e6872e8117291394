"""The ``file`` fields other tools write become linked attachments on import.

A real .bib in tmp_path with JabRef, Zotero/Better BibTeX, Mendeley and BibDesk entries, and
the files they name beside it (some of them missing).
"""

from __future__ import annotations

import base64
import plistlib
from pathlib import Path

from citedesk.db import Library, Query


def bdsk(relative: str) -> str:
    archive = {
        "$archiver": "NSKeyedArchiver",
        "$version": 100000,
        "$top": {"root": plistlib.UID(1)},
        "$objects": [
            "$null",
            {"relativePath": plistlib.UID(2), "$class": plistlib.UID(3)},
            relative,
            {"$classname": "BDSKFile", "$classes": ["BDSKFile", "NSObject"]},
        ],
    }
    return base64.b64encode(plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)).decode("ascii")


def test_file_fields_of_four_tools_become_linked_files(tmp_path: Path, pdfs: Path) -> None:
    folder = tmp_path / "thesis"
    (folder / "papers").mkdir(parents=True)
    (folder / "papers" / "a b.pdf").write_bytes((pdfs / "minimal-document.pdf").read_bytes())
    (folder / "papers" / "c;d.pdf").write_bytes(b"%PDF-1.4 c")
    (folder / "slides.odp").write_bytes(b"odp")
    zotero = tmp_path / "zotero" / "z.pdf"
    zotero.parent.mkdir()
    zotero.write_bytes(b"%PDF-1.4 z")
    bib = folder / "refs.bib"
    bib.write_text(
        "@article{jab, title = {JabRef}, file = {Paper:papers/a b.pdf:PDF;"
        ":papers/c\\;d.pdf:PDF;Slides:slides.odp:}}\n"
        f"@article{{zot, title = {{Zotero}}, file = {{{zotero}}}}}\n"
        "@article{men, title = {Mendeley}, file = {:papers/gone.pdf:pdf}}\n"
        f"@article{{bd, title = {{BibDesk}}, bdsk-file-1 = {{{bdsk('papers/a b.pdf')}}}}}\n"
        "@article{web, title = {Web only}, file = {Online:https\\://example.org/x.pdf:URL}}\n"
    )
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        report = lib.import_files([bib])
        assert report.changes.files

        def files(key: str) -> list[tuple[str, str, str, bool]]:
            return [
                (str(a.path), a.role, a.description, a.missing)
                for a in lib.attachments_of(lib.require_key(key))
            ]

        assert files("jab") == [
            (str(folder / "papers" / "a b.pdf"), "main", "Paper", False),
            (str(folder / "papers" / "c;d.pdf"), "supplement", "", False),
            (str(folder / "slides.odp"), "supplement", "Slides", False),
        ]
        assert files("zot") == [(str(zotero), "main", "", False)]
        assert files("men") == [(str(folder / "papers" / "gone.pdf"), "main", "", True)]
        assert files("bd") == [(str(folder / "papers" / "a b.pdf"), "main", "", False)]
        assert files("web") == []
        assert all(not a.stored for a in lib.all_attachments())
        # The entries come back as they were: the fields are kept as written.
        assert lib.export_text()[0] == bib.read_text()
        # Their text can be indexed like any attached PDF's.
        lib.index_fulltext(workers=1)
        found = lib.paper_ids(Query(search="fulltext:consetetur"))
        assert sorted(found) == sorted([lib.require_key("jab"), lib.require_key("bd")])
        # Undoing the import takes the attachments with the papers.
        assert report.changes.undo is not None
        lib.undo(report.changes.undo)
        assert lib.all_attachments() == []


def test_pasted_entries_keep_absolute_paths_only(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        lib.import_text(
            "@misc{a, title = {A}, file = {:relative/x.pdf:PDF;:/abs/y.pdf:PDF;"
            ":C\\:\\\\papers\\\\w.pdf:PDF}}\n"
        )
        paths = [a.stored_path for a in lib.attachments_of(lib.require_key("a"))]
        assert paths == ["/abs/y.pdf", "C:\\papers\\w.pdf"]


def test_exports_write_files_only_when_a_profile_asks(tmp_path: Path) -> None:
    from citedesk.db import ExportProfile

    pdf = tmp_path / "in: a;b.pdf"
    pdf.write_bytes(b"%PDF-1.4 x")
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        lib.import_text("@misc{a, title = {A}}\n@misc{b, title = {B}}\n")
        lib.attach(lib.require_key("a"), [pdf], store=False)
        lib.attach(lib.require_key("b"), [pdf])
        plain = lib.export_text()[0]
        assert "file" not in plain  # untouched entries stay as they were
        assert "file" not in lib.export_text(profile=ExportProfile("p"))[0]
        asked = lib.export_text(profile=ExportProfile("p", files=True))[0]
        stored = lib.attachments_of(lib.require_key("b"))[0].path
        assert f"{{:{tmp_path}/in\\: a\\;b.pdf:PDF}}" in asked  # as JabRef escapes it
        assert f"{{:{stored}:PDF}}" in asked
        # Imported again, the field gives the same files back.
        with Library.open(tmp_path / "again.sqlite", seed=False) as again:
            again.import_text(asked)
            assert [a.path for a in again.all_attachments()] == [pdf, stored]
        lib.save_profile(ExportProfile("with files", files=True))
        assert lib.profile("with files").files
        # An auto-export with that profile writes the same bytes.
        out = tmp_path / "auto.bib"
        lib.add_autoexport(out, profile="with files")
        assert lib.autoexport_data(lib.autoexports()[0]).decode() == asked


def test_a_profile_with_files_keeps_the_web_addresses_of_the_field(tmp_path: Path) -> None:
    from citedesk.db import ExportProfile

    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(b"%PDF-1.4 p")
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@misc{a, title = {A}, file = {Local:p.pdf:PDF;Online:https\\://example.org/x.pdf:URL}}\n"
    )
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        lib.import_files([bib])
        text = lib.export_text(profile=ExportProfile("p", files=True))[0]
        assert f"{{Local:{pdf}:PDF;Online:https\\://example.org/x.pdf:URL}}" in text
