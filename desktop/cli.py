"""The ``citedesk`` command: the window, or a subcommand over the same library.

Subcommands never import Qt, so they start fast and run on machines without a display
(``open`` alone loads Qt, to hand a file to the desktop through QDesktopServices).
Exit codes: 0 success, 1 a problem with the input or the library (one line per problem on
stderr, no traceback), 2 a usage error, 3 a group sync whose changes the server refused (a
read-only member: they stay in the library), 130 interrupted (Ctrl+C).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .db import (
    CITE_FORMATS,
    DIALECTS,
    ENV_VAR,
    EXPORT_ORDERS,
    FILES_SUFFIX,
    FILES_TRASH,
    GOOD_MATCH,
    STATUSES,
    Attachment,
    DatabaseError,
    ExportProfile,
    GroupConflict,
    GroupError,
    Identifier,
    KeyPatternError,
    Library,
    LibraryError,
    Preview,
    Query,
    SyncReport,
    arxiv_base,
    backup_library,
    backup_with_files,
    check_files_archive,
    check_library,
    check_pattern,
    default_library_path,
    file_hash,
    group_grant,
    human_size,
    identifiers_in,
    narrowed,
    newest_backup,
    parse_exclude,
    parse_identifier,
    restore_files,
    restore_library,
    shown_server,
    write_export,
)

if TYPE_CHECKING:  # the lookup modules (httpx) load with the first lookup
    from .db import Found, Lookup, Outcome

EPILOG = f"""\
The library is --library PATH, else ${ENV_VAR}, else library.sqlite in the user data folder.
A library that does not exist yet is created with the 25 seeded papers (unless --empty).
Attached files are stored in files/ beside the library (copied there and named by the
citation key) or linked (left where they are): see attach, detach, files, open, relink.
A group library is kept in step with others' through PostgreSQL: see citedesk group --help.
Exit codes: 0 done, 1 a problem (one line each on stderr), 2 bad usage, 3 a read-only
member's changes refused by the group (kept here), 130 interrupted."""

GROUP_EPILOG = """\
URL is a libpq connection string: postgresql://USER@HOST:PORT/DBNAME, or service=NAME
(read from pg_service.conf; PGSERVICE and the other PG* variables work as for psql).
The library keeps the server without a password: libpq reads it from ~/.pgpass (or the
file PGPASSFILE names; mode 0600, one line host:port:dbname:user:password), PGPASSWORD
or the service file. A password typed in a URL is used for that command only.

Members are PostgreSQL roles: the one who ran 'group init' lets others in with
'group grant ROLE' (they may change the group) or 'group grant ROLE --read-only' (they
may read it; their own changes stay in their library, still pending).
Shared: each paper's BibTeX, key, key aliases and tags, the @string and @preamble
blocks, and the notes shared with 'citedesk note KEY --share ID'. Personal: reading
status, rating, attached files, other notes. A part of a paper changed here and in the
group keeps this library's value until 'group resolve' chooses; the group keeps its own
meanwhile.

Exit codes: 0 done; 1 a problem (no server, a library in no group, a server refusing the
login: one line on stderr, nothing left half done; 'status' also exits 1 when
the server could not be asked, after printing what the library knows); 2 bad usage;
3 'sync' of a read-only member whose changes the server refused (what it pulled stays
pulled; its own changes stay here, pending); 130 interrupted."""


