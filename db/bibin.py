"""BibTeX in: the import part of a library. The engine is :mod:`db.importer`."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from . import bibtex, importer
from .citekeys import CiteKeys
from .macros import StringMacros
from .papers import Papers
from .personal import Personal
from .queries import SearchIndex
from .store import Store
from .values import ImportReport


class Imports:
    """Imports of files, text and parsed files, each in one transaction.

    It holds the parts an import writes to (an :class:`importer.Target`).
    """

    def __init__(
        self,
        store: Store,
        index: SearchIndex,
        string_macros: StringMacros,
        keys: CiteKeys,
        personal: Personal,
        papers: Papers,
    ) -> None:
        self.store = store
        self.index = index
        self.string_macros = string_macros
        self.keys = keys
        self.personal = personal
        self.papers = papers

    def import_seed(self) -> ImportReport:
        """Add the 25 seeded papers (used when a library is created)."""
        from importlib.resources import files

        text = files("citedesk.seeds").joinpath("seed.bib").read_text(encoding="utf-8")
        return self.import_text(text, name="seed.bib")

    def import_text(self, text: str, name: str = "<pasted text>") -> ImportReport:
        return self.import_parsed([bibtex.parse_text(text, name)])

    def import_files(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        strict: bool = False,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ImportReport:
        """Import .bib files in one transaction. Unreadable files are failures, not exceptions.

        Files are streamed in chunks and parsed on every core (see :mod:`db.importer`).
        ``progress(done_bytes, total_bytes)`` is called as chunks are added; ``cancelled`` is
        polled between entries, and when it returns True the import is rolled back. With
        ``strict`` nothing is added when anything failed.
        """
        return importer.import_files(
            self, paths, strict=strict, progress=progress, cancelled=cancelled
        )

    def import_parsed(
        self,
        files: Sequence[bibtex.ParsedFile],
        *,
        strict: bool = False,
        extra_failures: Sequence[bibtex.Failure] = (),
        cancelled: Callable[[], bool] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Add parsed files in one transaction and report what became of every entry.

        With ``strict`` nothing is added when anything failed. ``cancelled`` is a callable
        polled between entries; when it returns True the import is rolled back.
        """
        return importer.import_parsed(
            self,
            files,
            strict=strict,
            extra_failures=extra_failures,
            cancelled=cancelled,
            progress=progress,
        )
