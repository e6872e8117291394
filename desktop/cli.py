"""The ``citedesk`` command: the window, or a subcommand over the same library.

Subcommands never import Qt, so they start fast and run on machines without a display.
Exit codes: 0 success, 1 a problem with the input or the library (one line per problem on
stderr, no traceback), 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from db import STATUSES, Library, LibraryError, Query
from db.paths import ENV_VAR, default_library_path

EPILOG = f"""\
The library is --library PATH, else ${ENV_VAR}, else library.sqlite in the user data folder.
A library that does not exist yet is created with the 25 seeded papers (unless --empty)."""


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--library", metavar="PATH", default=argparse.SUPPRESS,
                        help="the library file (default: see below)")
    common.add_argument("--empty", action="store_true", default=argparse.SUPPRESS,
                        help="create a new library without the seeded papers")

    p = argparse.ArgumentParser(
        prog="citedesk", parents=[common], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Citedesk: a reading list and BibTeX library. "
                    "Without a subcommand, opens the window.")
    p.add_argument("--screenshot", metavar="FILE.png",
                   help="render the window to a PNG and exit (no screen needed)")
    p.add_argument("--select", metavar="KEY", help="select this paper in the window")
    p.add_argument("--size", metavar="WxH", default=None, help="window size, e.g. 1280x800")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_, description=help_, parents=[common])

    ls = add("list", "list papers")
    ls.add_argument("--tag", help="only papers with this tag")
    ls.add_argument("--status", choices=STATUSES, help="only papers with this reading status")
    ls.add_argument("--search", metavar="Q", help="full-text search (same syntax as the window)")
    ls.add_argument("--sort", default="added",
                    choices=["added", "year", "title", "authors", "venue", "status", "rating",
                             "key"])
    ls.add_argument("--reverse", action="store_true", help="sort descending")
    ls.add_argument("--json", action="store_true", help="print a JSON array of objects")

    imp = add("import", "import .bib files (in one transaction)")
    imp.add_argument("files", nargs="+", metavar="FILE.bib")
    imp.add_argument("--strict", action="store_true",
                     help="import nothing when any entry fails")

    exp = add("export", "export papers as BibTeX")
    exp.add_argument("-o", "--output", metavar="OUT.bib", help="write here (default: stdout)")
    exp.add_argument("--tag")
    exp.add_argument("--status", choices=STATUSES)
    exp.add_argument("--search", metavar="Q")
    exp.add_argument("--key", action="append", default=[], metavar="K",
                     help="export this key (repeatable)")

    tag = add("tag", "add tags to a paper")
    tag.add_argument("key")
    tag.add_argument("tags", nargs="+", metavar="TAG")
    untag = add("untag", "remove tags from a paper")
    untag.add_argument("key")
    untag.add_argument("tags", nargs="+", metavar="TAG")

    st = add("status", "set a paper's reading status")
    st.add_argument("key")
    st.add_argument("status", choices=STATUSES)

    note = add("note", "add a note to a paper, or list its notes")
    note.add_argument("key")
    note.add_argument("text", nargs="?",
                      help="the note (Markdown); '-' reads standard input; none lists notes")
    return p


def _open(args: argparse.Namespace) -> Library:
    path = default_library_path(getattr(args, "library", None))
    return Library.open(path, seed=not getattr(args, "empty", False))


def _cmd_list(lib: Library, args: argparse.Namespace) -> int:
    query = Query(search=args.search or "", tag=args.tag, status=args.status)
    if args.search:
        hint = lib.search_hint(args.search)
        if hint:
            print(f"citedesk: search: {hint}", file=sys.stderr)
    records = lib.records(query, sort=args.sort, descending=args.reverse)
    if args.json:
        out = sys.stdout
        out.write("[")
        for i, rec in enumerate(records):
            out.write(("," if i else "") + "\n  " + json.dumps(rec, ensure_ascii=False))
        out.write("\n]\n")
        return 0
    for rec in records:
        authors = rec["authors"]
        who = authors[0].split()[-1] if authors else ""
        if len(authors) > 1:
            who += " et al."
        tags = f"  [{', '.join(rec['tags'])}]" if rec["tags"] else ""
        print(f"{rec['key']:<32} {rec['year'] or '':<4}  {rec['status']:<7} "
              f"{who[:20]:<20}  {rec['title']}{tags}")
    return 0


def _cmd_import(lib: Library, args: argparse.Namespace) -> int:
    report = lib.import_files(args.files, strict=args.strict)
    for dup in report.duplicates:
        print(f"citedesk: duplicate: {dup}", file=sys.stderr)
    for warning in report.warnings:
        print(f"citedesk: warning: {warning}", file=sys.stderr)
    for failure in report.failures:
        print(f"citedesk: {failure}", file=sys.stderr)
    if args.strict and report.failures:
        print("citedesk: nothing imported (--strict)", file=sys.stderr)
    print(f"imported {', '.join(args.files)}: {report.summary()}")
    return 1 if report.failures else 0


def _cmd_export(lib: Library, args: argparse.Namespace) -> int:
    missing = [k for k in args.key if lib.id_for_key(k) is None]
    for k in missing:
        print(f"citedesk: no paper with citation key {k!r}", file=sys.stderr)
    query = Query(search=args.search or "", tag=args.tag, status=args.status,
                  keys=tuple(args.key))
    if args.output:
        n = lib.export(args.output, query)
        print(f"exported {n} entries to {args.output}", file=sys.stderr)
    else:
        text, _ = lib.export_text(query)
        sys.stdout.write(text)
    return 1 if missing else 0


def _cmd_tag(lib: Library, args: argparse.Namespace) -> int:
    pid = lib.require_key(args.key)
    if args.command == "tag":
        lib.add_tags([pid], args.tags)
    else:
        unknown = [t for t in args.tags if t.lower() not in
                   {x.lower() for x in lib.paper_tags(pid)}]
        lib.remove_tags([pid], args.tags)
        for t in unknown:
            print(f"citedesk: {args.key} had no tag {t!r}", file=sys.stderr)
        if unknown:
            return 1
    return 0


def _cmd_status(lib: Library, args: argparse.Namespace) -> int:
    lib.set_status([lib.require_key(args.key)], args.status)
    return 0


def _cmd_note(lib: Library, args: argparse.Namespace) -> int:
    pid = lib.require_key(args.key)
    if args.text is None:
        for note in lib.notes(pid):
            print(f"--- note {note.id} (updated {note.updated[:16].replace('T', ' ')})")
            print(note.body)
        return 0
    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise UsageError("the note is empty")
    note = lib.add_note(pid, text)
    print(f"added note {note.id} to {args.key}", file=sys.stderr)
    return 0


COMMANDS = {
    "list": _cmd_list, "import": _cmd_import, "export": _cmd_export, "tag": _cmd_tag,
    "untag": _cmd_tag, "status": _cmd_status, "note": _cmd_note,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from .app import run  # Qt is loaded only for the window

        return run(
            default_library_path(getattr(args, "library", None)),
            empty=getattr(args, "empty", False),
            screenshot=Path(args.screenshot) if args.screenshot else None,
            select=args.select, size=args.size,
        )
    try:
        lib = _open(args)
    except LibraryError as exc:
        print(f"citedesk: {exc}", file=sys.stderr)
        return 1
    try:
        return COMMANDS[args.command](lib, args)
    except UsageError as exc:
        print(f"citedesk: {exc}", file=sys.stderr)
        return 2
    except LibraryError as exc:
        print(f"citedesk: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    finally:
        lib.close()


if __name__ == "__main__":
    sys.exit(main())