#: What ``citedesk export --format`` writes.
EXPORT_FORMATS = ("bibtex", "biblatex", "csl-json", "ris")


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--library",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="the library file (default: see below)",
    )
    common.add_argument(
        "--empty",
        action="store_true",
        default=argparse.SUPPRESS,
        help="create a new library without the seeded papers",
    )

    p = argparse.ArgumentParser(
        prog="citedesk",
        parents=[common],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Citedesk: a reading list and BibTeX library. "
        "Without a subcommand, opens the window.",
    )
    p.add_argument(
        "--screenshot",
        metavar="FILE.png",
        help="render the window to a PNG and exit (no screen needed)",
    )
    p.add_argument("--select", metavar="KEY", help="select this paper in the window")
    p.add_argument("--size", metavar="WxH", default=None, help="window size, e.g. 1280x800")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_, description=help_, parents=[common])

    ls = add("list", "list papers")
    ls.add_argument("--tag", help="only papers with this tag")
    ls.add_argument("--status", choices=STATUSES, help="only papers with this reading status")
    ls.add_argument("--search", metavar="Q", help="full-text search (same syntax as the window)")
    ls.add_argument("--saved", metavar="NAME", help="the papers of this saved search")
    ls.add_argument(
        "--sort",
        default="added",
        choices=[
            "added",
            "year",
            "title",
            "authors",
            "venue",
            "status",
            "rating",
            "key",
            "opened",
        ],
    )
    ls.add_argument("--reverse", action="store_true", help="sort descending")
    ls.add_argument("--json", action="store_true", help="print a JSON array of objects")

    imp = add(
        "import",
        "import BibTeX, RIS and CSL-JSON files, each told by its content (in one transaction)",
    )
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--strict", action="store_true", help="import nothing when any entry fails")
    imp.add_argument(
        "--progress",
        action="store_true",
        help="print 'progress: DONE/TOTAL bytes' lines on stderr as it goes",
    )

    ad = sub.add_parser(
        "add",
        help="add papers by their DOI, arXiv id or ISBN (looked up at doi.org, Crossref, "
        "arXiv, Open Library)",
        description="Add papers by their identifiers. Each argument is an identifier (a DOI, "
        "a doi.org or arxiv.org link, an arXiv id, an ISBN) or a text to find them in; "
        "--from reads them out of a file (a reference list, a .bib, an e-mail; '-' reads "
        "standard input). Papers the library already has are skipped, saying which. "
        "Exit code: 0 when every identifier was found, 1 when any was not (the others are "
        "still added), 2 when none was given.",
        parents=[common],
    )
    ad.add_argument("ids", nargs="*", metavar="ID_OR_TEXT")
    ad.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="also every identifier in this file ('-': standard input)",
    )
    ad.add_argument(
        "--dry-run", action="store_true", help="print the BibTeX that would be added; add nothing"
    )
    ad.add_argument(
        "--preprint",
        action="store_true",
        help="add an arXiv preprint as the preprint, even when it has been published",
    )
    ad.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="add papers the library seems to have already (same DOI, arXiv id, or title)",
    )
    ad.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array of {asked, key, title, source, status, error, same}",
    )

    rf = sub.add_parser(
        "refresh",
        help="compare papers with their record at doi.org, Crossref or arXiv, and update them",
        description="Look papers up again (by DOI, arXiv id or ISBN; else by title, first "
        "author and year) and show the fields the record would add or change. Nothing is "
        "written without --yes (every change) or --accept (the fields named); the key never "
        "changes. Exit code: 0, or 1 when a lookup failed.",
        parents=[common],
    )
    rf.add_argument("keys", nargs="*", metavar="KEY")
    rf.add_argument("--all", action="store_true", help="every paper in the library")
    rf.add_argument(
        "--accept",
        metavar="FIELD[,FIELD...]",
        help="apply the changes to these fields only ('@type' is the entry type)",
    )
    rf.add_argument("--yes", action="store_true", help="apply every change shown")
    rf.add_argument(
        "--min-score",
        type=float,
        default=GOOD_MATCH,
        metavar="S",
        help="take a match by title only when it scores at least this, 0..1 (default: %(default)s)",
    )
    rf.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array of {key, status, source, score, changes, applied, error}",
    )

    exp = add("export", "export papers as BibTeX, CSL-JSON or RIS")
    exp.add_argument("-o", "--output", metavar="OUT.bib", help="write here (default: stdout)")
    exp.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        default="bibtex",
        help="bibtex (the default; --dialect chooses bibtex or biblatex), biblatex "
        "(as --dialect biblatex), csl-json (pandoc, Zotero) or ris (EndNote, Zotero)",
    )
    exp.add_argument("--tag")
    exp.add_argument("--status", choices=STATUSES)
    exp.add_argument("--search", metavar="Q")
    exp.add_argument("--saved", metavar="NAME", help="the papers of this saved search")
    exp.add_argument(
        "--key", action="append", default=[], metavar="K", help="export this key (repeatable)"
    )
    exp.add_argument(
        "--aux", metavar="PAPER.aux", help="export exactly the entries this LaTeX document cites"
    )
    exp.add_argument(
        "--dialect",
        choices=DIALECTS,
        help="adapt entries: bibtex (ASCII) or biblatex (UTF-8, for biber)",
    )
    exp.add_argument("--profile", metavar="NAME", help="a saved export profile")
    exp.add_argument(
        "--keep-encoding",
        action="store_true",
        help="write in the encoding the imported files had (default: UTF-8)",
    )
    exp.add_argument(
        "--sort",
        choices=EXPORT_ORDERS,
        default="library",
        help="library: the order of the imported files, their text between entries kept (the "
        "default); key: by citation key (case-insensitive), @string and @preamble blocks "
        "first, so libraries holding the same papers (a group's members) export the same bytes",
    )

    ci = add(
        "cite",
        "cite papers as an editor's cite-as-you-write would, or as formatted references",
    )
    ci.add_argument("keys", nargs="*", metavar="KEY", help="the papers' citation keys")
    ci.add_argument(
        "--format",
        default="latex",
        choices=CITE_FORMATS,
        help="latex, cite or natbib (\\cite{a,b}), citep, citet, biblatex (\\autocite), "
        "pandoc (@a; @b), mmd, typst (@a @b), json (CSL-JSON), translate (BibTeX), "
        "formatted-citation, formatted-bibliography (default: %(default)s)",
    )
    ci.add_argument(
        "--command",
        dest="cite_command",  # "command" is the subcommand's own name
        default="",
        help="the LaTeX command, e.g. textcite or citeauthor",
    )
    ci.add_argument("--brackets", action="store_true", help="pandoc: [@a; @b]")
    ci.add_argument(
        "--style",
        default="apa",
        help="a CSL style for the formatted ones: apa, ieee, chicago-author-date, "
        "modern-language-association, harvard-cite-them-right, nature, "
        "association-for-computing-machinery, nlm-citation-sequence, or a .csl file",
    )
    ci.add_argument("--locale", default="en-US", help="e.g. en-GB, de-DE (default: %(default)s)")
    ci.add_argument(
        "--output",
        choices=("text", "html", "markdown"),
        default="text",
        help="for the formatted ones (default: %(default)s)",
    )
    ci.add_argument("--tag", help="cite every paper with this tag (with or instead of KEYs)")
    ci.add_argument("--saved", metavar="NAME", help="cite every paper of this saved search")

    keys_ = add("keys", "show or set the citation key pattern, or regenerate keys")
    keys_sub = keys_.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    kp = keys_sub.add_parser(
        "pattern",
        help="show or set the key pattern",
        description="Tokens: [auth] [authors] [authors2] [year] "
        "[shorttitle] [veryshorttitle] [title]; modifiers "
        ":lower :upper :capitalize.",
    )
    kp.add_argument("pattern", nargs="?")
    kr = keys_sub.add_parser(
        "regenerate", help="give papers new keys by the pattern (old keys stay as aliases)"
    )
    kr.add_argument(
        "--key", action="append", default=[], metavar="K", help="only this paper (repeatable)"
    )
    kr.add_argument("--all", action="store_true", help="every paper in the library")
    kr.add_argument("--pattern", help="use this pattern instead of the library's")

    prof = add("profile", "list, add or remove export profiles")
    prof_sub = prof.add_subparsers(dest="profile_command", metavar="ACTION", required=True)
    prof_sub.add_parser("list", help="list profiles")
    pa = prof_sub.add_parser("add", help="add or replace a profile")
    pa.add_argument("name")
    pa.add_argument("--dialect", choices=DIALECTS, default="biblatex")
    pa.add_argument(
        "--exclude",
        default="abstract,file,keywords",
        help="fields to leave out, comma-separated (default: %(default)s)",
    )
    pa.add_argument(
        "--no-protect-capitals",
        action="store_true",
        help="do not brace capitals and acronyms in titles",
    )
    pa.add_argument(
        "--no-page-dashes",
        action="store_true",
        help="leave page ranges as they are (default: 1-10 becomes 1--10)",
    )
    pa.add_argument(
        "--files",
        action="store_true",
        help="write each entry's attached files as a JabRef file field (absolute paths)",
    )
    pr = prof_sub.add_parser("remove", help="remove a profile")
    pr.add_argument("name")

    auto = add("autoexport", "files rewritten after every change to the library")
    auto_sub = auto.add_subparsers(dest="auto_command", metavar="ACTION", required=True)
    aa = auto_sub.add_parser("add", help="keep a .bib file current")
    aa.add_argument("file", metavar="OUT.bib")
    which = aa.add_mutually_exclusive_group()
    which.add_argument("--tag", help="only papers with this tag")
    which.add_argument("--aux", metavar="PAPER.aux", help="only what this document cites")
    which.add_argument(
        "--saved", metavar="NAME", help="only this saved search's papers, as it is at each run"
    )
    aa.add_argument("--profile", metavar="NAME")
    auto_sub.add_parser("list", help="list auto-exports")
    ar = auto_sub.add_parser("remove", help="stop keeping a file current")
    ar.add_argument("file", metavar="OUT.bib")
    auto_sub.add_parser("run", help="bring every auto-export up to date now")

    saved = add("saved", "saved searches: the window's search box and sidebar, kept by name")
    saved_sub = saved.add_subparsers(dest="saved_command", metavar="ACTION", required=True)
    sa = saved_sub.add_parser("add", help="save a search under a new name")
    sa.add_argument("name", metavar="NAME")
    sa.add_argument("query", metavar="QUERY", help="search text (same syntax as the window)")
    sa.add_argument("--tag", help="only papers with this tag")
    sa.add_argument("--status", choices=STATUSES, help="only papers with this reading status")
    sl = saved_sub.add_parser("list", help="list saved searches with how many papers each finds")
    sl.add_argument("--json", action="store_true", help="print a JSON array of objects")
    sr = saved_sub.add_parser(
        "remove", help="forget a saved search (refused while an auto-export follows it)"
    )
    sr.add_argument("name", metavar="NAME")
    sn = saved_sub.add_parser("rename", help="rename a saved search (its auto-exports follow)")
    sn.add_argument("old", metavar="OLD")
    sn.add_argument("new", metavar="NEW")

    dup = add("duplicates", "find papers that are probably the same work")
    dup.add_argument(
        "--merge", action="store_true", help="merge each group into its first-added paper"
    )

    merge = add("merge", "merge duplicates into one paper (old keys stay as aliases)")
    merge.add_argument("keep", metavar="KEY")
    merge.add_argument("others", nargs="+", metavar="OTHER")

    tag = add("tag", "add tags to a paper")
    tag.add_argument("key")
    tag.add_argument("tags", nargs="+", metavar="TAG")
    untag = add("untag", "remove tags from a paper")
    untag.add_argument("key")
    untag.add_argument("tags", nargs="+", metavar="TAG")

    st = add("status", "set a paper's reading status")
    st.add_argument("key")
    st.add_argument("status", choices=STATUSES)

    note = add("note", "add a note to a paper, list its notes, or share one with the group")
    note.add_argument("key")
    note.add_argument(
        "text", nargs="?", help="the note (Markdown); '-' reads standard input; none lists notes"
    )
    sharing = note.add_mutually_exclusive_group()
    sharing.add_argument(
        "--share",
        nargs="?",
        type=int,
        const=0,
        metavar="ID",
        help="share a note with the library's group: the one just added with TEXT, the note "
        "with this ID (as the list shows it), or the paper's only note",
    )
    sharing.add_argument(
        "--unshare",
        type=int,
        metavar="ID",
        help="make a shared note personal again: the group loses it, this library keeps it",
    )

    at = add("attach", "attach files to a paper: stored in the files folder, or linked")
    at.add_argument("key", metavar="KEY")
    at.add_argument("files", nargs="+", metavar="FILE")
    how = at.add_mutually_exclusive_group()
    how.add_argument(
        "--store",
        dest="store",
        action="store_true",
        default=True,
        help="copy each file into the files folder, named by the key (the default)",
    )
    how.add_argument(
        "--link", dest="store", action="store_false", help="leave each file where it is"
    )
    at.add_argument(
        "--role",
        choices=["main", "supplement"],
        help="main: the file 'open' opens (default: the first PDF of a paper without one)",
    )

    de = sub.add_parser(
        "detach",
        help="take a file off a paper (a stored file goes to the trash of the files folder)",
        description="Take a file off a paper. A stored file is moved to .trash/ in the files "
        "folder ('citedesk files --empty-trash' deletes it); a linked file is not touched.",
        parents=[common],
    )
    de.add_argument("key", metavar="KEY")
    de.add_argument(
        "file", metavar="FILE", help="its name as 'files' shows it, its stored path or full path"
    )

    fl = sub.add_parser(
        "files",
        help="list attached files (all, or one paper's)",
        description="List attached files: key, role, stored/linked, size, name (stored) or "
        "path (linked), and MISSING when the file is not where the library says. "
        "Exit code: 0, or with --missing 1 when any file is missing (0 when none is), so "
        "'citedesk files --missing' fails a Makefile or CI step while files are lost.",
        parents=[common],
    )
    fl.add_argument("key", nargs="?", metavar="KEY", help="only this paper's files")
    fl.add_argument("--missing", action="store_true", help="only files that are missing")
    fl.add_argument(
        "--json",
        action="store_true",
        help="a JSON array of {key, name, path, stored, role, mime, size, hash, missing}",
    )
    fl.add_argument(
        "--folder",
        nargs="?",
        const="",
        metavar="DIR",
        help="print the folder stored files are kept in; with DIR, move them there (a "
        "relative DIR is taken from the library's folder)",
    )
    fl.add_argument(
        "--empty-trash",
        action="store_true",
        help="delete the detached stored files kept in the files folder's .trash/ "
        "(a window that is open can no longer undo those detaches)",
    )

    op = add("open", "open a paper's main file with the desktop's application")
    op.add_argument("key", metavar="KEY")

    rl = add("relink", "find missing files by their content in folders (searched recursively)")
    rl.add_argument("folders", nargs="+", metavar="DIR")

    ft = sub.add_parser(
        "fulltext",
        help="index the text of attached PDFs for search, or show the index's state",
        description="Index the text of attached PDFs so that searches find words inside them. "
        "Progress goes to stderr; files that cannot be read are reported by name with the "
        "reason and the command still exits 0. Ctrl+C stops it (exit 130); what was indexed "
        "stays.",
        parents=[common],
    )
    ft.add_argument("--rebuild", action="store_true", help="index every PDF again")
    ft.add_argument(
        "--status", action="store_true", help="print files, indexed, pages, pending and failures"
    )

    gr = sub.add_parser(
        "group",
        help="share the library with others through a PostgreSQL server (a group library)",
        description="A group library: every member keeps a library of their own (it works "
        "offline) and 'group sync' exchanges the changes with the group's PostgreSQL server.",
        epilog=GROUP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    gr_sub = gr.add_subparsers(dest="group_command", metavar="ACTION", required=True)

    def gadd(name: str, help_: str) -> argparse.ArgumentParser:
        return gr_sub.add_parser(name, help=help_, description=help_, parents=[common])

    gi = gadd(
        "init",
        "put this library on a PostgreSQL server: make the group there, share every paper",
    )
    gi.add_argument("url", metavar="URL", help="the server (its user needs CREATE on the database)")
    gi.add_argument(
        "--share-files",
        action="store_true",
        help="send the stored files themselves through the server too (see 'group files')",
    )
    gj = gadd(
        "join",
        "make a new library from a group (no seeded papers): "
        "citedesk --library NEW.sqlite group join URL",
    )
    gj.add_argument("url", metavar="URL", help="the group's server")
    gs = gadd("sync", "pull the group's changes (merged with this library's), push this library's")
    gs.add_argument("--pull-only", action="store_true", help="pull only; push nothing")
    gs.add_argument(
        "--url",
        metavar="URL",
        help="the server as given this once (a password in it is used, not stored)",
    )
    gs.add_argument(
        "--json",
        action="store_true",
        help="print {summary, pulled, pushed, merged, conflicts, kept_back, version, messages}",
    )
    gt = gadd(
        "status",
        "the group's server, versions seen and on the server, changes waiting to go "
        "out, conflicts, and whether this member may write",
    )
    gt.add_argument("--offline", action="store_true", help="do not ask the server")
    gt.add_argument(
        "--json",
        action="store_true",
        help="print {server, group, seen, latest, pending, conflicts, writable, share_files, "
        "problem}",
    )
    gf = gadd(
        "files",
        "send the stored files themselves through the server (on) or not (off); what is "
        "attached to which paper is shared either way, a file not sent shows as missing",
    )
    gf.add_argument(
        "state",
        choices=("on", "off"),
        metavar="on|off",
        help="on also sends this library's stored files now (needs a writer's rights)",
    )
    gc = gadd("conflicts", "list the parts changed here and in the group, waiting for a choice")
    gc.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array of {id, key, part, base, mine, theirs}",
    )
    gr_res = gadd(
        "resolve",
        "settle a conflict: keep mine (goes to the group at the next sync) or theirs",
    )
    gr_res.add_argument("id", nargs="?", type=int, metavar="ID", help="as 'group conflicts' lists")
    gr_res.add_argument("keep", nargs="?", choices=("mine", "theirs"), metavar="mine|theirs")
    gr_res.add_argument(
        "--all", choices=("mine", "theirs"), metavar="mine|theirs", help="settle every conflict"
    )
    gg = gadd(
        "grant",
        "let a PostgreSQL role into the group: to change it, or with --read-only to read it",
    )
    gg.add_argument("role", metavar="ROLE", help="an existing PostgreSQL role (CREATE ROLE)")
    gg.add_argument(
        "--read-only",
        action="store_true",
        help="read only (also takes a writer's right to change the group away)",
    )
    gg.add_argument(
        "--url",
        metavar="URL",
        help="the server as the group's owner (default: this library's server)",
    )

    bk = add("backup", "copy the library with SQLite's online backup (safe while in use)")
    bk.add_argument(
        "dest",
        nargs="?",
        metavar="DEST",
        help="a file or a folder (default: a timestamped file in backups/ beside the library)",
    )
    bk.add_argument(
        "--with-files",
        action="store_true",
        help=f"also the stored files, in DEST{FILES_SUFFIX} beside the backup",
    )
    rs = add(
        "restore",
        "replace the library with a backup; the replaced file is kept "
        "(and bring back the stored files of a backup made --with-files)",
    )
    rs.add_argument("backup", metavar="BACKUP")
    rs.add_argument("--yes", action="store_true", help="replace without asking")
    return p


