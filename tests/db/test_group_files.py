"""Attached files in a group library (db/group.py): their metadata travels with the paper,
and, in a group that turns it on, the stored files themselves go through the server (a real
PostgreSQL the tests start, tests/pgfixtures.py)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from citedesk.db import Library
from citedesk.db.attachments import file_hash
from citedesk.db.group import Entry, SharedFile, merge, without_password
from tests.groupwork import edit, settle

PDFS = Path("/work/shared/pdfs")
PDF = PDFS / "minimal-document.pdf"
OTHER_PDF = PDFS / "habibi.pdf"
ROOT = Path(__file__).resolve().parents[2]

# -- the merge of files (no server) ---------------------------------------------------------------


def with_files(*files: SharedFile) -> Entry:
    return Entry("k", "article", (("title", "{T}"),), None, files=files)


def test_files_merge_as_a_set_by_hash() -> None:
    a, b, c = SharedFile("a"), SharedFile("b", "supplement"), SharedFile("c", "supplement")
    base = with_files(a, b)
    mine = with_files(a, c)  # took b away, added c
    theirs = with_files(a, b, SharedFile("d", "supplement"))
    merged, conflicts = merge(base, mine, theirs)
    assert conflicts == {}
    assert [f.hash for f in merged.files] == ["a", "c", "d"]


def test_a_files_metadata_is_theirs_unless_only_mine_changed() -> None:
    base = with_files(SharedFile("a", description="old"))
    mine = with_files(SharedFile("a", description="mine", name="k.pdf"))
    theirs = with_files(SharedFile("a", description="theirs", name="k-2.pdf"))
    assert merge(base, mine, theirs)[0].files[0].description == "theirs"
    assert merge(base, mine, base)[0].files[0].description == "mine"
    assert merge(base, base, theirs)[0].files[0].description == "theirs"
    # How each member keeps the file (its name) is no difference between them.
    assert merge(base, mine, theirs)[0].files[0].name == "k.pdf"
    assert with_files(SharedFile("a", name="x.pdf")) == with_files(SharedFile("a", name="y"))


def test_data_without_files_loads_and_files_round_trip() -> None:
    old = json.dumps({"type": "misc", "fields": [["title", "{T}"]], "source": None})
    assert Entry.load("k", old).files == ()
    assert "files" not in json.loads(Entry.load("k", old).data())  # unchanged data
    e = with_files(SharedFile("h", "main", "d", 12, "application/pdf", False, "x.pdf"))
    back = Entry.load("k", e.data())
    assert back == e and back.files[0].as_dict() == e.files[0].as_dict()


# -- members and a server -------------------------------------------------------------------------


def make_members(group_url: str, tmp_path: Path, *, share: bool) -> tuple[Library, Library]:
    ann = Library.open(tmp_path / "ann" / "lib.sqlite")
    ann.group_init(group_url, share_files=share)
    ben = Library.open(tmp_path / "ben" / "lib.sqlite", seed=False)
    ben.group_join(group_url)
    return ann, ben


@pytest.fixture
def members(group_url: str, tmp_path: Path):
    """Ann made the group (files' contents not shared); Ben joined it."""
    ann, ben = make_members(group_url, tmp_path, share=False)
    yield ann, ben
    ann.close()
    ben.close()


@pytest.fixture
def sharing(group_url: str, tmp_path: Path):
    """The same, in a group that shares the files' contents."""
    ann, ben = make_members(group_url, tmp_path, share=True)
    yield ann, ben
    ann.close()
    ben.close()


def first_key(lib: Library) -> str:
    return lib.paper(lib.paper_ids()[0]).key


def files_of(lib: Library, key: str) -> list:
    return lib.attachments_of(lib.require_key(key))


def describe(lib: Library, attachment_id: int, text: str) -> None:
    """Change a file's description (as an import or a later dialog would)."""
    with lib.store.write():
        lib.conn.execute(
            "UPDATE attachments SET description = ? WHERE id = ?", [text, attachment_id]
        )


def test_an_attached_files_metadata_reaches_the_others_without_the_file(members) -> None:
    ann, ben = members
    key = first_key(ann)
    ann.attachments.attach(ann.require_key(key), [PDF], description="the preprint")
    assert ann.group_sync().pushed == 1
    ben.group_sync()
    [a] = files_of(ben, key)
    assert (a.hash, a.size, a.mime) == (file_hash(PDF), PDF.stat().st_size, "application/pdf")
    assert (a.role, a.description, a.stored) == ("main", "the preprint", True)
    assert a.name == f"{key}.pdf"  # named by Ben's file pattern, as attach names files
    assert a.missing and not a.path.exists()
    assert [m.id for m in ben.attachments.missing()] == [a.id]
    # Nothing for Ben to send back, and the row stays put through his next writes.
    assert ben.group_sync().pushed == 0
    ben.update_fields(ben.require_key(key), {"note": "read it"})
    assert ben.attachments.settle() == 0
    assert files_of(ben, key)[0].missing
    # ``citedesk files --missing`` lists it (and fails, as it does for lost files).
    done = subprocess.run(
        [sys.executable, "-m", "citedesk", "--library", str(ben.path), "files", "--missing"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert done.returncode == 1 and key in done.stdout and "MISSING" in done.stdout


def test_with_sharing_on_the_others_get_the_file_itself(sharing) -> None:
    ann, ben = sharing
    key = first_key(ann)
    ann.attach(ann.require_key(key), [PDF])
    ann.group_sync()
    ben.group_sync()
    [a] = files_of(ben, key)
    assert not a.missing and a.stored
    assert a.path.read_bytes() == PDF.read_bytes()
    assert file_hash(a.path) == a.hash == file_hash(PDF)
    assert a.path.parent == ben.files_dir
    assert ben.group_status().share_files is True


def test_turning_sharing_on_sends_the_files_already_attached(members) -> None:
    ann, ben = members
    key = first_key(ann)
    ann.attach(ann.require_key(key), [PDF])
    assert ann.group_status().share_files is False
    assert ann.group_share_files(True) == 1
    ann.update_fields(ann.require_key(key), {"note": "with its file"})
    ann.group_sync()
    ben.group_sync()
    [a] = files_of(ben, key)
    assert not a.missing and a.path.read_bytes() == PDF.read_bytes()
    assert ben.group_share_files(False) == 0
    assert ann.group_status().share_files is False


def test_a_detach_on_one_side_detaches_on_the_other(sharing) -> None:
    ann, ben = sharing
    key = first_key(ann)
    ann.attach(ann.require_key(key), [PDF])
    ann.group_sync()
    ben.group_sync()
    [a] = files_of(ben, key)
    assert a.path.is_file()
    ann.detach([f.id for f in files_of(ann, key)])
    ann.group_sync()
    ben.group_sync()
    assert files_of(ben, key) == []
    assert not a.path.exists()
    assert (ben.files_dir / ".trash" / a.hash).read_bytes() == PDF.read_bytes()


def test_a_detached_file_takes_a_note_of_its_annotations_off_it_not_away(sharing) -> None:
    ann, ben = sharing
    key = first_key(ann)
    ann.attach(ann.require_key(key), [PDF])
    ann.group_sync()
    ben.group_sync()
    [a] = files_of(ben, key)
    note_id = next(iter(ben.add_note(a.paper_id, "my reading notes").note_ids))
    with ben.store.write():
        ben.conn.execute(
            "INSERT INTO annotation_notes(note_id, attachment_id, generated) VALUES (?, ?, '')",
            [note_id, a.id],
        )
    ann.detach([f.id for f in files_of(ann, key)])
    ann.group_sync()
    ben.group_sync()
    assert [n.body for n in ben.notes(a.paper_id)] == ["my reading notes"]


def test_files_attached_on_both_sides_offline_end_on_both(members) -> None:
    ann, ben = members
    key = first_key(ann)
    ann.attach(ann.require_key(key), [PDF])
    ben.attach(ben.require_key(key), [OTHER_PDF])
    ann.group_sync()
    ben.group_sync()
    ann.group_sync()
    want = {file_hash(PDF), file_hash(OTHER_PDF)}
    assert {a.hash for a in files_of(ann, key)} == want
    assert {a.hash for a in files_of(ben, key)} == want
    # Each has its own file in place and the other's as missing (contents not shared).
    assert [a.hash for a in files_of(ann, key) if not a.missing] == [file_hash(PDF)]
    assert [a.hash for a in files_of(ben, key) if not a.missing] == [file_hash(OTHER_PDF)]
    assert ann.group_sync().pushed == ben.group_sync().pushed == 0


def test_a_description_and_a_role_changed_on_one_side_reach_the_other(sharing) -> None:
    ann, ben = sharing
    key = first_key(ann)
    ann.attach(ann.require_key(key), [PDF, OTHER_PDF])
    ann.group_sync()
    ben.group_sync()
    main, supplement = files_of(ben, key)
    assert (main.hash, supplement.role) == (file_hash(PDF), "supplement")
    describe(ben, supplement.id, "the slides")
    ben.set_attachment_role(supplement.id, "main")
    ben.group_sync()
    ann.group_sync()
    by_hash = {a.hash: a for a in files_of(ann, key)}
    assert by_hash[file_hash(OTHER_PDF)].description == "the slides"
    assert by_hash[file_hash(OTHER_PDF)].role == "main"
    assert by_hash[file_hash(PDF)].role == "supplement"
    # A rename is Ben's own business: nothing goes out.
    ben.rename_attachment(supplement.id, "slides.pdf")
    assert ben.group_sync().pushed == 0


def test_a_deleted_paper_brings_its_files_back_when_the_other_side_edited_it(sharing) -> None:
    ann, ben = sharing
    key = first_key(ann)
    ann.attach(ann.require_key(key), [PDF])
    ann.group_sync()
    ben.group_sync()
    ben.delete_papers([ben.require_key(key)])
    ann.update_fields(ann.require_key(key), {"note": "still wanted"})
    ann.group_sync()
    ben.group_sync()
    [a] = files_of(ben, key)
    assert not a.missing and a.path.read_bytes() == PDF.read_bytes()


def test_a_read_only_member_gets_the_files_too(
    pg_server, group_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from citedesk.db.group import grant

    ann = Library.open(tmp_path / "ann.sqlite")
    key = first_key(ann)
    ann.attach(ann.require_key(key), [PDF])
    ann.group_init(group_url, share_files=True)
    reader = (
        f"reader_{conninfo_to_dict(group_url)['dbname']}"  # roles are the server's, not the db's
    )
    pg_server.create_role(reader, "reader-pw")
    grant(group_url, reader, writer=False)
    reader_url = pg_server.url(conninfo_to_dict(group_url)["dbname"], user=reader)
    monkeypatch.setenv("PGPASSWORD", "reader-pw")
    rita = Library.open(tmp_path / "rita" / "rita.sqlite", seed=False)
    rita.group_join(reader_url)
    [a] = files_of(rita, key)
    assert not a.missing and a.path.read_bytes() == PDF.read_bytes()
    # A file attached later reaches her at a sync; she may not turn sharing off.
    monkeypatch.setenv("PGPASSWORD", conninfo_to_dict(group_url)["password"] or "")
    ann.attach(ann.require_key(key), [OTHER_PDF])
    ann.group_sync()
    monkeypatch.setenv("PGPASSWORD", "reader-pw")
    rita.group_sync()
    assert {f.hash: f.path.read_bytes() for f in files_of(rita, key) if not f.missing} == {
        file_hash(PDF): PDF.read_bytes(),
        file_hash(OTHER_PDF): OTHER_PDF.read_bytes(),
    }
    from citedesk.db import GroupError

    with pytest.raises(GroupError, match="may not change whether the group"):
        rita.group_share_files(False)
    ann.close()
    rita.close()


def test_a_writer_granted_later_may_send_files(
    pg_server, group_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from citedesk.db.group import grant

    ann = Library.open(tmp_path / "ann.sqlite")
    ann.group_init(group_url, share_files=True)
    pg_server.create_role("writer", "writer-pw")
    grant(group_url, "writer", writer=True)
    writer_url = pg_server.url(conninfo_to_dict(group_url)["dbname"], user="writer")
    monkeypatch.setenv("PGPASSWORD", "writer-pw")
    wes = Library.open(tmp_path / "wes" / "wes.sqlite", seed=False)
    wes.group_join(writer_url)
    key = first_key(wes)
    wes.attach(wes.require_key(key), [PDF])
    assert wes.group_sync().pushed == 1
    monkeypatch.setenv("PGPASSWORD", conninfo_to_dict(group_url)["password"] or "")
    ann.group_sync()
    [a] = files_of(ann, key)
    assert not a.missing and a.path.read_bytes() == PDF.read_bytes()
    ann.close()
    wes.close()


def test_members_attaching_and_detaching_at_random_converge(group_url: str, tmp_path: Path) -> None:
    """Three members make random edits (attaching and detaching files among them), syncing
    now and then; afterwards all hold the same files on every paper, with the same bytes
    where they have them."""
    ann = Library.open(tmp_path / "m0" / "lib.sqlite")
    ann.group_init(group_url, share_files=True)
    libs = [ann]
    for n in (1, 2):
        lib = Library.open(tmp_path / f"m{n}" / "lib.sqlite", seed=False)
        lib.group_join(group_url)
        libs.append(lib)
    rngs = [random.Random(n) for n in range(3)]
    for step in range(1, 151):
        for lib, rng in zip(libs, rngs, strict=True):
            edit(lib, rng, [])
            if step % 25 == 0:
                lib.group_sync()
                settle(lib, rng)
    for _ in range(6):
        moved = 0
        for lib, rng in zip(libs, rngs, strict=True):
            report = lib.group_sync()
            moved += report.pulled + report.pushed + report.conflicts
            settle(lib, rng)
        if moved == 0:
            break
    assert moved == 0

    def files_state(lib: Library) -> list[tuple]:
        out = []
        for pid in lib.paper_ids():
            key = lib.paper(pid).key
            for a in lib.attachments_of(pid):
                content = None if a.missing else file_hash(a.path)
                out.append((key, a.hash, a.role, a.description, content))
        return sorted(out, key=repr)

    states = [files_state(lib) for lib in libs]
    assert states[0] == states[1] == states[2]
    assert len(states[0]) > 0
    for lib in libs:
        lib.close()


def test_group_files_on_the_command_line(group_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def citedesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "citedesk", "--library", str(tmp_path / "a.sqlite"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    done = citedesk("group", "init", without_password(group_url), "--share-files")  # PGPASSWORD
    assert done.returncode == 0, done.stderr
    status = json.loads(citedesk("group", "status", "--json").stdout)
    assert status["share_files"] is True
    done = citedesk("group", "files", "off")
    assert done.returncode == 0 and "no longer go through" in done.stderr
    assert "files:     metadata only" in citedesk("group", "status").stdout
    done = citedesk("group", "files", "on")
    assert done.returncode == 0 and "(0 files sent)" in done.stderr
