"""Lookups by DOI, arXiv id and ISBN against a loopback server replaying real answers
(../shared/recorded): the records they give, the fallbacks, and every way a server can
misbehave, each a clear line naming the source with nothing half-added."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from citedesk.db import Library
from citedesk.db.http import Cancelled
from citedesk.db.identifiers import Identifier, find_identifiers
from citedesk.db.lookup import Lookup
from citedesk.db.sources import Endpoints

FRANK = "10.1126/science.169.3946.635"  # doi.org content negotiation is recorded for it
PLOS = "10.1371/journal.pone.0033693"  # Crossref /works is recorded for it


def doi(value: str) -> Identifier:
    return Identifier("doi", value)


def arxiv(value: str) -> Identifier:
    return Identifier("arxiv", value)


@pytest.fixture
def lib(tmp_path: Path):
    library = Library.open(tmp_path / "lib.sqlite", seed=False)
    yield library
    library.close()


def run(library: Library, ids: list[Identifier], **kw):
    with library.lookup(timeout=kw.pop("timeout", None)) as lk:
        out = lk.run(ids, **kw)
        library.save_lookup_cache(lk.fresh_answers)
    return out


# -- records ------------------------------------------------------------------------------------


def test_doi_comes_from_doi_org_as_csl_json(lookup_env, lib: Library) -> None:
    (o,) = run(lib, [doi(FRANK)])
    assert o.ok and o.found.source == "doi.org"
    assert o.found.get("title") == "The Structure of Ordinary Water"
    assert o.found.get("journal") == "Science"
    assert o.found.get("pages") == "635--641"
    assert o.found.get("doi") == FRANK
    accept = [r.headers.get("Accept") for r in lookup_env.requests if r.path.startswith("/doi/")]
    assert accept == ["application/vnd.citationstyles.csl+json"]


def test_every_request_names_citedesk_and_a_contact(lookup_env, lib: Library, monkeypatch) -> None:
    monkeypatch.setenv("CITEDESK_CONTACT", "reader@example.org")
    run(lib, [doi(FRANK)])
    agents = {r.headers.get("User-Agent") for r in lookup_env.requests}
    assert agents and all("Citedesk" in a and "mailto:reader@example.org" in a for a in agents)


def test_a_broken_csl_answer_falls_back_to_doi_org_bibtex(lookup_env, lib: Library) -> None:
    lookup_env.misbehave("malformed_json", path_prefix="/crossref/v1/works", times=1)
    (o,) = run(lib, [doi(FRANK)])
    assert o.ok and o.found.source == "doi.org"
    # doi.org's BibTeX for it has the subtitle too (its CSL-JSON does not)
    assert o.found.get("title").startswith("The Structure of Ordinary Water: New data")
    assert o.found.get("author") == "Frank, Henry S."
    accepts = [r.headers.get("Accept") for r in lookup_env.requests if r.path.startswith("/doi/")]
    assert accepts == ["application/vnd.citationstyles.csl+json", "application/x-bibtex"]


def test_a_doi_doi_org_cannot_convert_comes_from_crossref(lookup_env, lib: Library) -> None:
    (o,) = run(lib, [doi(PLOS)])
    assert o.ok and o.found.source == "Crossref"
    assert o.found.entry.entry_type == "article"
    assert o.found.get("journal") == "PLoS ONE"
    assert o.found.get("author").startswith("Sadasivan, Shankar")


def test_an_unregistered_doi_is_one_line_naming_doi_org(lookup_env, lib: Library) -> None:
    (o,) = run(lib, [doi("10.1126/foo")])
    assert not o.ok
    assert o.error.startswith("doi.org: ") and "not registered" in o.error
    assert "\n" not in o.error


def test_arxiv_new_old_and_versioned_ids_in_one_request(lookup_env, lib: Library) -> None:
    ids = [arxiv("1605.08386"), arxiv("2104.12255v1"), arxiv("astro-ph/0601001")]
    out = run(lib, ids)
    assert [o.ok for o in out] == [True, True, True], [o.error for o in out]
    assert out[0].found.get("eprint") == "1605.08386"  # no version asked, none kept
    assert out[1].found.get("eprint") == "2104.12255v1"  # the version asked for
    assert out[2].found.get("eprint") == "astro-ph/0601001"
    assert out[0].found.get("eprinttype") == "arxiv"
    assert out[0].found.get("url") == "https://arxiv.org/abs/1605.08386"
    arxiv_requests = [r for r in lookup_env.requests if r.path.startswith("/arxiv")]
    assert len(arxiv_requests) == 1  # batched, as arXiv asks


def test_an_unknown_arxiv_id_says_so(lookup_env, lib: Library) -> None:
    (o,) = run(lib, [arxiv("0808.05394")])
    assert not o.ok and o.error == "arXiv: no paper has the id 0808.05394"


def test_a_published_preprint_offers_its_published_version(lookup_env, lib: Library) -> None:
    lookup_env.add_arxiv_entry(
        "2001.00001", "The Structure of Ordinary Water", ["Henry S. Frank"], "2020-01-01",
        "Water.", doi=FRANK, journal_ref="Science 169, 635 (1970)", primary_category="physics",
    )  # fmt: skip
    (o,) = run(lib, [arxiv("2001.00001")])
    pub = o.found.published
    assert pub is not None and pub.entry.entry_type == "article"
    assert pub.get("journal") == "Science" and pub.get("doi") == FRANK
    assert pub.get("eprint") == "2001.00001" and pub.get("eprinttype") == "arxiv"
    assert o.found.entry.entry_type == "misc"  # the preprint stays on offer


def test_isbn_comes_from_open_library(lookup_env, lib: Library) -> None:
    (o,) = run(lib, [Identifier("isbn", "9780262033848")])
    assert o.ok and o.found.source == "Open Library"
    assert o.found.entry.entry_type == "book"
    assert o.found.get("publisher") == "MIT Press" and o.found.get("year") == "2009"


def test_an_unknown_isbn_says_so(lookup_env, lib: Library) -> None:
    (o,) = run(lib, [Identifier("isbn", "9780306406157")])
    assert o.error == "Open Library: no book has the ISBN 9780306406157"


def test_a_text_of_many_identifiers_gives_one_outcome_each_in_order(
    lookup_env, lib: Library
) -> None:
    text = (
        f"See doi:{FRANK} and https://doi.org/{PLOS}.\n"
        "Also arXiv:1605.08386, ISBN 978-0-262-03384-8 and again doi:" + FRANK
    )
    out = run(lib, find_identifiers(text))
    assert [o.asked.kind for o in out] == ["doi", "doi", "arxiv", "isbn"]
    assert all(o.ok for o in out)


# -- the cache --------------------------------------------------------------------------------


def test_a_second_lookup_is_answered_by_the_library_cache(lookup_env, lib: Library) -> None:
    run(lib, [doi(FRANK), arxiv("1605.08386")])
    lookup_env.clear()
    out = run(lib, [doi(FRANK), arxiv("1605.08386")])
    assert all(o.ok for o in out)
    assert lookup_env.requests == []


def test_a_refresh_skips_the_cache(lookup_env, lib: Library) -> None:
    run(lib, [doi(FRANK)])
    lookup_env.clear()
    run(lib, [doi(FRANK)], fresh=True)
    assert len(lookup_env.requests) >= 1


# -- misbehaving servers ----------------------------------------------------------------------


def test_429_with_retry_after_is_waited_out_then_answered(lookup_env, lib: Library) -> None:
    lookup_env.misbehave("429", path_prefix="/arxiv", times=1, retry_after="1")
    started = time.monotonic()
    (o,) = run(lib, [arxiv("1605.08386")])
    assert o.ok
    arrivals = [r.time for r in lookup_env.requests if r.path.startswith("/arxiv")]
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] >= 0.95
    assert time.monotonic() - started < 5


def test_a_long_retry_after_is_reported_not_waited(lookup_env, lib: Library) -> None:
    lookup_env.misbehave("429", path_prefix="/arxiv", retry_after="3600")
    started = time.monotonic()
    (o,) = run(lib, [arxiv("1605.08386")])
    assert o.error == (
        "arXiv: too many requests: the server asks to wait 3600 s (429); try again later"
    )
    assert time.monotonic() - started < 2


def test_500_everywhere_for_a_doi_is_one_line_naming_each_try(lookup_env, lib: Library) -> None:
    lookup_env.misbehave("500")
    (o,) = run(lib, [doi(FRANK)])
    assert o.error.startswith("doi.org: ") and "(500)" in o.error and "Crossref" in o.error
    assert "\n" not in o.error


def test_a_stalled_server_times_out_with_the_limit_named(lookup_env, lib: Library) -> None:
    lookup_env.misbehave("stall", path_prefix="/openlibrary", seconds=10)
    started = time.monotonic()
    (o,) = run(lib, [Identifier("isbn", "9780262033848")], timeout=0.5)
    assert o.error == "Open Library: no answer within 0.5 s (the server stalled)"
    assert time.monotonic() - started < 3


def test_a_redirect_loop_is_named(lookup_env, lib: Library) -> None:
    lookup_env.misbehave("redirect_loop", path_prefix="/openlibrary")
    (o,) = run(lib, [Identifier("isbn", "9780262033848")])
    assert o.error == "Open Library: too many redirects (the server sends us round in a loop)"


def test_a_truncated_answer_is_named(lookup_env, lib: Library) -> None:
    lookup_env.misbehave("truncated", path_prefix="/arxiv")
    (o,) = run(lib, [arxiv("1605.08386")])
    assert o.error.startswith("arXiv: the answer broke off before its end")


def test_malformed_xml_is_named(lookup_env, lib: Library) -> None:
    lookup_env.misbehave("malformed_xml", path_prefix="/arxiv")
    (o,) = run(lib, [arxiv("1605.08386")])
    assert o.error.startswith("arXiv: the answer is not valid XML")


def test_malformed_json_is_named(lookup_env, lib: Library) -> None:
    lookup_env.misbehave("malformed_json", path_prefix="/openlibrary")
    (o,) = run(lib, [Identifier("isbn", "9780262033848")])
    assert o.error.startswith("Open Library: the answer is not valid JSON")


@pytest.mark.parametrize("mode", ["huge", "huge_chunked"])
def test_a_50_mb_answer_is_not_read(lookup_env, lib: Library, mode: str) -> None:
    lookup_env.misbehave(mode, path_prefix="/arxiv")
    started = time.monotonic()
    (o,) = run(lib, [arxiv("1605.08386")])
    assert o.error.startswith("arXiv: the answer is ") and "far more than metadata" in o.error
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("mode", ["not_utf8", "latin1"])
def test_a_latin_1_answer_is_read_right(lookup_env, lib: Library, mode: str) -> None:
    lookup_env.add_arxiv_entry("2001.00002", "Über Wärme", ["José Müller"], "2020-01-02", "Ö.")
    lookup_env.misbehave(mode, path_prefix="/arxiv")
    (o,) = run(lib, [arxiv("2001.00002")])
    assert o.ok, o.error
    assert o.found.get("title") == "Über Wärme"


def test_nothing_listens_is_offline_in_one_line(lib: Library, monkeypatch) -> None:
    monkeypatch.setenv("CITEDESK_ARXIV_URL", "http://127.0.0.1:9/api/query")
    monkeypatch.setenv("CITEDESK_ARXIV_INTERVAL", "0")
    (o,) = run(lib, [arxiv("1605.08386")])
    assert o.error.startswith("arXiv: cannot connect to 127.0.0.1:9 (offline?)")


def test_failures_add_nothing_and_the_rest_add_in_one_import(lookup_env, lib: Library) -> None:
    lookup_env.misbehave("500", path_prefix="/arxiv")
    out = run(lib, [doi(FRANK), arxiv("1605.08386")])
    found = [o.found for o in out if o.found]
    assert len(found) == 1
    lib.preview_found(found)
    report = lib.add_found(found)
    assert lib.count() == 1 and report.added == [found[0].entry.key]


# -- politeness and cancelling ------------------------------------------------------------------


def test_arxiv_requests_are_spaced_by_the_interval(lookup_env, tmp_path: Path) -> None:
    endpoints = Endpoints.from_env({**lookup_env.env(), "CITEDESK_ARXIV_INTERVAL": "0.4"})
    with Lookup(endpoints) as lk:
        lk.search("Heat-bath random walks", "Stanley")
        lk.run([arxiv("1605.08386")])
    times = [r.time for r in lookup_env.requests if r.path.startswith("/arxiv")]
    assert len(times) == 2 and times[1] - times[0] >= 0.39


def test_the_default_arxiv_interval_is_three_seconds() -> None:
    assert Endpoints.from_env({}).arxiv_interval == 3.0
    assert Endpoints.from_env({}).arxiv == "https://export.arxiv.org/api/query"


def test_cancel_stops_a_lookup_waiting_for_a_slow_server(lookup_env) -> None:
    lookup_env.delay = 1.0
    ids = [doi(f"10.1000/{i}") for i in range(20)]
    lk = Lookup(Endpoints.from_env(lookup_env.env()))
    import threading

    threading.Timer(0.3, lk.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        lk.run(ids)
    assert time.monotonic() - started < 2.5  # the requests under way end; no new ones
    lk.close()


# -- previews, duplicates, adding, refreshing ----------------------------------------------------


def test_preview_shows_the_key_and_entry_that_will_be_stored(lookup_env, lib: Library) -> None:
    (o,) = run(lib, [doi(FRANK)])
    (p,) = lib.preview_found([o.found])
    assert p.key == "frank1970structureordinarywater" and p.same == []
    assert p.text.startswith("@article{frank1970structureordinarywater,")
    lib.add_found([p.found])
    paper = lib.paper_by_key(p.key)
    assert lib.entry_text(paper.id).strip() == p.text.strip()


def test_preview_finds_the_same_paper_by_doi_arxiv_id_and_title(lookup_env, lib: Library) -> None:
    lib.import_text(
        "@article{a, title={The structure of ordinary water}, year=1970}\n"
        "@misc{b, title={Other}, eprint={1605.08386v2}, eprinttype={arxiv}}\n"
        f"@article{{c, title={{Third}}, doi={{{FRANK.upper()}}}}}\n"
    )
    out = run(lib, [doi(FRANK), arxiv("1605.08386")])
    frank, heat = lib.preview_found([o.found for o in out])
    assert {(s.key, s.why) for s in frank.same} == {("c", "same DOI"), ("a", "same title and year")}
    assert [(s.key, s.why) for s in heat.same] == [("b", "same arXiv id")]


def test_adding_is_one_undo_step(lookup_env, lib: Library) -> None:
    out = run(lib, [doi(FRANK), arxiv("1605.08386")])
    previews = lib.preview_found([o.found for o in out])
    report = lib.add_found([p.found for p in previews])
    assert lib.count() == 2
    lib.undo(report.changes.undo)
    assert lib.count() == 0


def test_refresh_of_a_seeded_paper_finds_it_by_title_and_author(lookup_env, tmp_path: Path) -> None:
    library = Library.open(tmp_path / "seeded.sqlite")
    pid = library.paper_ids()[0]
    paper = library.paper(pid)
    assert paper.arxiv is None and paper.doi is None
    want = library.search_for(pid)
    assert want.identifiers == [] and want.title and want.author
    lookup_env.add_arxiv_entry(
        "2603.01234", want.title, [f"Someone {want.author}", "Other Person"],
        f"{want.year}-03-11", "An abstract.", primary_category="cs.LG",
    )  # fmt: skip
    with library.lookup() as lk:
        cands = lk.search(want.title, want.author, want.year)
    best = cands.best
    assert best is not None and best.score >= 0.95 and best.source == "arXiv"
    diffs = library.refresh_diff(pid, best)
    names = {d.name for d in diffs}
    assert {"eprint", "url"} <= names and "title" not in names
    accepted = [d for d in diffs if d.name in ("eprint", "url")]
    changes = library.apply_refresh(pid, accepted)
    after = library.paper(pid)
    assert after.key == paper.key and after.arxiv == "2603.01234"
    assert ("PDF", "https://arxiv.org/pdf/2603.01234") in after.links
    assert after.text("abstract") == paper.text("abstract")  # not accepted, not written
    library.undo(changes.undo)
    assert library.paper(pid).arxiv is None
    library.close()


def test_refresh_never_proposes_the_persons_own_fields(lookup_env, lib: Library) -> None:
    lib.import_text(
        "@article{mine, title={The Structure of Ordinary Water}, note={my note}, "
        "keywords={water}, year={1970}}\n"
    )
    (o,) = run(lib, [doi(FRANK)])
    diffs = lib.refresh_diff(lib.require_key("mine"), o.found)
    names = [d.name for d in diffs]
    assert "note" not in names and "keywords" not in names and "title" not in names
    assert "doi" in names and "journal" in names


# -- answers no rule foresaw, hanging up, what comes back clean ------------------------------


def test_an_answer_of_unforeseen_shape_fails_its_id_alone(lookup_env, lib: Library) -> None:
    lookup_env.add_crossref_work(
        {"DOI": "10.5555/odd", "title": ["Odd"], "type": "journal-article",
         "issued": {"date-parts": [2012]}, "author": "not a list"}
    )  # fmt: skip
    lookup_env.add_openlibrary_book("9780306406157", {"title": "A Book", "authors": 5})
    out = run(lib, [doi("10.5555/odd"), Identifier("isbn", "9780306406157"), doi(FRANK)])
    assert out[2].ok  # the others go on
    for o in out[:2]:
        assert o.ok or o.error.split(":")[0] in ("doi.org", "Crossref", "Open Library")
    assert out[0].ok and out[0].found.title == "Odd"
    assert out[1].ok and out[1].found.get("author") == ""


def test_cancel_hangs_up_on_a_stalled_server_at_once(lookup_env) -> None:
    import threading

    lookup_env.misbehave("stall", path_prefix="/openlibrary", seconds=30)
    lk = Lookup(Endpoints.from_env(lookup_env.env()), timeout=20)
    threading.Timer(0.3, lk.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        lk.run([Identifier("isbn", "9780262033848")])
    assert time.monotonic() - started < 1.5
    lk.close()


def test_a_gzip_bomb_is_cut_off_before_it_is_inflated(lib: Library, monkeypatch) -> None:
    import gzip
    import threading
    import tracemalloc
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bomb = gzip.compress(b"\0" * (60 * 1024 * 1024), compresslevel=9)

    class Bomb(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(bomb)))
            self.end_headers()
            try:
                self.wfile.write(bomb)
            except OSError:
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bomb)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("CITEDESK_OPENLIBRARY_URL", f"http://127.0.0.1:{server.server_port}")
    tracemalloc.start()
    try:
        (o,) = run(lib, [Identifier("isbn", "9780262033848")])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        server.shutdown()
        server.server_close()
    assert o.error.startswith("Open Library: the answer is over 5 MB")
    assert peak < 20 * 1024 * 1024


def test_an_arxiv_id_with_and_without_version_is_one_lookup(lookup_env, lib: Library) -> None:
    out = run(lib, [arxiv("1605.08386"), arxiv("1605.08386v1")])
    assert len(out) == 1 and out[0].asked == arxiv("1605.08386")


def test_arxiv_titles_keep_their_latex_and_escape_what_breaks_it(lookup_env, lib: Library) -> None:
    lookup_env.add_arxiv_entry(
        "2001.00003", r"$\alpha$-stable laws & 100% of label_noise", ["A B"], "2020-01-03",
        r"In \emph{Phase I} the $x_1$ grow.",
    )  # fmt: skip
    (o,) = run(lib, [arxiv("2001.00003")])
    (p,) = lib.preview_found([o.found])
    assert r"title        = {$\alpha$-stable laws \& 100\% of label\_noise}," in p.text
    assert r"abstract     = {In \emph{Phase I} the $x_1$ grow.}," in p.text


def test_crossref_jats_abstracts_come_back_as_plain_text(lookup_env, lib: Library) -> None:
    (o,) = run(lib, [doi("10.1002/jor.1100150407")])
    abstract = o.found.get("abstract")
    assert abstract and not abstract.startswith("Abstract") and "&lt;" not in abstract
    assert "<jats" not in abstract


def test_a_paper_whose_doi_is_stored_as_a_link_is_looked_up_by_the_doi(lib: Library) -> None:
    lib.import_text(
        f"@article{{a, title={{T}}, doi={{https://doi.org/{FRANK}}}, eprint={{arXiv:1605.08386}}}}"
    )
    want = lib.search_for(lib.require_key("a"))
    assert want.identifiers == [doi(FRANK), arxiv("1605.08386")]