def _library_path(args: argparse.Namespace) -> Path:
    # Absolute, so that the files folder beside it is named in full in what is printed.
    return Path(default_library_path(getattr(args, "library", None))).absolute()


def _open(args: argparse.Namespace) -> Library:
    path = _library_path(args)
    return Library.open(path, seed=not getattr(args, "empty", False))


def _with_saved(lib: Library, args: argparse.Namespace, query: Query) -> Query:
    """``query`` narrowed to the saved search ``--saved`` names (its filters and words, and
    those given beside it; a tag or status given twice must agree)."""
    if not args.saved:
        return query
    saved = lib.saved_query(args.saved)
    both = (("tag", query.tag, saved.tag), ("status", query.status, saved.status))
    for what, given, kept in both:
        if given is not None and kept is not None and given.lower() != kept.lower():
            raise UsageError(f"the saved search {args.saved!r} already asks for {what} {kept!r}")
    return narrowed(
        Query(
            search=saved.search,
            tag=query.tag or saved.tag,
            status=query.status or saved.status,
            keys=query.keys,
        ),
        query.search,
    )


def _cmd_list(lib: Library, args: argparse.Namespace) -> int:
    query = Query(search=args.search or "", tag=args.tag, status=args.status)
    query = _with_saved(lib, args, query)
    if args.search:
        hint = lib.search_hint(args.search)
        if hint:
            print(f"citedesk: search: {hint}", file=sys.stderr)
    if args.json:
        out = sys.stdout
        out.write("[")
        records = lib.records(query, sort=args.sort, descending=args.reverse)
        for i, rec in enumerate(records):
            out.write(("," if i else "") + "\n  " + json.dumps(rec, ensure_ascii=False))
        out.write("\n]\n")
        return 0
    # The table's own rows, so that a paper's authors read as the window shows them.
    ids = lib.paper_ids(query, sort=args.sort, descending=args.reverse)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = lib.rows(chunk)
        for pid in chunk:
            row = rows[pid]
            tags = f"  [{row.tags}]" if row.tags else ""
            print(
                f"{row.key:<32} {row.year or '':<4}  {row.status:<7} "
                f"{row.authors[:20]:<20}  {row.title}{tags}"
            )
    return 0


