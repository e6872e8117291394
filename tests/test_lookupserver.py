"""The loopback replay server (tests/lookupserver.py), checked with httpx alone."""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest

DOI = "10.1126/science.169.3946.635"
SHORT = httpx.Timeout(2.0)


@pytest.fixture
def client():
    with httpx.Client(timeout=SHORT, follow_redirects=True) as c:
        yield c


def total(feed: str) -> int:
    return int(re.search(r"totalResults[^>]*>(\d+)<", feed).group(1))


def entry_ids(feed: str) -> list[str]:
    return re.findall(r"<id>http://arxiv.org/abs/([^<]+)</id>", feed)


# --------------------------------------------------------------------------- doi.org


@pytest.mark.parametrize(
    ("accept", "ctype", "start"),
    [
        ("application/x-bibtex", "application/x-bibtex", " @article{Frank_1970, title={The"),
        ("application/vnd.citationstyles.csl+json", "csl+json", '{"indexed":'),
        ("text/x-bibliography; style=apa", "text/x-bibliography", "Frank, H. S. (1970)."),
        ("text/x-bibliography; style=ieee", "text/x-bibliography", "[1]H. S. Frank, “The"),
    ],
)
def test_doi_redirect_chain_per_accept(lookup_server, client, accept, ctype, start):
    url = lookup_server.env()["CITEDESK_DOI_URL"]
    r = client.get(f"{url}/{DOI}", headers={"Accept": accept})
    assert r.status_code == 200
    assert [h.status_code for h in r.history] == [302]
    assert r.history[0].headers["location"].startswith(f"{lookup_server.url}/crossref/v1/works/")
    assert ctype in r.headers["content-type"]
    assert r.text.startswith(start)
    assert "635–641" in r.text or '"page":"635-641"' in r.text


def test_doi_csl_json_and_http_redirect(lookup_server, client):
    r = client.get(
        f"{lookup_server.url}/doi/{DOI}",
        headers={"Accept": "application/vnd.citationstyles.csl+json"},
    )
    assert r.json()["DOI"] == DOI
    r = client.get(
        f"{lookup_server.url}/http-doi/{DOI}", headers={"Accept": "application/x-bibtex"}
    )
    assert [h.status_code for h in r.history] == [301, 302]
    assert "@article{Frank_1970" in r.text


def test_doi_errors(lookup_server, client):
    url = lookup_server.env()["CITEDESK_DOI_URL"]
    accept = {"Accept": "application/x-bibtex"}
    r = client.get(f"{url}/10.1126/foo", headers=accept)
    assert r.status_code == 404 and "DOI Not Found" in r.text
    r = client.get(f"{url}/foo", headers=accept)
    assert r.status_code == 400 and "Not a DOI" in r.text
    r = client.get(f"{url}/10.9999/never.recorded", headers=accept)
    assert r.status_code == 404 and "10.9999/never.recorded" in r.text


def test_registered_doi_answer(lookup_server, client):
    lookup_server.add_doi_answer("10.5555/x", "application/x-bibtex", "@misc{x, title={X}}")
    r = client.get(f"{lookup_server.url}/doi/10.5555/x", headers={"Accept": "application/x-bibtex"})
    assert r.status_code == 200 and r.text == "@misc{x, title={X}}"


# --------------------------------------------------------------------------- Crossref


def test_crossref_works_agency_and_search(lookup_server, client):
    url = lookup_server.env()["CITEDESK_CROSSREF_URL"]
    r = client.get(f"{url}/works/10.1371/journal.pone.0033693")
    assert r.status_code == 200
    work = r.json()["message"]
    assert work["DOI"] == "10.1371/journal.pone.0033693"
    assert work["title"][0].startswith("Methylphenidate Exposure")
    r = client.get(f"{url}/works/10.1371/not.there")
    assert (r.status_code, r.text) == (404, "Resource not found.")
    r = client.get(f"{url}/works/{DOI}/agency")
    assert r.json()["message"]["agency"]["id"] == "crossref"
    assert client.get(f"{url}/works/5/agency").status_code == 404

    lookup_server.add_crossref_work(
        {"DOI": "10.5555/made.up", "title": ["Methylphenidate and mice, a made up work"]}
    )
    assert client.get(f"{url}/works/10.5555/made.up").json()["message"]["DOI"] == "10.5555/made.up"
    params = {"query.bibliographic": "methylphenidate dopamine neuron loss", "rows": "1"}
    r = client.get(f"{url}/works", params=params)
    body = r.json()
    assert body["status"] == "ok" and body["message-type"] == "work-list"
    assert body["message"]["total-results"] == 2
    (best,) = body["message"]["items"]
    assert best["DOI"] == "10.1371/journal.pone.0033693" and best["score"] > 0


