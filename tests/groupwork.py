"""A member of a group library at work, for the sync tests: random edits and syncs.

``python -m tests.groupwork LIBRARY SEED EDITS [SYNC_EVERY]`` makes EDITS random edits
(fields, tags, new papers, deletions, key changes, shared notes, attaching and detaching
small files, undo) to LIBRARY, syncing
every SYNC_EVERY edits and settling conflicts now and then, as a person working beside
others would. Run in several processes at once against one server, the members must end
up with the same library (tests/robustness/test_group_sync.py). The server's password
comes from PGPASSWORD, as libpq reads it.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from citedesk.db import GroupError, Library, Undo

WORDS = "graph neural sparse kernel bound proof linear noise gradient prior".split()
TAGS = ["ml", "theory", "to-read", "review", "stats"]
AUTHORS = ["Doe, Jane", "Roe, Richard", "Smith, Ann"]


#: The contents members attach: few, so members attach the same file now and then.
CONTENTS = 6


def _phrase(rng: random.Random, n: int = 3) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _small_file(lib: Library, n: int) -> Path:
    """A small file of random bytes, the same ``n`` the same bytes in every member."""
    folder = lib.path.parent / f"{lib.path.stem}-incoming"
    path = folder / f"data-{n}.bin"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(random.Random(n).randbytes(200 + 50 * n))
    return path


def edit(lib: Library, rng: random.Random, undos: list[Undo]) -> None:
    """One random edit (some may find nothing to do: a paper just deleted, say)."""
    ids = lib.paper_ids()
    roll = rng.random()
    pid = rng.choice(ids) if ids else None
    changes = None
    if pid is None or roll < 0.08:
        changes = lib.add_paper(
            {
                "title": _phrase(rng, 4).capitalize(),
                "author": rng.choice(AUTHORS),
                "year": str(rng.choice([2019, 2020])),
            }
        )
    elif roll < 0.45:
        name = rng.choice(["title", "note", "pages", "volume", "abstract"])
        value = "" if rng.random() < 0.1 else _phrase(rng)
        changes = lib.update_fields(pid, {name: value})
    elif roll < 0.55:
        changes = lib.add_tags([pid], [rng.choice(TAGS)])
    elif roll < 0.62:
        changes = lib.remove_tags([pid], [rng.choice(TAGS)])
    elif roll < 0.66 and len(ids) > 10:
        changes = lib.delete_papers([pid])
    elif roll < 0.71:
        key = f"{rng.choice(['doe', 'roe', 'smith'])}{rng.randint(1, 9)}"
        if lib.id_for_key(key) is None:
            changes = lib.set_key(pid, key)
    elif roll < 0.78:
        made = lib.add_note(pid, _phrase(rng, 5))
        note_id = next(iter(made.note_ids))
        changes = lib.set_note_shared(note_id, True)
    elif roll < 0.86:
        notes = [n for n in lib.notes(pid) if n.shared]
        if notes:
            changes = lib.update_note(rng.choice(notes).id, _phrase(rng, 4))
    elif roll < 0.90:
        path = _small_file(lib, rng.randrange(CONTENTS))
        changes = lib.attach(pid, [path], role=rng.choice(["main", "supplement"]))
    elif roll < 0.93:
        files = lib.attachments_of(pid)
        if files:
            changes = lib.detach([rng.choice(files).id])
    elif undos:
        lib.undo(undos.pop())
    if changes is not None and changes.undo is not None:
        undos.append(changes.undo)


def settle(lib: Library, rng: random.Random) -> None:
    for conflict in lib.group_conflicts():
        lib.resolve_conflict(conflict.id, rng.choice(["mine", "theirs"]))


def shared_state(lib: Library) -> list[tuple[object, ...]]:
    """What the group shares of each paper, to compare members (key aliases are each
    library's own: the old keys its member's documents may cite)."""
    rows = []
    for pid in lib.paper_ids():
        p = lib.paper(pid)
        notes = sorted(n.body for n in lib.notes(pid) if n.shared)
        tags = tuple(sorted(lib.paper_tags(pid)))
        rows.append((p.key, p.entry_type, tuple(p.fields), tags, notes))
    return sorted(rows)


def work(path: str, seed: int, edits: int, sync_every: int = 25) -> None:
    """Prints what the syncs met, as JSON: pulled, pushed, merged, conflicts, messages."""
    rng = random.Random(seed)
    lib = Library.open(path)
    # Members whose libraries share a folder keep their stored files apart.
    if not lib.files_dir.name.endswith("-files"):
        lib.move_files_folder(f"{lib.path.stem}-files")
    undos: list[Undo] = []
    met = {"pulled": 0, "pushed": 0, "merged": 0, "conflicts": 0, "messages": 0}

    def sync() -> None:
        report = lib.group_sync()
        for name in ("pulled", "pushed", "merged", "conflicts"):
            met[name] += getattr(report, name)
        met["messages"] += len(report.messages)

    try:
        for n in range(1, edits + 1):
            edit(lib, rng, undos)
            if n % sync_every == 0:
                try:
                    sync()
                except GroupError as exc:
                    print(f"sync failed, carrying on: {exc}", file=sys.stderr)
                undos.clear()  # an undo is of this member's own recent work
                if rng.random() < 0.5:
                    settle(lib, rng)
        sync()
    finally:
        lib.close()
    print(json.dumps(met))


if __name__ == "__main__":
    work(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *map(int, sys.argv[4:5]))