def _cmd_import(lib: Library, args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        print(f"progress: {done}/{total} bytes", file=sys.stderr, flush=True)

    report = lib.import_files(
        args.files, strict=args.strict, progress=progress if args.progress else None
    )
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


def _profile(lib: Library, args: argparse.Namespace) -> ExportProfile | None:
    if args.profile and args.dialect:
        profile = lib.profile(args.profile)
        if profile.dialect != args.dialect:
            raise UsageError(
                f"profile {args.profile!r} is for {profile.dialect}, not {args.dialect}"
            )
        return profile
    if args.profile or args.dialect:
        return lib.profile(args.profile, args.dialect)
    return None


def _nothing_chosen(args: argparse.Namespace) -> str:
    """What an export that found no paper asked for, in one line."""
    if args.aux:
        return f"the library has none of the keys {args.aux} cites; no file written"
    wanted = [
        *([f"tag {args.tag!r}"] if args.tag else []),
        *([f"status {args.status}"] if args.status else []),
        *([f"search {args.search!r}"] if args.search else []),
        *([f"saved search {args.saved!r}"] if args.saved else []),
        *(["--key"] if args.key else []),
    ]
    return f"no paper matches ({', '.join(wanted)}); no file written"


def _cmd_cite(lib: Library, args: argparse.Namespace) -> int:
    """One citation (or bibliography) for the papers named, in the order named; papers of
    --tag or --saved follow in the library's order."""
    ids: list[int] = []
    for key in args.keys:
        ids.append(lib.require_key(key))
    if args.tag or args.saved:
        query = Query(tag=args.tag)
        if args.saved:
            query = lib.saved_query(args.saved)
            if args.tag:
                query = Query(search=query.search, tag=args.tag, status=query.status)
        ids += lib.paper_ids(query, sort="added")
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise UsageError("name the papers to cite: KEY..., --tag T or --saved NAME")
    text = lib.cite(
        ids,
        args.format,
        command=args.cite_command,
        brackets=args.brackets,
        style=args.style,
        locale=args.locale,
        output=args.output,
    )
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _cmd_export(lib: Library, args: argparse.Namespace) -> int:
    other = args.format in Library.OTHER_FORMATS  # csl-json, ris: no BibTeX options
    if other:
        for given, flag in (
            (args.dialect, "--dialect"),
            (args.profile, "--profile"),
            (args.keep_encoding, "--keep-encoding"),
        ):
            if given:
                raise UsageError(f"{flag} is for BibTeX; --format {args.format} writes UTF-8 as is")
    elif args.format == "biblatex":
        if args.dialect == "bibtex":
            raise UsageError("--format biblatex and --dialect bibtex disagree; give one")
        args.dialect = "biblatex"
    profile = None if other else _profile(lib, args)
    query: Query | None = None
    ids: list[int] | None = None
    copies: dict[int, list[str]] = {}
    if args.aux:
        if args.key or args.tag or args.status or args.search or args.saved:
            raise UsageError(
                "--aux chooses the entries itself; drop --key/--tag/--status/--search/--saved"
            )
        ids, missing, copies = lib.aux_selection(args.aux, profile)
        chosen = ids is not None  # (None: \nocite{*}, the whole library)
        for k in missing:
            print(f"citedesk: {args.aux} cites {k!r}, which is not in the library", file=sys.stderr)
    else:
        missing = [k for k in args.key if lib.id_for_key(k) is None]
        for k in missing:
            print(f"citedesk: no paper with citation key {k!r}", file=sys.stderr)
        query = Query(
            search=args.search or "", tag=args.tag, status=args.status, keys=tuple(args.key)
        )
        chosen = query != Query() or bool(args.saved)
        query = _with_saved(lib, args, query)
    if other:
        if args.sort == "key" and ids != []:
            ids = lib.paper_ids(query if ids is None else Query(ids=tuple(ids)), sort="key")
        text, n = lib.export_other(args.format, query, ids)
        data = text.encode("utf-8")
    elif args.sort == "key":
        text, n = lib.export_text(query, profile, ids, copies, order="key")
        data = lib.encode_export(text, args.keep_encoding)
    else:
        text, n = lib.export_text(query, profile, ids=ids, extra_keys=copies)
        data = lib.encode_export(text, args.keep_encoding)
    if n == 0 and chosen:
        # A selection with nothing in it: a file of bare macros is no one's bibliography.
        print(f"citedesk: nothing to export: {_nothing_chosen(args)}", file=sys.stderr)
        return 1
    if args.output:
        write_export(args.output, data)
        print(f"exported {n} entries to {args.output}", file=sys.stderr)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 1 if missing else 0


def _cmd_keys(lib: Library, args: argparse.Namespace) -> int:
    if args.keys_command == "pattern":
        if args.pattern is None:
            print(lib.key_pattern)
        else:
            try:
                lib.set_key_pattern(args.pattern)
            except KeyPatternError as exc:
                raise UsageError(str(exc)) from None
        return 0
    if not args.all and not args.key:
        raise UsageError("say which keys to regenerate: --key K (repeatable) or --all")
    if args.pattern:
        try:
            check_pattern(args.pattern)
        except KeyPatternError as exc:
            raise UsageError(str(exc)) from None
    ids = None if args.all else [lib.require_key(k) for k in args.key]
    changed = lib.regenerate_keys(ids, args.pattern).keys
    for old, new in changed.values():
        print(f"{old} -> {new}")
    print(f"{len(changed)} keys changed; old keys stay as aliases", file=sys.stderr)
    return 0


def _cmd_profile(lib: Library, args: argparse.Namespace) -> int:
    if args.profile_command == "list":
        for name in lib.profile_names():
            p = lib.profile(name)
            print(
                f"{name:<16} {p.dialect:<9} exclude={','.join(p.exclude) or '-'} "
                f"protect-capitals={'yes' if p.protect_capitals else 'no'} "
                f"page-dashes={'yes' if p.page_dashes else 'no'} "
                f"files={'yes' if p.files else 'no'}"
            )
    elif args.profile_command == "add":
        lib.save_profile(
            ExportProfile(
                args.name,
                args.dialect,
                parse_exclude(args.exclude),
                protect_capitals=not args.no_protect_capitals,
                page_dashes=not args.no_page_dashes,
                files=args.files,
            )
        )
    else:
        lib.remove_profile(args.name)
    return 0


def _cmd_autoexport(lib: Library, args: argparse.Namespace) -> int:
    if args.auto_command == "add":
        lib.add_autoexport(
            args.file, tag=args.tag, aux=args.aux, profile=args.profile, saved=args.saved
        )
        print(f"keeping {lib.autoexports()[-1]['path']} current", file=sys.stderr)
    elif args.auto_command == "remove":
        lib.remove_autoexport(args.file)
    elif args.auto_command == "list":
        for spec in lib.autoexports():
            what = (
                f"saved search {spec['saved']}"
                if spec.get("saved")
                else f"tag {spec['tag']}"
                if spec.get("tag")
                else f"cited in {spec['aux']}"
                if spec.get("aux")
                else "all papers"
            )
            print(f"{spec['path']}  ({what}; profile {spec.get('profile') or 'as stored'})")
    results = lib.run_autoexports() if args.auto_command in ("run", "add") else []
    failed = [r for r in results if r[1].startswith("error")]
    for path, status in results:
        print(f"{path}: {status}", file=sys.stderr if status.startswith("error") else sys.stdout)
    return 1 if failed else 0


def _cmd_saved(lib: Library, args: argparse.Namespace) -> int:
    if args.saved_command == "add":
        lib.save_search(args.name, Query(search=args.query, tag=args.tag, status=args.status))
        hint = lib.search_hint(args.query) if args.query else None
        if hint:
            print(f"citedesk: search: {hint}", file=sys.stderr)
        print(f"saved {args.name!r}: {lib.count(lib.saved_query(args.name))} papers")
    elif args.saved_command == "remove":
        lib.remove_saved_search(args.name)
    elif args.saved_command == "rename":
        lib.rename_saved_search(args.old, args.new)
    else:
        listed = [
            {
                "name": s.name,
                "query": s.query.search,
                "tag": s.query.tag,
                "status": s.query.status,
                "count": lib.count(s.query),
            }
            for s in lib.saved_searches()
        ]
        if args.json:
            print(json.dumps(listed, ensure_ascii=False, indent=2))
        for item in [] if args.json else listed:
            extra = "".join(f"  {k}:{item[k]}" for k in ("tag", "status") if item[k] is not None)
            print(f"{item['name']}\t{item['query']}{extra}\t{item['count']}")
    return 0


def _cmd_duplicates(lib: Library, args: argparse.Namespace) -> int:
    groups = lib.find_duplicates()
    for group in groups:
        rows = lib.rows(group)
        print(" = ".join(rows[i].key for i in group) + f"    {rows[group[0]].title}")
        if args.merge:
            lib.merge_papers(group[0], group[1:])
    if args.merge and groups:
        print(f"merged {len(groups)} groups", file=sys.stderr)
    return 0


def _cmd_merge(lib: Library, args: argparse.Namespace) -> int:
    keep = lib.require_key(args.keep)
    lib.merge_papers(keep, [lib.require_key(k) for k in args.others])
    return 0


def _cmd_tag(lib: Library, args: argparse.Namespace) -> int:
    pid = lib.require_key(args.key)
    if args.command == "tag":
        lib.add_tags([pid], args.tags)
    else:
        unknown = [
            t for t in args.tags if t.lower() not in {x.lower() for x in lib.paper_tags(pid)}
        ]
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
        if args.share is not None or args.unshare is not None:
            return _share_note(lib, args, pid)
        for note in lib.notes(pid):
            shared = ", shared with the group" if note.shared else ""
            print(f"--- note {note.id} (updated {note.updated[:16].replace('T', ' ')}{shared})")
            print(note.body)
        return 0
    if args.unshare is not None:
        raise UsageError("a new note is personal already; --unshare ID takes back a shared one")
    if args.share:
        raise UsageError("--share ID shares a note the paper has; a new note: --share alone")
    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise UsageError("the note is empty")
    with lib.transaction():  # added and shared, or neither
        note_id = lib.add_note(pid, text).new_note
        if args.share is not None:
            lib.set_note_shared(note_id, True)
    print(f"added note {note_id} to {args.key}", file=sys.stderr)
    if args.share is not None:
        _say_shared(lib, f"note {note_id} of {args.key}", True)
    return 0


def _share_note(lib: Library, args: argparse.Namespace, pid: int) -> int:
    """``note KEY --share [ID]`` / ``--unshare ID``: the ID must be one of KEY's notes."""
    share = args.unshare is None
    note_id = args.share if share else args.unshare
    if not note_id:
        notes = lib.notes(pid)
        if len(notes) != 1:
            has = "no notes" if not notes else f"{len(notes)} notes"
            listing = f"; 'citedesk note {args.key}' lists them" if notes else ""
            raise UsageError(f"{args.key} has {has}: say which, --share ID{listing}")
        note_id = notes[0].id
    note = lib.note(note_id)
    if note is None or note.paper_id != pid:
        raise LibraryError(
            f"{args.key} has no note {note_id} ('citedesk note {args.key}' lists its notes)"
        )
    lib.set_note_shared(note_id, share)
    _say_shared(lib, f"note {note_id} of {args.key}", share)
    return 0


def _say_shared(lib: Library, what: str, shared: bool) -> None:
    server = lib.group_server()
    if not shared:
        tail = "; the group loses it at the next sync" if server else ""
        print(f"{what} is personal again{tail}", file=sys.stderr)
    elif server:
        print(f"shared {what}; 'citedesk group sync' sends it to the group", file=sys.stderr)
    else:
        print(
            f"shared {what}: this library is in no group yet, the note goes with it "
            "('citedesk group init URL')",
            file=sys.stderr,
        )


# -- attached files -------------------------------------------------------------------------------


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _size(n: int | None) -> str:
    return "?" if n is None else human_size(n)


def _cmd_attach(lib: Library, args: argparse.Namespace) -> int:
    pid = lib.require_key(args.key)
    # Every file is checked before any is attached: one bad path attaches nothing.
    paths = [Path(f).expanduser().absolute() for f in args.files]
    for path in paths:
        if path.is_dir():
            raise LibraryError(f"{path} is a folder: attach the files in it, not the folder")
        if not path.is_file():
            raise LibraryError(f"{path}: no such file")
    hashes: dict[Path, str] = {}
    for path in paths:
        try:
            hashes[path] = file_hash(path)
        except OSError as exc:
            raise LibraryError(f"{path} cannot be read: {exc.strerror or exc}") from None
    before = {a.id for a in lib.attachments_of(pid)}
    lib.attach(pid, paths, store=args.store, role=args.role)
    by_hash = {a.hash: a for a in lib.attachments_of(pid)}
    for path in paths:
        a = by_hash.get(hashes[path])
        if a is None:  # (changed while it was attached)
            print(f"citedesk: {path} was not attached", file=sys.stderr)
        elif a.id in before:
            print(f"{path} -> already attached to {args.key} as {a.name}")
        elif a.stored:
            print(f"{path} -> {a.path}")
        else:
            print(f"{path} -> linked")
    return 0


def _find_attachment(lib: Library, key: str, text: str) -> Attachment:
    pid = lib.require_key(key)
    have = lib.attachments_of(pid)
    wanted = Path(text).expanduser()
    full = wanted.absolute()
    found = [
        a for a in have if text in (a.name, a.stored_path, str(a.path)) or full == a.path.absolute()
    ]
    if not found and wanted.exists():  # the same file under another spelling (a symlink)
        found = [a for a in have if a.path.exists() and a.path.samefile(wanted)]
    if len(found) == 1:
        return found[0]
    if not found:
        names = ", ".join(a.name for a in have) or "none"
        raise LibraryError(f"{key} has no file {text!r} (its files: {names})")
    paths = ", ".join(str(a.path) for a in found)
    raise LibraryError(f"{key} has {len(found)} files named {text!r}; give the full path: {paths}")


def _cmd_detach(lib: Library, args: argparse.Namespace) -> int:
    a = _find_attachment(lib, args.key, args.file)
    lib.detach([a.id])
    if not a.stored:
        print(f"detached {a.path} from {args.key}; the linked file was not touched")
        return 0
    kept = lib.files_dir / FILES_TRASH / a.hash if a.hash else None
    if kept is not None and kept.is_file():
        print(
            f"detached {a.name} from {args.key}; the file is now {kept} "
            "('citedesk files --empty-trash' deletes it)"
        )
    else:
        print(f"detached {a.name} from {args.key}; its file was not in {lib.files_dir}")
    return 0


def _record(a: Attachment, key: str) -> dict[str, object]:
    return {
        "key": key,
        "name": a.name,
        "path": str(a.path),
        "stored": a.stored,
        "role": a.role,
        "mime": a.mime,
        "size": a.size,
        "hash": a.hash,
        "missing": a.missing,
    }


def _cmd_files(lib: Library, args: argparse.Namespace) -> int:
    if args.folder is not None:
        if args.key or args.missing or args.json or args.empty_trash:
            raise UsageError("--folder takes no KEY, --missing, --json or --empty-trash")
        if args.folder:
            before = lib.files_dir
            print(f"moved {before} to {lib.move_files_folder(args.folder)}")
        else:
            print(lib.files_dir)
        return 0
    if args.empty_trash:
        if args.key or args.missing or args.json:
            raise UsageError("--empty-trash takes no KEY, --missing or --json")
        gone = lib.empty_file_trash()
        print(f"deleted {_count(gone, 'file')} from {lib.files_dir / FILES_TRASH}")
        return 0
    ids = [lib.require_key(args.key)] if args.key else None
    found = lib.all_attachments(ids)
    if args.missing:
        found = [a for a in found if a.missing]
    pids = sorted({a.paper_id for a in found})
    keys: dict[int, str] = {}
    for start in range(0, len(pids), 500):
        rows = lib.rows(pids[start : start + 500])
        keys.update({pid: row.key for pid, row in rows.items()})
    if args.json:
        print(json.dumps([_record(a, keys[a.paper_id]) for a in found], ensure_ascii=False))
    else:
        for a in found:
            where = a.name if a.stored else str(a.path)
            mark = "  MISSING" if a.missing else ""
            print(
                f"{keys[a.paper_id]:<32} {a.role:<10} {'stored' if a.stored else 'linked':<6} "
                f"{_size(a.size):>9}  {where}{mark}"
            )
    if args.missing:
        if found:
            print(
                f"citedesk: {_count(len(found), 'file')} missing; 'citedesk relink DIR' "
                "finds them by their content",
                file=sys.stderr,
            )
        return 1 if found else 0
    return 0


def _cmd_open(lib: Library, args: argparse.Namespace) -> int:
    pid = lib.require_key(args.key)
    a = lib.main_file(pid)
    if a is None:
        have = lib.attachments_of(pid)
        if not have:
            raise LibraryError(f"{args.key} has no file to open ('citedesk attach' adds one)")
        raise LibraryError(
            f"{args.key}'s files are missing ({', '.join(str(x.path) for x in have)}); "
            "'citedesk relink DIR' finds them by their content"
        )
    if sys.platform.startswith("linux") and not any(
        os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    ):
        raise LibraryError(f"no desktop to open {a.path} on (neither DISPLAY nor WAYLAND_DISPLAY)")
    # Qt only here: files open through the desktop's own handler, never a program we start.
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices, QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(["citedesk"])
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(a.path))):
        raise LibraryError(f"the desktop could not open {a.path} (no application for it?)")
    print(f"opened {a.path}", file=sys.stderr)
    return 0