# --------------------------------------------------------------------------- arXiv


@pytest.mark.parametrize(
    ("id_list", "expected"),
    [
        ("1605.08386", ["1605.08386v1"]),
        ("2104.12255v1", ["2104.12255v1"]),
        ("astro-ph/0601001", ["astro-ph/0601001v1"]),
        ("quant-ph/0201082v1", ["quant-ph/0201082v1"]),
        ("1707.08567,0808.05394", ["1707.08567v1"]),
        ("0808.05394,1707.08567", ["1707.08567v1"]),
        ("1111.2011v2", ["1111.2011v2"]),
        ("1111.2011", ["1111.2011v2"]),
        ("0000.0000", []),
        ("2301.99999", []),
    ],
)
def test_arxiv_id_lookups(lookup_server, client, id_list, expected):
    r = client.get(lookup_server.env()["CITEDESK_ARXIV_URL"], params={"id_list": id_list})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/atom+xml")
    assert entry_ids(r.text) == expected
    assert total(r.text) == len(expected)


def test_arxiv_malformed_id_and_wire_encoding(lookup_server, client):
    url = lookup_server.env()["CITEDESK_ARXIV_URL"]
    r = client.get(url, params={"id_list": "not-an-id"})
    assert r.status_code == 400 and "incorrect id format for not-an-id" in r.text
    r = client.get(url, params={"id_list": "1707.08567"})
    assert "Dirk Wübben" in r.text  # the recording's mojibake undone


@pytest.mark.parametrize(
    "query",
    [
        "au:del_maestro AND ti:checkerboard",
        'au:"del maestro" AND ti:checkerboard',
        "ti:checkerboard",
    ],
)
def test_arxiv_search(lookup_server, client, query):
    r = client.get(
        lookup_server.env()["CITEDESK_ARXIV_URL"],
        params={"search_query": query, "start": "0", "max_results": "5"},
    )
    assert entry_ids(r.text) == ["cond-mat/0603029v1"]


def test_arxiv_synthetic_entry(lookup_server, client):
    lookup_server.add_arxiv_entry(
        "2401.00001",
        "Attention Is Still All You Need",
        ["Ada Lovelace", "Alan Turing"],
        "2024-01-01",
        "A summary.",
        doi="10.5555/attn",
        journal_ref="J. Made Up 1 (2024)",
    )
    url = lookup_server.env()["CITEDESK_ARXIV_URL"]
    r = client.get(url, params={"id_list": "2401.00001"})
    assert entry_ids(r.text) == ["2401.00001v1"]
    assert "<arxiv:doi>10.5555/attn</arxiv:doi>" in r.text
    assert '<arxiv:primary_category term="cs.LG"/>' in r.text
    r = client.get(url, params={"search_query": "ti:attention AND au:turing"})
    assert entry_ids(r.text) == ["2401.00001v1"]
    r = client.get(url, params={"search_query": "ti:attention AND au:hopper"})
    assert entry_ids(r.text) == [] and total(r.text) == 0


# --------------------------------------------------------------------------- Open Library


def test_openlibrary(lookup_server, client):
    url = lookup_server.env()["CITEDESK_OPENLIBRARY_URL"] + "/api/books"
    params = {"bibkeys": "ISBN:9780262033848", "format": "json", "jscmd": "data"}
    book = client.get(url, params=params).json()["ISBN:9780262033848"]
    assert book["title"] == "Introduction to algorithms"
    assert [a["name"] for a in book["authors"]][0] == "Thomas H. Cormen"
    assert book["publish_date"] == "2009"
    params["bibkeys"] = "ISBN:9999999999999"
    assert client.get(url, params=params).json() == {}


# --------------------------------------------------------------------------- misbehaviour


def test_429_once_then_normal(lookup_server, client):
    lookup_server.misbehave("429", "/crossref", times=1, retry_after="3")
    url = f"{lookup_server.url}/crossref/works/10.1371/journal.pone.0033693"
    r = client.get(url)
    assert r.status_code == 429 and r.headers["retry-after"] == "3"
    assert client.get(url).status_code == 200
    assert client.get(f"{lookup_server.url}/openlibrary/api/books").status_code == 200


