"""Writing BibTeX: the one layout Citedesk gives an edited entry, and safe file writes.

Kept apart from reading, which keeps an entry's text as it was: only entries that were
edited are laid out here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

# Fields whose text is taken literally by LaTeX's url package and biber: never escaped.
VERBATIM_FIELDS = frozenset(
    {"url", "doi", "eprint", "file", "pdf", "verba", "verbb", "verbc", "code", "urlraw"}
)

# The layout of an edited entry: these first, in this order, then the rest as they came.
FIELD_ORDER = [
    "author",
    "editor",
    "title",
    "subtitle",
    "shorttitle",
    "booktitle",
    "journal",
    "journaltitle",
    "series",
    "volume",
    "number",
    "pages",
    "chapter",
    "edition",
    "publisher",
    "school",
    "institution",
    "organization",
    "address",
    "location",
    "howpublished",
    "year",
    "month",
    "date",
    "doi",
    "eprint",
    "eprinttype",
    "archiveprefix",
    "eprintclass",
    "primaryclass",
    "url",
    "urldate",
    "isbn",
    "issn",
    "crossref",
    "xdata",
    "ids",
    "keywords",
    "abstract",
    "note",
]
_ORDER_INDEX = {name: i for i, name in enumerate(FIELD_ORDER)}


def format_entry(entry_type: str, key: str, fields: Iterable[tuple[str, str]]) -> str:
    """An entry in the one layout Citedesk writes: fixed field order, one field per line."""
    items = list(fields)
    order = sorted(
        range(len(items)),
        key=lambda i: (_ORDER_INDEX.get(items[i][0].lower(), len(FIELD_ORDER)), i),
    )
    width = max((len(items[i][0]) for i in order), default=0)
    lines = [f"@{entry_type}{{{key},"]
    lowered = [name.lower() for name, _ in items]
    for i in order:
        name, raw = items[i]
        # Names in lower case, unless a field repeats (BibTeX keeps the first; the rest are
        # kept as they were written so nothing is lost and nothing new collides).
        shown = name.lower() if lowered.count(name.lower()) == 1 else name
        lines.append(f"  {shown.ljust(width)} = {raw},")
    lines.append("}")
    return "\n".join(lines)


def format_string(name: str, raw: str) -> str:
    return f"@string{{{name} = {raw}}}"


def atomic_write(path: str | os.PathLike[str], text: str | bytes, encoding: str = "utf-8") -> None:
    """Write a file so that readers see the old content or the new, never a part.

    ``text`` may be already encoded, so a caller that compared bytes need not encode twice.
    """
    with atomic_writer(path, encoding) as fh:
        if isinstance(text, bytes):
            fh.buffer.write(text)
        else:
            fh.write(text)


@contextmanager
def atomic_writer(path: str | os.PathLike[str], encoding: str = "utf-8") -> Iterator[TextIO]:
    """A file to write a piece at a time (a large export), replacing ``path`` only when done.

    Readers see the old content or the new, never a part: the text goes to a temporary file
    beside the target, is flushed to disk, then renamed over it. If the ``with`` block
    raises, the target is left as it was.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