def _cmd_relink(lib: Library, args: argparse.Namespace) -> int:
    lost = {a.id: a for a in lib.all_attachments() if a.missing}
    if not lost:
        print("no file is missing", file=sys.stderr)
        return 0
    report = lib.relink(args.folders)
    keys = {
        pid: row.key for pid, row in lib.rows(sorted({a.paper_id for a in lost.values()})).items()
    }
    for aid, path in report.found.items():
        a = lost[aid]
        how = f"copied back to {a.path}" if a.stored else "linked there now"
        print(f"found {keys[a.paper_id]} {a.name} at {path} ({how})")
    unfindable = [aid for aid in lost if aid not in report.found]
    for aid in unfindable:
        a = lost[aid]
        print(f"still missing: {keys[a.paper_id]} {a.path}", file=sys.stderr)
    print(
        f"{len(report.found)} found, {len(unfindable)} still missing",
        file=sys.stderr,
    )
    return 1 if unfindable else 0


#: How often a full-text run says how far it got (in files).
FULLTEXT_PROGRESS_EVERY = 25


@contextmanager
def _ctrl_c_sets(cancel: threading.Event) -> Iterator[None]:
    """While inside: Ctrl+C asks the work to stop (it stops between files and keeps what it
    did); a second Ctrl+C interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    owner = os.getpid()

    def on_sigint(signum: int, frame: object) -> None:
        if os.getpid() != owner:
            return  # a forked worker process: the Ctrl+C is its parent's to handle
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print(
            "\ncitedesk: stopping after the current file (Ctrl+C again to quit now)",
            file=sys.stderr,
            flush=True,
        )

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _cmd_fulltext(lib: Library, args: argparse.Namespace) -> int:
    if not hasattr(lib, "index_fulltext") or not hasattr(lib, "fulltext_status"):
        raise LibraryError("this version of Citedesk cannot index the text of PDFs yet")
    if args.status:
        if args.rebuild:
            raise UsageError("--status only shows the index; drop --rebuild")
        st = lib.fulltext_status()
        print(f"files:   {st.files}")
        print(f"indexed: {st.indexed}")
        print(f"pages:   {st.pages}")
        print(f"pending: {st.pending}")
        print(f"failed:  {len(st.failed)}")
        for name, reason in st.failed:
            print(f"  {name}: {reason}")
        return 0

    def progress(done: int, total: int, name: str) -> None:
        if done and (done == total or done % FULLTEXT_PROGRESS_EVERY == 0):
            print(f"fulltext: {done}/{total} files ({name})", file=sys.stderr, flush=True)

    cancel = threading.Event()
    try:
        with _ctrl_c_sets(cancel):
            report = lib.index_fulltext(progress=progress, cancel=cancel, rebuild=args.rebuild)
    except KeyboardInterrupt:
        print("\ncitedesk: fulltext: interrupted", file=sys.stderr)
        return 130
    for name, reason in report.failed:
        print(f"citedesk: fulltext: {name}: {reason}", file=sys.stderr)
    print(
        f"indexed {_count(report.indexed, 'file')} ({_count(report.pages, 'page')}), "
        f"{report.skipped} already indexed, {len(report.failed)} failed"
        + (" (stopped)" if report.cancelled else ""),
        file=sys.stderr,
    )
    return 130 if report.cancelled else 0


# -- papers by their identifiers (db/lookup.py, db/arrivals.py) ----------------------------------


def _asked(args: argparse.Namespace) -> list[Identifier]:
    """The identifiers an ``add`` names, each once, in the order first given."""
    if not args.ids and not args.from_file:
        raise UsageError("give identifiers (a DOI, arXiv id or ISBN), or --from FILE")
    found: list[Identifier] = []
    where: list[str] = []
    for arg in args.ids:
        one = parse_identifier(arg)
        found += [one] if one is not None else identifiers_in(arg)
    if args.ids:
        where.append(repr(args.ids[0]) if len(args.ids) == 1 else "the arguments")
    if args.from_file == "-":
        found += identifiers_in(sys.stdin.read())
        where.append("standard input")
    elif args.from_file:
        path = Path(args.from_file).expanduser()
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")
        except OSError as exc:
            raise LibraryError(f"{path} cannot be read: {exc.strerror or exc}") from None
        found += identifiers_in(text)
        where.append(str(path))
    unique: dict[str, Identifier] = {}
    for ident in found:
        unique.setdefault(ident.key, ident)
    if not unique:
        raise UsageError(f"no DOI, arXiv id or ISBN found in {' or '.join(where)}")
    return list(unique.values())


def _lookup_progress(total: int) -> Callable[[int, int, Outcome], None] | None:
    """On a terminal, a line that counts; elsewhere one line up front (logs stay readable)."""
    if not sys.stderr.isatty():
        if total > 1:
            print(f"looking up {total} identifiers…", file=sys.stderr, flush=True)
        return None
    lock = threading.Lock()

    def progress(done: int, total: int, outcome: Outcome) -> None:
        with lock:
            end = "\n" if done == total else ""
            print(f"\rlooking up: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return progress


def _marks(found: Found) -> set[str]:
    """What tells two records of one paper apart from others: its DOI, its arXiv id."""
    out = set()
    records = [found] + ([found.published] if found.published else [])
    for rec in records:
        if rec.get("doi"):
            out.add("doi:" + rec.get("doi").strip().lower())
        if rec.get("eprint") and rec.get("eprinttype").lower() in ("arxiv", ""):
            out.add("arxiv:" + arxiv_base(rec.get("eprint").strip()).lower())
    return out


def _cmd_add(lib: Library, args: argparse.Namespace) -> int:
    ids = _asked(args)
    try:
        with lib.lookup() as lk:
            try:
                outcomes = lk.run(ids, progress=_lookup_progress(len(ids)))
            except KeyboardInterrupt:
                lk.cancel()
                raise
            finally:
                lib.save_lookup_cache(lk.fresh_answers)  # what came back stays, even now
    except KeyboardInterrupt:
        print("\ncitedesk: add: interrupted; nothing added", file=sys.stderr)
        return 130

    firsts: dict[str, Identifier] = {}
    for ident in ids:  # one lookup per work: 1605.08386 and 1605.08386v1 are one paper
        if ident.work in firsts and not args.json:
            print(f"skipped: {ident} is the same paper as {firsts[ident.work]}")
        firsts.setdefault(ident.work, ident)
    results: dict[str, dict[str, object]] = {}
    chosen: list[tuple[Outcome, Found]] = []
    seen: dict[str, Identifier] = {}
    for o in outcomes:
        asked = str(o.asked)
        result: dict[str, object] = {"asked": asked, "key": None, "title": None, "source": None}
        result.update(status="failed", error=o.error or None, same=[])
        results[o.asked.key] = result
        if o.found is None:
            print(f"citedesk: {asked}: {o.error}", file=sys.stderr)
            continue
        found = o.found if args.preprint or o.found.published is None else o.found.published
        result.update(title=found.title, source=found.source, status="preview", error=None)
        # Two identifiers of one paper (its arXiv id and its DOI) add it once.
        twin = next((seen[m] for m in _marks(found) if m in seen), None)
        if twin is not None:
            result["status"] = "duplicate"
            if not args.json:
                print(f"skipped: {asked} is the same paper as {twin}")
            continue
        seen.update(dict.fromkeys(_marks(found), o.asked))
        chosen.append((o, found))

    previews = lib.preview_found([f for _, f in chosen])
    kept: list[tuple[Outcome, Preview]] = []
    for (o, _), preview in zip(chosen, previews, strict=True):
        result = results[o.asked.key]
        result["same"] = [{"key": s.key, "title": s.title, "why": s.why} for s in preview.same]
        if preview.same and not args.allow_duplicates:
            result["status"] = "duplicate"
            result["key"] = preview.same[0].key
            if not args.json:
                first = preview.same[0]
                print(f"skipped: {first.key} already has it ({first.why})")
            continue
        kept.append((o, preview))
    if len(kept) < len(previews):  # keys again, without the papers skipped
        again = lib.preview_found([p.found for _, p in kept])
        kept = [(o, p) for (o, _), p in zip(kept, again, strict=True)]
    for o, preview in kept:
        results[o.asked.key]["key"] = preview.key

    import_failed = False
    if args.dry_run:
        if kept and not args.json:
            print("\n\n".join(p.text.rstrip("\n") for _, p in kept))
    elif kept:
        report = lib.add_found([p.found for _, p in kept])
        added = set(report.added)
        for dup in report.duplicates:
            print(f"citedesk: duplicate: {dup}", file=sys.stderr)
        for failure in report.failures:
            print(f"citedesk: {failure}", file=sys.stderr)
        import_failed = bool(report.failures)
        for o, preview in kept:
            result = results[o.asked.key]
            if preview.key in added:
                result["status"] = "added"
                if not args.json:
                    print(f"added {preview.key}  {preview.found.title}")
            else:
                result.update(status="failed", error="not added (see the messages above)")
                import_failed = True
    counts = [str(r["status"]) for r in results.values()]
    if args.json:
        print(json.dumps(list(results.values()), ensure_ascii=False, indent=1))
    verb = "would add" if args.dry_run else "added"
    print(
        f"{verb} {counts.count('preview') + counts.count('added')}, "
        f"{counts.count('duplicate')} skipped as already there, {counts.count('failed')} failed",
        file=sys.stderr,
    )
    return 1 if import_failed or any(not o.ok for o in outcomes) else 0


def _shorten(text: str, width: int = 72) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _refresh_record(
    lib: Library, lk: Lookup, pid: int, min_score: float
) -> tuple[Found | None, dict[str, object]]:
    """The record a paper is compared with, and what was said on the way (for the report):
    by its identifiers when it has any (DOI first), else the best match by title."""
    sf = lib.search_for(pid)
    if sf.identifiers:
        wanted = sorted(sf.identifiers, key=lambda i: i.kind != "doi")
        outcomes = lk.run(wanted, fresh=True)
        hit = next((o for o in outcomes if o.found is not None), None)
        if hit is None or hit.found is None:
            errors = "; ".join(f"{o.asked}: {o.error}" for o in outcomes)
            return None, {"status": "failed", "error": errors}
        found = hit.found.published or hit.found
        return found, {"status": "matched", "source": found.source, "by": str(hit.asked)}
    candidates = lk.search(sf.title, sf.author, sf.year)
    best = candidates.best
    problems = "; ".join(candidates.problems) or None
    if best is None:
        status = "failed" if problems else "no match"
        return None, {"status": status, "error": problems}
    if best.score < min_score:
        return None, {
            "status": "no match",
            "error": problems,
            "score": best.score,
            "best": best.title,
        }
    found = lk.complete(best)
    found = found.published or found
    return found, {"status": "matched", "source": found.source, "score": best.score}


def _refresh_one(
    lib: Library,
    lk: Lookup,
    pid: int,
    key: str,
    args: argparse.Namespace,
    accept: set[str],
    say: Callable[[str], None],
) -> dict[str, object]:
    """Look one paper up again, show what would change, apply what was accepted."""
    found, result = _refresh_record(lib, lk, pid, args.min_score)
    result = {"key": key, **result}
    if found is None:
        if result["status"] == "failed":
            print(f"citedesk: {key}: {result['error']}", file=sys.stderr)
            return result
        if "score" in result:
            say(f"{key}: no match good enough (best {result['score']:.2f}: {result['best']})")
        else:
            say(f"{key}: no match found")
        if result.get("error"):  # one source failed, the other found nothing good
            print(f"citedesk: {key}: {result['error']}", file=sys.stderr)
        return result
    how = result.get("by") or f"score {result['score']:.2f}"
    say(f"{key}: matched {found.source} ({how})")
    diffs = lib.refresh_diff(pid, found)
    result["changes"] = [{"name": d.name, "old": d.old, "new": d.new} for d in diffs]
    result["applied"] = []
    if not diffs:
        result["status"] = "up to date"
        say(f"{key}: up to date")
        return result
    for d in diffs:
        if d.added:
            say(f"  + {d.name}: {_shorten(d.new)}")
        else:
            say(f"  {d.name}: {_shorten(d.old)} → {_shorten(d.new)}")
    chosen = [d for d in diffs if args.yes or d.name.lower() in accept]
    if chosen:
        lib.apply_refresh(pid, chosen)  # one write: one undo in the window
        result["status"] = "updated"
        result["applied"] = [d.name for d in chosen]
        say(f"{key}: updated {', '.join(d.name for d in chosen)}")
    return result


def _cmd_refresh(lib: Library, args: argparse.Namespace) -> int:
    if args.all == bool(args.keys):
        raise UsageError("say which papers: KEY... or --all (not both)")
    if args.yes and args.accept is not None:
        raise UsageError("--yes applies every change, --accept only those named: give one")
    accept = {n.strip().lower() for n in (args.accept or "").split(",") if n.strip()}
    if args.accept is not None and not accept:
        raise UsageError("--accept names fields, e.g. --accept title,doi")
    if not 0.0 <= args.min_score <= 1.0:
        raise UsageError(f"--min-score is between 0 and 1, not {args.min_score}")
    pids = lib.paper_ids() if args.all else [lib.require_key(k) for k in args.keys]
    keys: dict[int, str] = {}
    for start in range(0, len(pids), 500):
        rows = lib.rows(pids[start : start + 500])
        keys.update({pid: row.key for pid, row in rows.items()})

    def say(text: str) -> None:
        if not args.json:
            print(text, flush=True)

    report: list[dict[str, object]] = []
    try:
        with lib.lookup() as lk:
            try:
                for pid in pids:
                    report.append(_refresh_one(lib, lk, pid, keys[pid], args, accept, say))
            except KeyboardInterrupt:
                lk.cancel()
                raise
            finally:
                lib.save_lookup_cache(lk.fresh_answers)
    except KeyboardInterrupt:
        print("\ncitedesk: refresh: interrupted; papers updated so far stay so", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    elif not (args.yes or accept) and any(r.get("changes") for r in report):
        print("(dry run: --yes applies all, --accept title,doi applies some)")
    return 1 if any(r["status"] == "failed" for r in report) else 0


# -- a group library on PostgreSQL ----------------------------------------------------------------

#: ``group sync`` of a read-only member: the server refused its changes (kept here).
EXIT_READ_ONLY = 3


def _conninfo_parts(url: str) -> dict[str, str]:
    """A connection string's parts (psycopg loads only for the group commands)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except Exception:  # psycopg.ProgrammingError: the engine says what is wrong with it
        return {}


