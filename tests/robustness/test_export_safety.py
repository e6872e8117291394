"""Security: user text can never break out of its field, and SQL never carries user text.

Whatever a person types into a field (set through Library.update_fields, as the editor
does), the exported entry parses back to exactly one entry with the same key and the same
values, for bibtexparser, for Citedesk's own reader and by BibTeX's brace counting.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import bibtexparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citedesk.db import Library, Query
from citedesk.db.bibtex import parse_text
from citedesk.db.bibvalue import brace, is_well_formed

FIELDS = [
    "title",
    "author",
    "abstract",
    "note",
    "url",
    "doi",
    "journal",
    "year",
    "keywords",
    "pages",
    "howpublished",
    "x-custom",
]
NASTY = [
    "{",
    "}",
    "\\",
    "\\{",
    "\\}",
    "\\\\",
    '"',
    "@",
    "\n@misc{evil,",
    "\n  @article(",
    "%",
    "#",
    "&",
    "$",
    ",",
    "=",
    "}}",
    "{{",
    "\n",
    "\r",
    "\t",
    "\\textbf{",
    "~",
    "'",
    "\n}\n@misc{x, title={y}}\n",
    "@comment{",
    " ",
    "é",
    "🙂",
    "\x00",
]
hostile = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)), max_size=25).map("".join)
SAFE = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def bibtex_balanced(raw: str) -> bool:
    """BibTeX's own rule: every brace counts, backslash or not; the value closes at the end."""
    assert raw.startswith("{") and raw.endswith("}")
    depth = 0
    for i, c in enumerate(raw):
        depth += (c == "{") - (c == "}")
        if depth == 0 and i != len(raw) - 1:
            return False
    return depth == 0


@SAFE
@given(st.dictionaries(st.sampled_from(FIELDS), hostile, min_size=1, max_size=4))
def test_typed_text_never_breaks_out_of_its_field(seeded: Library, values: dict[str, str]) -> None:
    pid = seeded.require_key("wang2023qyolo")
    original = seeded.paper(pid).fields
    try:
        check_typed_values(seeded, pid, values)
    finally:
        seeded.set_fields_raw(pid, original)  # each example starts from the same entry


def check_typed_values(seeded: Library, pid: int, values: dict[str, str]) -> None:
    seeded.update_fields(pid, values)
    paper = seeded.paper(pid)
    stored = {k.lower(): v for k, v in paper.fields}
    text = seeded.entry_text(pid)
    parsed = bibtexparser.parse_string(text, parse_stack=[])
    assert not parsed.failed_blocks, [b.error for b in parsed.failed_blocks]
    [entry] = parsed.entries
    assert entry.key == "wang2023qyolo"
    assert {f.key.lower(): f.value for f in entry.fields} == stored
    ours = parse_text(text)
    assert not ours.failures and [e.key for e in ours.entries] == ["wang2023qyolo"]
    assert {k.lower(): v for k, v in ours.entries[0].fields} == stored
    for dialect in ("bibtex", "biblatex"):  # export profiles rewrite values: still one entry
        adapted, n = seeded.export_text(Query(ids=(pid,)), seeded.profile(None, dialect))
        again = bibtexparser.parse_string(adapted, parse_stack=[])
        assert n == 1 and not again.failed_blocks, (dialect, adapted)
        assert [e.key for e in again.entries] == ["wang2023qyolo"]
    for name in values:
        raw = stored.get(name.lower())
        if raw is not None:
            assert bibtex_balanced(raw) and is_well_formed(raw), raw
            assert not re.search(r"\n\s*@", raw)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_brace_makes_any_text_one_closed_value(text: str) -> None:
    raw = brace(text)
    assert bibtex_balanced(raw) and is_well_formed(raw)
    parsed = bibtexparser.parse_string(f"@misc{{k,\n  f = {raw},\n}}\n", parse_stack=[])
    assert not parsed.failed_blocks
    assert [f.value for f in parsed.entries[0].fields] == [raw]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(hostile, hostile)
def test_hostile_text_in_tags_notes_and_keys_is_data_not_sql(
    seeded: Library, tag: str, note: str
) -> None:
    pid = seeded.require_key("wang2023qyolo")
    name = " ".join(tag.replace("\x00", "").split())  # NUL would fool NOCASE: dropped
    if name:
        seeded.add_tags([pid], [tag])
        assert name.lower() in [t.lower() for t in seeded.paper_tags(pid)]
    seeded.add_note(pid, note)
    assert seeded.notes(pid)[-1].body == note
    assert seeded.id_for_key(tag) is None or tag.strip().lower() == "wang2023qyolo"
    assert seeded.count() == 25
    assert seeded.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# Interpolated into SQL text: fragments the code builds from fixed tables and columns, never