def test_500_until_behave(lookup_server, client):
    lookup_server.misbehave("500")
    url = f"{lookup_server.url}/arxiv/api/query?id_list=1605.08386"
    assert client.get(url).status_code == 500
    assert client.get(url).status_code == 500
    lookup_server.behave()
    assert client.get(url).status_code == 200


def test_stall_times_out_and_stop_is_fast(lookup_server):
    lookup_server.misbehave("stall")
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(lookup_server.url + "/doi/x", timeout=0.5)
    # Another stalled request left open while the server stops.
    errors = []

    def hang():
        try:
            httpx.get(lookup_server.url + "/doi/y", timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    t = threading.Thread(target=hang, daemon=True)
    t.start()
    deadline = time.monotonic() + 2
    while len(lookup_server.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    began = time.monotonic()
    lookup_server.stop()
    assert time.monotonic() - began < 1
    t.join(2)
    assert errors  # the client saw the connection end, not an answer


def test_stall_body(lookup_server):
    lookup_server.misbehave("stall_body", "/arxiv")
    with httpx.Client(timeout=0.5) as c:
        with c.stream("GET", lookup_server.url + "/arxiv/api/query?id_list=1605.08386") as r:
            assert r.status_code == 200 and int(r.headers["content-length"]) > 0
            with pytest.raises(httpx.ReadTimeout):
                r.read()


def test_redirect_loop(lookup_server, client):
    lookup_server.misbehave("redirect_loop", "/doi")
    with pytest.raises(httpx.TooManyRedirects):
        client.get(lookup_server.url + f"/doi/{DOI}")


def test_truncated(lookup_server, client):
    lookup_server.misbehave("truncated", "/crossref")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"{lookup_server.url}/crossref/works/10.1371/journal.pone.0033693")


def test_malformed(lookup_server, client):
    lookup_server.misbehave("malformed_xml", "/arxiv", times=1)
    lookup_server.misbehave("malformed_json", "/crossref", times=1)
    r = client.get(lookup_server.url + "/arxiv/api/query?id_list=1605.08386")
    assert r.status_code == 200 and "xml" in r.headers["content-type"]
    import xml.etree.ElementTree as ET

    with pytest.raises(ET.ParseError):
        ET.fromstring(r.content)
    r = client.get(f"{lookup_server.url}/crossref/works/10.1371/journal.pone.0033693")
    assert "json" in r.headers["content-type"]
    with pytest.raises(ValueError):
        r.json()


@pytest.mark.parametrize("mode", ["huge", "huge_chunked"])
def test_huge(lookup_server, mode):
    lookup_server.misbehave(mode, "/arxiv")
    began = time.monotonic()
    with httpx.Client(timeout=SHORT) as c:
        with c.stream("GET", lookup_server.url + "/arxiv/api/query?id_list=1605.08386") as r:
            if mode == "huge":
                assert int(r.headers["content-length"]) == 50 * 1024 * 1024
            else:
                assert "content-length" not in r.headers
                assert r.headers["transfer-encoding"] == "chunked"
            got = 0
            for chunk in r.iter_bytes():
                got += len(chunk)
                if got > 1_000_000:
                    break
    assert got > 1_000_000
    assert time.monotonic() - began < 3


def test_wrong_and_right_charsets(lookup_server, client):
    url = lookup_server.url + "/arxiv/api/query?id_list=1707.08567"
    lookup_server.misbehave("not_utf8", times=1)
    r = client.get(url)
    assert "charset=utf-8" in r.headers["content-type"]
    with pytest.raises(UnicodeDecodeError):
        r.content.decode("utf-8")
    lookup_server.misbehave("latin1", times=1)
    r = client.get(url)
    assert "iso-8859-1" in r.headers["content-type"]
    assert "Dirk Wübben" in r.text


def test_delay_and_request_log(lookup_server, client):
    lookup_server.delay = 0.2
    began = time.monotonic()
    client.get(lookup_server.url + "/openlibrary/api/books?bibkeys=ISBN:1&format=json")
    assert time.monotonic() - began >= 0.2
    (record,) = lookup_server.requests
    assert record.method == "GET" and record.path.startswith("/openlibrary/api/books?bibkeys=")
    assert record.headers["Host"].startswith("127.0.0.1:")
    lookup_server.clear()
    assert lookup_server.requests == []


def test_lookup_env(lookup_env, monkeypatch):
    import os

    assert os.environ["CITEDESK_ARXIV_URL"] == lookup_env.url + "/arxiv/api/query"
    assert os.environ["CITEDESK_ARXIV_INTERVAL"] == "0"