def _warn_typed_password(url: str | None) -> None:
    """A password typed in a URL is used once and never stored: say where libpq reads it
    next time, as the .pgpass line it wants (``*`` matches anything)."""
    parts = _conninfo_parts(url or "")
    if "password" not in parts:
        return

    def field(name: str) -> str:
        value = parts.get(name) or "*"
        return value.replace("\\", "\\\\").replace(":", "\\:")

    line = ":".join([field("host"), field("port"), field("dbname"), field("user"), "PASSWORD"])
    print(
        "citedesk: warning: the password in the URL was used for this command only and not "
        "stored; later syncs read it from ~/.pgpass (or the file PGPASSFILE names, mode 0600), "
        f"a line host:port:dbname:user:password, here {line}",
        file=sys.stderr,
    )


def _group_problem(exc: LibraryError) -> str:
    """A group error for stderr, with where libpq looks for a password when it lacked one."""
    text = str(exc)
    if "no password supplied" in text or "password authentication failed" in text:
        text += (
            " (libpq reads the password from ~/.pgpass or PGPASSFILE, a line "
            "host:port:dbname:user:password, or PGPASSWORD)"
        )
    return text


def _sync_record(report: SyncReport) -> dict[str, object]:
    return {
        "summary": report.summary(),
        "pulled": report.pulled,
        "pushed": report.pushed,
        "merged": report.merged,
        "conflicts": report.conflicts,
        "kept_back": report.kept_back,
        "version": report.version,
        "messages": report.messages,
    }