# from what a person typed (which always goes in as a ? parameter). A new name here needs a
# review that it is of the same kind.
SQL_FRAGMENTS = {
    "where",  # Library._where: fixed fragments, values as parameters (search.py likewise)
    "sets",
    "names",
    "marks",
    "table",
    "select",
    "sel",  # column lists of our own tables
    "nulls",
    "column",
    "direction",
    "order",  # SORT_COLUMNS lookups
    "BUSY_TIMEOUT_MS",
    "IMPORT_CACHE_KIB",
    "PAGE_SIZE",
    "int(cache)",
    "number",  # integers
    "cond",
    "sql",
    "statement",
    "selection",  # Library._unindex, _fill_index: "= ?", "BETWEEN ? AND ?", "IN (...json_each(?))"
    "notes_text",  # Library._fill_index: _NOTES_OF_PAPER or "''"
    # db/importer.py: INSERT statements over our own columns, with {offset} (an int) and the
    # import's timestamp (made by the importer) filled in.
    "self.insert_sql",
    "self.persons_sql",
    # Library._export_parts: "" or a fixed WHERE/AND over json_each(?) and fixed block kinds.
    "selected",
    "kinds",
    # db/personal.py: ", modified = ?" or ""; "status" or "rating" and their fixed extras.
    "stamp",
    "also",
    # db/store.py (undo): our own table and column names from PRIMARY_KEYS and the
    # columns SQLite reported for a row image; values always go in as ? parameters.
    "_IN_JSON",
    "not_kept",
    "update",
    "cols",
    "image.column",
    "pk[0]",
    "parts",
    "keys",
    # db/attachments.py: the fixed column list of the attachments table.
    "_COLUMNS",
    # db/group.py: the server's schema name, its fixed DDL, the NOTIFY channel and the files
    # table's name (constants of the module); "lower(fields) LIKE ?" once per macro name.
    "SCHEMA",
    "SERVER_SCHEMA",
    "CHANNEL",
    "FILES_TABLE",
    "like",
}
SQL_METHODS = {"execute", "executemany", "executescript", "query"}


def test_sql_text_in_db_is_built_only_from_fixed_fragments() -> None:
    db = Path(__file__).resolve().parents[2] / "db"
    found = set()
    for path in db.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_METHODS
                and node.args
            ):
                continue
            sql = node.args[0]
            if isinstance(sql, ast.JoinedStr):
                for part in sql.values:
                    if isinstance(part, ast.FormattedValue):
                        found.add((path.name, node.lineno, ast.unparse(part.value)))
            elif not isinstance(sql, ast.Constant):
                found.add((path.name, node.lineno, ast.unparse(sql)))
    formatted = re.compile(r"\.format\(offset=[\w.]+(, places=[\w.]+)?\)$")
    unexpected = sorted(f for f in found if formatted.sub("", f[2]) not in SQL_FRAGMENTS)
    assert unexpected == [], (
        "SQL text built from a new expression: check it holds only fixed SQL (user text goes "
        "in as ? parameters), then add its name to SQL_FRAGMENTS"
    )


def test_no_code_can_start_a_program_or_a_shell() -> None:
    """Links open through QDesktopServices only: nothing in db/ or desktop/ runs commands."""
    root = Path(__file__).resolve().parents[2]
    banned_modules = {"subprocess", "webbrowser", "pty"}
    banned_calls = {
        "os.system",
        "os.popen",
        "os.startfile",
        "os.execv",
        "os.execvp",
        "os.spawnl",
        "QProcess",
    }
    found = []
    for path in [*(root / "db").glob("*.py"), *(root / "desktop").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [
                    (path.name, a.name)
                    for a in node.names
                    if a.name.split(".")[0] in banned_modules
                ]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found += [
                    (path.name, node.module)
                    for _ in [0]
                    if node.module.split(".")[0] in banned_modules
                ]
                found += [(path.name, a.name) for a in node.names if a.name in banned_calls]
            elif isinstance(node, ast.Attribute | ast.Name):
                name = ast.unparse(node)
                if name in banned_calls:
                    found.append((path.name, name))
    assert found == []


def test_links_from_bibtex_open_only_as_web_pages(monkeypatch) -> None:
    from PySide6.QtGui import QDesktopServices

    from citedesk.detail import open_link

    opened: list[str] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", lambda url: opened.append(url.toString()) or True
    )
    for url in [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "smb://host/share",
        "x-scheme-handler://run",
        "; rm -rf ~",
        "/usr/bin/xterm",
        "",
    ]:
        assert open_link(url) is False
    assert open_link("https://doi.org/10.1000/xyz") is True
    assert opened == ["https://doi.org/10.1000/xyz"]