def _say_synced(report: SyncReport, as_json: bool = False) -> int:
    """Print what a sync did: the summary (stdout), each message (stderr); the exit code."""
    if as_json:
        print(json.dumps(_sync_record(report), ensure_ascii=False, indent=1))
        if report.kept_back:  # the refusal is the sync's last message
            print(f"citedesk: {report.messages[-1]}", file=sys.stderr)
    else:
        print(report.summary())
        for message in report.messages:
            print(f"citedesk: {message}", file=sys.stderr)
        if report.conflicts:
            print(
                f"citedesk: {_count(report.conflicts, 'part')} changed here and in the group "
                "wait for your choice: citedesk group conflicts",
                file=sys.stderr,
            )
    return EXIT_READ_ONLY if report.kept_back else 0


def _cmd_group(lib: Library, args: argparse.Namespace) -> int:
    action = args.group_command
    try:
        if action == "init":
            report = lib.group_init(args.url, share_files=args.share_files)
            _warn_typed_password(args.url)
            print(f"made the group on {shown_server(args.url)} from {lib.path}")
            return _say_synced(report)
        if action == "files":
            on = args.state == "on"
            sent = lib.group_share_files(on)
            server = shown_server(lib.group_server() or "")
            if on:
                print(
                    f"stored files go through {server} now ({_count(sent, 'file')} sent)",
                    file=sys.stderr,
                )
            else:
                print(
                    f"stored files no longer go through {server} (their metadata still does)",
                    file=sys.stderr,
                )
            return 0
        if action == "sync":
            try:
                report = lib.group_sync(push=not args.pull_only, conninfo=args.url)
            except KeyboardInterrupt:
                print(
                    "\ncitedesk: group sync: interrupted; nothing was half done, sync again",
                    file=sys.stderr,
                )
                return 130
            _warn_typed_password(args.url)
            return _say_synced(report, args.json)
        if action == "status":
            return _group_status(lib, args)
        if action == "grant":
            url = args.url or lib.group_server()
            if url is None:
                raise UsageError(
                    f"{lib.path} is in no group: name the server, group grant ROLE --url URL"
                )
            group_grant(url, args.role, writer=not args.read_only)
            may = "read" if args.read_only else "read and change"
            print(f"{args.role} may {may} the group on {shown_server(url)}", file=sys.stderr)
            return 0
    except GroupError as exc:
        print(f"citedesk: {_group_problem(exc)}", file=sys.stderr)
        return 1
    if action == "conflicts":
        return _group_conflicts(lib, args)
    if action == "resolve":
        return _group_resolve(lib, args)
    raise UsageError(f"group {action}: not a group action")  # join: see main()


def _group_status(lib: Library, args: argparse.Namespace) -> int:
    st = lib.group_status(ask_server=not args.offline)
    if args.json:
        record = {
            "server": st.server,
            "group": st.group_id,
            "seen": st.seen,
            "latest": st.latest,
            "pending": st.pending,
            "conflicts": st.conflicts,
            "writable": st.writable,
            "share_files": st.share_files,
            "problem": st.problem,
        }
        print(json.dumps(record, ensure_ascii=False, indent=1))
    else:
        unknown = "(not asked)" if args.offline else "(unknown: the server did not answer)"
        latest = unknown if st.latest is None else str(st.latest)
        if st.latest is not None and st.latest > st.seen:
            latest += f" ({st.latest - st.seen} versions to pull)"
        writable = {True: "yes", False: "no (a read-only member)", None: unknown}[st.writable]
        print(f"server:    {st.server}")
        print(f"group:     {st.group_id}")
        print(f"seen:      version {st.seen}")
        print(f"latest:    {latest}")
        print(f"pending:   {st.pending} (changes here not yet in the group)")
        print(f"conflicts: {st.conflicts}")
        print(f"writable:  {writable}")
        files = {
            True: "shared through the server",
            False: "metadata only (citedesk group files on sends the files too)",
            None: unknown,
        }[st.share_files]
        print(f"files:     {files}")
    if st.problem:
        problem = st.problem if st.server in st.problem else f"{st.server}: {st.problem}"
        print(f"citedesk: group status: {problem}", file=sys.stderr)
        return 1
    return 0


def _shown_value(value: object) -> str:
    if value is None:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _group_conflicts(lib: Library, args: argparse.Namespace) -> int:
    conflicts = lib.group_conflicts()
    if args.json:
        listed = [
            {
                "id": c.id,
                "key": c.key,
                "part": c.label,
                "base": c.base,
                "mine": c.mine,
                "theirs": c.theirs,
            }
            for c in conflicts
        ]
        print(json.dumps(listed, ensure_ascii=False, indent=1))
        return 0
    for c in conflicts:
        print(f"{c.id}\t{c.paper}\t{c.label}")
        print(f"  base:   {_shown_value(c.base)}")
        print(f"  mine:   {_shown_value(c.mine)}")
        print(f"  theirs: {_shown_value(c.theirs)}")
    if conflicts:
        print(
            "(citedesk group resolve ID mine|theirs settles one, --all mine|theirs every one)",
            file=sys.stderr,
        )
    return 0


def _group_resolve(lib: Library, args: argparse.Namespace) -> int:
    if args.all is not None:
        if args.id is not None or args.keep is not None:
            raise UsageError("give ID mine|theirs, or --all mine|theirs, not both")
    elif args.id is None or args.keep is None:
        raise UsageError("say which conflict and whose value: ID mine|theirs, or --all mine|theirs")
    conflicts: dict[int, GroupConflict] = {c.id: c for c in lib.group_conflicts()}
    if args.all is None and args.id not in conflicts:
        raise LibraryError(
            f"no conflict {args.id} waits for a choice ('citedesk group conflicts' lists them)"
        )
    chosen = list(conflicts.values()) if args.all is not None else [conflicts[args.id]]
    keep = args.all or args.keep
    lib.resolve_conflicts([c.id for c in chosen], keep)  # every one or none
    for c in chosen:
        print(f"kept {keep} for {c.label} of {c.paper}", file=sys.stderr)
    if chosen:
        print("'citedesk group sync' sends the choices to the group", file=sys.stderr)
    else:
        print("no conflict waits for a choice", file=sys.stderr)
    return 0


def _group_join(path: Path, args: argparse.Namespace) -> int:
    """``group join``: the library is opened without the seeded papers, and a join that
    fails takes away the file it made (a half-filled member's library is no use)."""
    made = not path.exists()
    try:
        lib = Library.open(path, seed=False)
    except LibraryError as exc:
        print(f"citedesk: {exc}", file=sys.stderr)
        return 1
    joined = False
    try:
        report = lib.group_join(args.url)
        joined = True
    except LibraryError as exc:
        print(f"citedesk: {_group_problem(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ncitedesk: group join: interrupted", file=sys.stderr)
        return 130
    finally:
        lib.close()
        if made and not joined:
            for extra in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{extra}").unlink(missing_ok=True)
    _warn_typed_password(args.url)
    print(
        f"joined the group on {shown_server(args.url)}: {_count(report.pulled, 'paper')} "
        f"in {path}, version {report.version}"
    )
    return 0


# -- backups --------------------------------------------------------------------------------------


def _cmd_backup(path: Path, args: argparse.Namespace) -> int:
    if args.with_files:
        made = backup_with_files(path, args.dest)
        dest = made.database
    else:
        dest = backup_library(path, args.dest)
    _, papers = check_library(dest, quick_check=False)
    print(f"backed up {path} ({papers} papers) to {dest}", file=sys.stderr)
    if args.with_files:
        print(
            f"with {_count(made.files, 'stored file')} ({_size(made.size)}) in {made.archive}",
            file=sys.stderr,
        )
        for name in made.missing:
            print(
                f"citedesk: warning: {name} is missing from the library's files; not in the backup",
                file=sys.stderr,
            )
    print(dest)
    return 0


def _cmd_restore(path: Path, args: argparse.Namespace) -> int:
    """Restore works on the file, so it also rescues a library that no longer opens."""
    _, papers = check_library(args.backup)
    n_files = check_files_archive(args.backup)  # a bad archive stops before anything changes
    with_files = "" if n_files is None else f" and its {_count(n_files, 'stored file')}"
    if path.exists():
        try:
            _, now_papers = check_library(path, quick_check=False)
            current = f"{path} ({now_papers} papers)"
        except LibraryError:
            current = f"{path} (damaged)"
        if not args.yes:
            if not sys.stdin.isatty():
                print(
                    f"citedesk: restore would replace {current}; confirm on a terminal or "
                    "add --yes",
                    file=sys.stderr,
                )
                return 1
            answer = input(
                f"Replace {current} with {args.backup} ({papers} papers){with_files}? The "
                f"current file is kept as {path.name}.replaced-<time>. [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("citedesk: nothing restored", file=sys.stderr)
                return 1
    kept = restore_library(args.backup, path)
    print(f"restored {args.backup} ({papers} papers) into {path}", file=sys.stderr)
    if kept is not None:
        print(f"the replaced library is kept as {kept}", file=sys.stderr)
    files = restore_files(args.backup, path)
    if files is None:
        return 0
    print(
        f"restored {_count(len(files.restored), 'stored file')} from {files.archive} into "
        f"{files.files_dir} ({len(files.kept)} were there already)",
        file=sys.stderr,
    )
    for name, aside in files.set_aside.items():
        print(
            f"citedesk: {name} in {files.files_dir} was a different file; kept as {aside}",
            file=sys.stderr,
        )
    for name, reason in files.missing:
        print(f"citedesk: {name}: {reason}", file=sys.stderr)
    return 1 if files.missing else 0


#: Subcommands that work on the library file itself, without opening it as a library.
FILE_COMMANDS = {"backup": _cmd_backup, "restore": _cmd_restore}

COMMANDS = {
    "list": _cmd_list,
    "import": _cmd_import,
    "export": _cmd_export,
    "cite": _cmd_cite,
    "tag": _cmd_tag,
    "untag": _cmd_tag,
    "status": _cmd_status,
    "note": _cmd_note,
    "keys": _cmd_keys,
    "profile": _cmd_profile,
    "autoexport": _cmd_autoexport,
    "saved": _cmd_saved,
    "duplicates": _cmd_duplicates,
    "merge": _cmd_merge,
    "attach": _cmd_attach,
    "detach": _cmd_detach,
    "files": _cmd_files,
    "open": _cmd_open,
    "relink": _cmd_relink,
    "fulltext": _cmd_fulltext,
    "add": _cmd_add,
    "refresh": _cmd_refresh,
    "group": _cmd_group,
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
            select=args.select,
            size=args.size,
        )
    if args.command in FILE_COMMANDS:
        try:
            return FILE_COMMANDS[args.command](_library_path(args), args)
        except LibraryError as exc:
            print(f"citedesk: {exc}", file=sys.stderr)
            return 1
        except (EOFError, KeyboardInterrupt):
            print("\ncitedesk: nothing restored", file=sys.stderr)
            return 1
    if args.command == "group" and args.group_command == "join":
        return _group_join(_library_path(args), args)
    try:
        lib = _open(args)
    except LibraryError as exc:
        print(f"citedesk: {exc}", file=sys.stderr)
        return 1
    # A script's change keeps every auto-exported .bib current before the command returns.
    lib.autoexport_after_write = True
    try:
        code = COMMANDS[args.command](lib, args)
        for path, status in lib.last_autoexport:
            if status.startswith("error"):
                print(f"citedesk: auto-export {path}: {status}", file=sys.stderr)
                code = code or 1
        return code
    except UsageError as exc:
        print(f"citedesk: {exc}", file=sys.stderr)
        return 2
    except LibraryError as exc:
        print(f"citedesk: {exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        # Damage that the checks on open could not see (a large file is not fully checked).
        newest = newest_backup(lib.path)
        advice = (
            f"; the newest backup is {newest}: citedesk --library {lib.path} restore {newest}"
            if newest
            else ""
        )
        print(f"citedesk: the library {lib.path} is damaged ({exc}){advice}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    finally:
        lib.close()


if __name__ == "__main__":
    sys.exit(main())
