"""A loopback HTTP server that replays real recorded answers of metadata services.

doi.org content negotiation, Crossref, arXiv and Open Library, served from
``../shared/recorded`` (see its PROVENANCE.md) on ``127.0.0.1`` with no network, plus
misbehaviour on demand (429, 500, stalls, redirect loops, truncated, malformed, huge,
wrongly declared charsets) for the robustness tests of the lookup clients.

URL layout (``server.env()`` gives the base URLs as the clients' environment variables)::

    CITEDESK_DOI_URL          {url}/doi              GET {DOI_URL}/{doi} with an Accept header
    CITEDESK_CROSSREF_URL     {url}/crossref         /works/{doi}, /works/{doi}/agency, /works?...
    CITEDESK_ARXIV_URL        {url}/arxiv/api/query  ?id_list=...&search_query=...&start&max_results
    CITEDESK_OPENLIBRARY_URL  {url}/openlibrary      /api/books?bibkeys=ISBN:...&jscmd=data

Standalone: ``python tests/lookupserver.py --port 8765`` (or ``python -m tests.lookupserver``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gzip
import hashlib
import json
import os
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, unquote, urlsplit
from xml.sax.saxutils import escape

import yaml

ATOM = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
ATOM_TYPE = "application/atom+xml; charset=UTF-8"
CSL_JSON = "application/vnd.citationstyles.csl+json"
NOT_FOUND = b"Resource not found."  # what api.crossref.org answers (recorded), as JSON type
CROSSREF_404_TYPE = "application/json;charset=utf-8"

MODES = {
    "429",
    "500",
    "stall",
    "stall_body",
    "redirect_loop",
    "truncated",
    "malformed_xml",
    "malformed_json",
    "huge",
    "huge_chunked",
    "not_utf8",
    "latin1",
}

# Recorded response headers worth replaying (the rest is Cloudflare/transport noise).
KEEP_HEADERS = {
    "content-type",
    "vary",
    "x-rate-limit-limit",
    "x-rate-limit-interval",
    "x-concurrency-limit",
    "access-control-allow-origin",
}

# Open Library: NOTHING is recorded. This answer is HAND-WRITTEN after Open Library's
# documented ``/api/books?jscmd=data`` shape (https://openlibrary.org/dev/docs/api/books);
# the OL keys and author URLs are illustrative, not checked against the live service.
OPENLIBRARY_BOOKS: dict[str, dict[str, Any]] = {
    "9780262033848": {
        "url": "https://openlibrary.org/books/OL23070416M/Introduction_to_algorithms",
        "key": "/books/OL23070416M",
        "title": "Introduction to algorithms",
        "authors": [
            {
                "url": "https://openlibrary.org/authors/OL2647397A/Thomas_H._Cormen",
                "name": "Thomas H. Cormen",
            },
            {
                "url": "https://openlibrary.org/authors/OL2647398A/Charles_E._Leiserson",
                "name": "Charles E. Leiserson",
            },
            {
                "url": "https://openlibrary.org/authors/OL2647399A/Ronald_L._Rivest",
                "name": "Ronald L. Rivest",
            },
            {
                "url": "https://openlibrary.org/authors/OL2647400A/Clifford_Stein",
                "name": "Clifford Stein",
            },
        ],
        "number_of_pages": 1292,
        "identifiers": {
            "isbn_10": ["0262033844"],
            "isbn_13": ["9780262033848"],
            "openlibrary": ["OL23070416M"],
        },
        "publishers": [{"name": "MIT Press"}],
        "publish_date": "2009",
        "publish_places": [{"name": "Cambridge, Mass"}],
        "subjects": [
            {
                "name": "Computer algorithms",
                "url": "https://openlibrary.org/subjects/computer_algorithms",
            },
            {
                "name": "Computer programming",
                "url": "https://openlibrary.org/subjects/computer_programming",
            },
        ],
    }
}


class RecordingsMissing(FileNotFoundError):
    """The recorded answers (../shared/recorded) are not where they should be."""


def recorded_folder() -> Path:
    """``$CITEDESK_RECORDED`` or ``../shared/recorded`` beside the repository."""
    env = os.environ.get("CITEDESK_RECORDED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "recorded"


# --------------------------------------------------------------------------- recordings


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower().replace("_", " ")))


def _base_id(arxiv_id: str) -> str:
    return re.sub(r"v\d+$", "", arxiv_id.strip())


def _norm_query(sq: str) -> str:
    """search_query made comparable: case, quotes, +, _ and spaces do not matter."""
    s = sq.lower().replace('"', " ").replace("+", " ").replace("_", " ")
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"\s*:\s*", ":", s)
    if s and ":" not in s:
        s = "all:" + s
    return s


def _ids(id_list: str) -> frozenset[str]:
    return frozenset(i.strip() for i in id_list.split(",") if i.strip())


def _wire_bytes(text: str) -> bytes:
    """The bytes arXiv sent. The arxiv.py fixtures stored the UTF-8 body decoded as
    Latin-1 (``Wübben`` reads ``WÃ¼bben``); encoding back to Latin-1 gives the wire bytes."""
    try:
        raw = text.encode("latin-1")
        raw.decode("utf-8")
        return raw
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text.encode("utf-8")


@dataclass
class ArxivEntry:
    vid: str  # versioned id, e.g. 1605.08386v1 or astro-ph/0601001v1
    xml: str  # the <entry>...</entry> text
    title: str
    authors: list[str]
    summary: str


def _parse_entry(xml: str) -> ArxivEntry | None:
    wrapped = (
        f'<feed xmlns="{ATOM}" xmlns:arxiv="{ARXIV_NS}" '
        f'xmlns:opensearch="{OPENSEARCH}">{xml}</feed>'
    )
    try:
        entry = ET.fromstring(wrapped).find(f"{{{ATOM}}}entry")
    except ET.ParseError:
        return None
    if entry is None:
        return None
    ident = entry.findtext(f"{{{ATOM}}}id", "")
    if "/abs/" not in ident:
        return None  # an error entry
    return ArxivEntry(
        vid=ident.split("/abs/", 1)[1],
        xml=xml,
        title=" ".join(entry.findtext(f"{{{ATOM}}}title", "").split()),
        authors=[a.findtext(f"{{{ATOM}}}name", "") for a in entry.iter(f"{{{ATOM}}}author")],
        summary=" ".join(entry.findtext(f"{{{ATOM}}}summary", "").split()),
    )


@dataclass
class Recordings:
    # arXiv: (ids, normalised search_query, start, max_results) -> (status, body bytes)
    arxiv: dict[tuple[frozenset[str], str, int, int], tuple[int, bytes]]
    arxiv_entries: dict[str, ArxivEntry]  # versioned id -> entry
    arxiv_unknown: str  # recorded feed of an unknown id (0000.0000), as text
    arxiv_bad: str  # recorded 400 feed of a malformed id (abc), as text
    # doi.org: doi (lower) -> recorded 302 answer (Location not yet rewritten)
    doi_redirects: dict[str, Answer]
    doi_errors: dict[str, Answer]  # doi (lower) -> recorded 404/400 answer
    doi_not_found: Answer  # recorded 404 page, for 10.1126/foo
    doi_not_a_doi: Answer  # recorded 400 page, for foo
    doi_http_redirect: Answer  # recorded http -> https 301 of doi.org
    # Crossref transform: (doi lower, key) -> Answer; key 'bibtex', 'csl', 'style:apa'
    transforms: dict[tuple[str, str], Answer]
    works: dict[str, dict[str, Any]]  # doi lower -> /works message
    agency: dict[str, Answer]  # doi lower -> recorded /agency answer


def _cassette_body(response: dict[str, Any]) -> bytes:
    body = response["body"]["string"]
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    headers = {k.lower(): v for k, v in response["headers"].items()}
    if "gzip" in " ".join(headers.get("content-encoding", [])):
        raw = gzip.decompress(raw)
    return raw


def _cassette_answer(response: dict[str, Any]) -> Answer:
    headers = {k.lower(): v for k, v in response["headers"].items()}
    kept = [
        (k, v)
        for k, values in headers.items()
        if k in KEEP_HEADERS and k != "content-type"
        for v in values
    ]
    if "location" in headers:
        kept.append(("location", headers["location"][0]))
    return Answer(
        status=response["status"]["code"],
        content_type=(headers.get("content-type") or [""])[0],
        body=_cassette_body(response),
        headers=kept,
    )


def _accept_key(accept: str) -> str | None:
    """'bibtex', 'csl' or 'style:NAME' for an Accept header (first understood type)."""
    for part in accept.split(","):
        mime, *params = [p.strip() for p in part.split(";")]
        mime = mime.lower()
        if mime.startswith("transform/"):  # habanero's odd header in the citeproc cassette
            mime = mime[len("transform/") :]
        if mime == "application/x-bibtex":
            return "bibtex"
        if mime in (CSL_JSON, "application/citeproc+json"):
            return "csl"
        if mime == "text/x-bibliography":
            style = "apa"  # Crossref's default style
            for p in params:
                k, _, v = p.partition("=")
                if k.strip().lower() == "style":
                    style = v.strip().strip('"').lower()
            return f"style:{style}"
    return None


@functools.lru_cache(maxsize=4)
def load_recordings(folder: Path) -> Recordings:
    if not (folder / "arxiv").is_dir() or not (folder / "crossref").is_dir():
        raise RecordingsMissing(f"no arxiv/ and crossref/ recordings in {folder}")
    arxiv: dict[tuple[frozenset[str], str, int, int], tuple[int, bytes]] = {}
    entries: dict[str, ArxivEntry] = {}
    unknown = bad = ""

    def remember(ids: frozenset[str], sq: str, start: int, mx: int, status: int, text: str):
        arxiv[(ids, _norm_query(sq), start, mx)] = (status, _wire_bytes(text))
        for raw in re.findall(r"<entry>.*?</entry>", text, re.S):
            parsed = _parse_entry(raw)
            if parsed is not None:
                entries.setdefault(parsed.vid, parsed)

    for path in sorted((folder / "arxiv").glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        q = parse_qs(urlsplit(rec["url"]).query, keep_blank_values=True)
        ids = _ids(q.get("id_list", [""])[0])
        body = rec["body"]
        remember(
            ids,
            q.get("search_query", [""])[0],
            int(q.get("start", ["0"])[0]),
            int(q.get("max_results", ["10"])[0]),
            rec["status_code"],
            body,
        )
        if ids == {"0000.0000"}:
            unknown = body
        if ids == {"abc"}:
            bad = body
    for path in sorted((folder / "arxiv").glob("*.xml")):
        q = parse_qs(path.stem, keep_blank_values=True)
        text = path.read_text(encoding="utf-8")
        sq = q.get("search_query", [""])[0].replace("au_", "au:").replace("ti_", "ti:")
        remember(_ids(q.get("id_list", [""])[0]), sq, 0, 10, 200, text)

    doi_redirects: dict[str, Answer] = {}
    doi_errors: dict[str, Answer] = {}
    transforms: dict[tuple[str, str], Answer] = {}
    works: dict[str, dict[str, Any]] = {}
    agency: dict[str, Answer] = {}
    http_redirect = None
    for path in sorted((folder / "crossref").glob("*.yaml")):
        cassette = yaml.load(path.read_bytes(), Loader=yaml.SafeLoader)
        for inter in cassette["interactions"]:
            req, resp = inter["request"], inter["response"]
            url = urlsplit(req["uri"])
            accept = " ".join(req["headers"].get("accept") or req["headers"].get("Accept") or [])
            answer = _cassette_answer(resp)
            rpath = unquote(url.path)
            if url.hostname == "doi.org":
                doi = rpath.lstrip("/").lower()
                if url.scheme == "http":
                    http_redirect = answer
                elif answer.status in (301, 302, 303, 307, 308):
                    doi_redirects[doi] = answer
                else:
                    doi_errors[doi] = answer
            elif url.hostname == "api.crossref.org":
                m = re.match(r"^/(?:v1/)?works/(.+?)/transform(?:/(.+))?$", rpath)
                if m and answer.status == 200:
                    key = _accept_key(m.group(2) or accept)
                    if key == "csl" and not answer.content_type:
                        answer.content_type = CSL_JSON  # not recorded; Crossref sends it
                    if key:
                        transforms[(m.group(1).lower(), key)] = answer
                    continue
                m = re.match(r"^/works/(.+)/agency$", rpath)
                if m:
                    agency[m.group(1).lower()] = answer
                    continue
                m = re.match(r"^/works/(.+)$", rpath)
                if m and answer.status == 200:
                    works[m.group(1).lower()] = json.loads(answer.body)["message"]
    assert http_redirect is not None
    return Recordings(
        arxiv=arxiv,
        arxiv_entries=entries,
        arxiv_unknown=unknown,
        arxiv_bad=bad,
        doi_redirects=doi_redirects,
        doi_errors=doi_errors,
        doi_not_found=doi_errors["10.1126/foo"],
        doi_not_a_doi=doi_errors["foo"],
        doi_http_redirect=http_redirect,
        transforms=transforms,
        works=works,
        agency=agency,
    )


# --------------------------------------------------------------------------- misbehaviour


@dataclass
class Misbehaviour:
    mode: str
    prefix: str
    times: int | None
    opts: dict[str, Any]


@dataclass(frozen=True)
class RequestRecord:
    time: float  # time.monotonic() at arrival
    method: str
    path: str  # path + query, as sent
    headers: dict[str, str]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    replay: ReplayServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.conn_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.conn_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-answer is what the robustness tests do


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle's algorithm and the
    # client's delayed ACK add 40 ms to every answer on a kept-alive connection.
    disable_nagle_algorithm = True
    server: _HTTPServer
    server_version = "citedesk-replay/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    # --- plumbing
    def _serve(self, head: bool) -> None:
        replay = self.server.replay
        replay._record(self.command, self.path, dict(self.headers.items()))
        if replay.delay and replay._stopping.wait(replay.delay):
            self.close_connection = True
            return
        rule = replay._take_rule(urlsplit(self.path).path)
        if rule is not None:
            self._misbehave(rule, head)
            return
        self._send(replay.answer(self.path, dict(self.headers.items())), head)

    def _send(self, answer: Answer, head: bool = False) -> None:
        self.send_response(answer.status)
        if answer.content_type:
            self.send_header("Content-Type", answer.content_type)
        for k, v in answer.headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if not head:
            self.wfile.write(answer.body)

    def _stall(self, seconds: float) -> None:
        self.server.replay._stopping.wait(seconds)
        self.close_connection = True

    def _misbehave(self, rule: Misbehaviour, head: bool) -> None:
        replay = self.server.replay
        opts = rule.opts
        mode = rule.mode
        seconds = float(opts.get("seconds", 30))
        if mode == "429":
            self._send(
                Answer(
                    429,
                    "text/plain; charset=utf-8",
                    b"Too Many Requests",
                    [("Retry-After", str(opts.get("retry_after", "1")))],
                ),
                head,
            )
            return
        if mode == "500":
            self._send(Answer(500, "text/plain; charset=utf-8", b"Internal Server Error"), head)
            return
        if mode == "stall":
            self._stall(seconds)
            return
        if mode == "redirect_loop":
            parts = urlsplit(self.path)
            query = re.sub(r"&?_loop=[ab]", "", parts.query)
            hop = "b" if "_loop=a" in parts.query else "a"
            target = parts.path + "?" + (query + "&" if query else "") + f"_loop={hop}"
            self._send(Answer(302, "text/html", b"", [("Location", target)]), head)
            return
        normal = replay.answer(self.path, dict(self.headers.items()))
        ctype = normal.content_type or "application/octet-stream"
        if mode == "stall_body":
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(max(len(normal.body), 1024)))
            self.end_headers()
            self.wfile.flush()
            self._stall(seconds)
            return
        if mode == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(normal.body) + 1000))
            self.end_headers()
            self.wfile.write(normal.body[: len(normal.body) // 2])
            self.close_connection = True
            return
        if mode == "malformed_xml":
            ctype = ctype if "xml" in ctype else ATOM_TYPE
            body = (
                b"<?xml version='1.0' encoding='UTF-8'?>\n"
                b'<feed xmlns="http://www.w3.org/2005/Atom">\n  <entry>\n'
                b"    <title>Broken & unclosed</title>\n  <entry>\n"
            )
            self._send(Answer(200, ctype, body), head)
            return
        if mode == "malformed_json":
            ctype = ctype if "json" in ctype else "application/json"
            body = b'{"status":"ok","message-type":"work","message":{"title":["Broken'
            self._send(Answer(200, ctype, body), head)
            return
        if mode in ("not_utf8", "latin1"):
            text = normal.body.decode("utf-8", errors="replace")
            base = ctype.split(";")[0].strip()
            if mode == "not_utf8":
                body = text.encode("cp1252", errors="replace")
                ctype = f"{base}; charset=utf-8"
            else:
                body = text.encode("latin-1", errors="replace")
                ctype = f"{base}; charset=iso-8859-1"
            self._send(Answer(normal.status, ctype, body, normal.headers), head)
            return
        if mode in ("huge", "huge_chunked"):
            size = int(opts.get("size", 50 * 1024 * 1024))
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            chunked = mode == "huge_chunked"
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(size))
            self.end_headers()
            self.close_connection = True
            if head:
                return
            block = (b" " * 65535 + b"\n")[: 64 * 1024]
            sent = 0
            try:
                while sent < size and not replay._stopping.is_set():
                    piece = block[: min(len(block), size - sent)]
                    if chunked:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    else:
                        self.wfile.write(piece)
                    sent += len(piece)
                if chunked and sent >= size:
                    self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
            return
        raise AssertionError(mode)


# --------------------------------------------------------------------------- the server


class ReplayServer:
    """Replays the recorded answers on ``http://127.0.0.1:PORT``; see the module docstring."""

    def __init__(self, recorded: Path | None = None, host: str = "127.0.0.1", port: int = 0):
        self.folder = Path(recorded) if recorded is not None else recorded_folder()
        self.rec = load_recordings(self.folder)  # raises RecordingsMissing
        self.host, self.port = host, port
        self.delay: float = 0.0
        self._requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._rules: list[Misbehaviour] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.works: dict[str, dict[str, Any]] = dict(self.rec.works)
        self.arxiv_entries: dict[str, ArxivEntry] = dict(self.rec.arxiv_entries)
        self.synthetic_ids: set[str] = set()
        self.transforms: dict[tuple[str, str], Answer] = dict(self.rec.transforms)
        self.books: dict[str, dict[str, Any]] = dict(OPENLIBRARY_BOOKS)

    # --- life
    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def env(self) -> dict[str, str]:
        return {
            "CITEDESK_DOI_URL": f"{self.url}/doi",
            "CITEDESK_CROSSREF_URL": f"{self.url}/crossref",
            "CITEDESK_ARXIV_URL": f"{self.url}/arxiv/api/query",
            "CITEDESK_OPENLIBRARY_URL": f"{self.url}/openlibrary",
        }

    def start(self) -> ReplayServer:
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.replay = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd = self._httpd
        if httpd is None or self._stopping.is_set():
            return
        self._stopping.set()  # wakes stalls and delays
        httpd.shutdown()
        httpd.server_close()
        with httpd.conn_lock:
            conns = list(httpd.connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                conn.close()
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(1)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests see and switch
    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self._requests.append(RequestRecord(time.monotonic(), method, path, headers))

    def misbehave(
        self, mode: str, path_prefix: str = "", times: int | None = None, **opts: Any
    ) -> None:
        """Answer requests whose path starts with ``path_prefix`` (e.g. "/arxiv") badly,
        ``times`` times (forever when None) or until ``behave()``."""
        if mode not in MODES:
            raise ValueError(f"unknown misbehaviour {mode!r}; one of {sorted(MODES)}")
        with self._lock:
            self._rules.append(Misbehaviour(mode, path_prefix, times, opts))

    def behave(self) -> None:
        with self._lock:
            self._rules.clear()

    def _take_rule(self, path: str) -> Misbehaviour | None:
        with self._lock:
            for rule in self._rules:
                if path.startswith(rule.prefix):
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def add_crossref_work(self, message: dict[str, Any]) -> None:
        """A Crossref ``/works`` message (needs "DOI"): answers /works/{doi} and searches."""
        with self._lock:
            self.works[message["DOI"].lower()] = message

    def add_doi_answer(self, doi: str, accept: str, body: str | bytes, content_type: str = ""):
        """What the doi.org chain answers for ``doi`` and an Accept (e.g. application/x-bibtex)."""
        key = _accept_key(accept)
        if key is None:
            raise ValueError(f"not a content-negotiation type: {accept!r}")
        raw = body.encode("utf-8") if isinstance(body, str) else body
        ctype = content_type or {"bibtex": "application/x-bibtex", "csl": CSL_JSON}.get(
            key, "text/x-bibliography"
        )
        with self._lock:
            self.transforms[(doi.lower(), key)] = Answer(200, ctype, raw)

    def add_openlibrary_book(self, isbn: str, data: dict[str, Any]) -> None:
        with self._lock:
            self.books[re.sub(r"[^0-9Xx]", "", isbn).upper()] = data

    def add_arxiv_entry(
        self,
        arxiv_id: str,
        title: str,
        authors: list[str],
        published: str | dt.date,
        summary: str,
        doi: str | None = None,
        journal_ref: str | None = None,
        primary_category: str = "cs.LG",
    ) -> None:
        """A synthetic entry, in the recorded Atom layout, for id_list lookups and searches."""
        vid = arxiv_id if re.search(r"v\d+$", arxiv_id) else arxiv_id + "v1"
        if isinstance(published, dt.datetime):
            stamp = published.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif isinstance(published, dt.date):
            stamp = published.strftime("%Y-%m-%dT00:00:00Z")
        else:
            stamp = published if "T" in published else f"{published}T00:00:00Z"
        lines = [
            "<entry>",
            f"    <id>http://arxiv.org/abs/{vid}</id>",
            f"    <title>{escape(title)}</title>",
            f"    <updated>{stamp}</updated>",
            f'    <link href="https://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
            f'    <link href="https://arxiv.org/pdf/{vid}" rel="related" '
            'type="application/pdf" title="pdf"/>',
            f"    <summary>{escape(summary)}</summary>",
            f'    <category term="{escape(primary_category)}" '
            'scheme="http://arxiv.org/schemas/atom"/>',
            f"    <published>{stamp}</published>",
            f'    <arxiv:primary_category term="{escape(primary_category)}"/>',
        ]
        if journal_ref:
            lines.append(f"    <arxiv:journal_ref>{escape(journal_ref)}</arxiv:journal_ref>")
        lines += [f"    <author>\n      <name>{escape(a)}</name>\n    </author>" for a in authors]
        if doi:
            lines.append(f"    <arxiv:doi>{escape(doi)}</arxiv:doi>")
            lines.append(
                f'    <link rel="related" href="https://doi.org/{escape(doi)}" title="doi"/>'
            )
        lines.append("  </entry>")
        entry = ArxivEntry(vid, "\n".join(lines), title, list(authors), summary)
        with self._lock:
            self.arxiv_entries[vid] = entry
            self.synthetic_ids.add(vid)

    # --- routing
    def answer(self, raw_path: str, headers: dict[str, str]) -> Answer:
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        accept = next((v for k, v in headers.items() if k.lower() == "accept"), "")
        with self._lock:  # a consistent view of what tests registered
            if path.startswith("/http-doi/"):
                return self._http_doi(unquote(path[len("/http-doi/") :]))
            if path.startswith("/doi/"):
                return self._doi(unquote(path[len("/doi/") :]))
            if path.startswith("/crossref/"):
                return self._crossref(unquote(path[len("/crossref") :]), query, accept)
            if path.rstrip("/") == "/arxiv/api/query":
                return self._arxiv(query)
            if path.rstrip("/") == "/openlibrary/api/books":
                return self._openlibrary(query)
        return Answer(404, "text/plain; charset=utf-8", b"Not Found (no such route)")

    def _rewrite(self, location: str) -> str:
        for origin, local in (
            ("https://api.crossref.org:443", "/crossref"),
            ("https://api.crossref.org", "/crossref"),
            ("http://api.crossref.org", "/crossref"),
            ("https://doi.org", "/doi"),
            ("http://doi.org", "/doi"),
        ):
            if location.startswith(origin):
                return self.url + local + location[len(origin) :]
        return location

    def _redirect(self, recorded: Answer, location: str) -> Answer:
        headers = [(k, v) for k, v in recorded.headers if k != "location"]
        headers.append(("Location", location))
        return Answer(recorded.status, recorded.content_type, recorded.body, headers)

    def _http_doi(self, doi: str) -> Answer:
        """doi.org over plain http: the recorded 301 to https (here: to /doi/)."""
        return self._redirect(self.rec.doi_http_redirect, f"{self.url}/doi/{doi}")

    def _doi(self, doi: str) -> Answer:
        key = doi.lower()
        if key in self.rec.doi_redirects:
            rec = self.rec.doi_redirects[key]
            return self._redirect(rec, self._rewrite(dict(rec.headers)["location"]))
        if any(d == key for d, _ in self.transforms):
            template = next(iter(self.rec.doi_redirects.values()))
            target = f"{self.url}/crossref/v1/works/{quote(doi, safe='')}/transform"
            body = (
                "<html><head><title>Handle Redirect</title></head>\n"
                f'<body><a href="{target}">{target}</a></body></html>'
            ).encode()
            return Answer(302, template.content_type, body, [("Location", target)])
        if key in self.rec.doi_errors:
            return self.rec.doi_errors[key]
        if not re.match(r"^10\.[^\s/]+/\S", doi):
            return self.rec.doi_not_a_doi
        page = self.rec.doi_not_found
        body = page.body.replace(b"10.1126/foo", doi.encode("utf-8"))
        return Answer(404, page.content_type, body, page.headers)

    def _crossref(self, path: str, query: dict[str, list[str]], accept: str) -> Answer:
        m = re.match(r"^/(?:v1/)?works/(.+?)/transform(?:/(.+))?$", path)
        if m:
            doi = m.group(1).lower()
            key = _accept_key(m.group(2) or accept)
            if key and (doi, key) in self.transforms:
                return self.transforms[(doi, key)]
            if not any(d == doi for d, _ in self.transforms):
                return Answer(404, CROSSREF_404_TYPE, NOT_FOUND)
            return Answer(
                406,
                "text/plain; charset=utf-8",
                f"No recorded answer for Accept {accept!r}".encode(),
            )
        m = re.match(r"^/(?:v1/)?works/(.+)/agency$", path)
        if m:
            doi = m.group(1).lower()
            if doi in self.rec.agency:
                return self.rec.agency[doi]
            if doi in self.works:
                body = {
                    "status": "ok",
                    "message-type": "work-agency",
                    "message-version": "1.0.0",
                    "message": {
                        "DOI": self.works[doi].get("DOI", doi),
                        "agency": {"id": "crossref", "label": "Crossref"},
                    },
                }
                return Answer(200, CROSSREF_404_TYPE, json.dumps(body).encode())
            return Answer(404, CROSSREF_404_TYPE, NOT_FOUND)
        m = re.match(r"^/(?:v1/)?works/(.+)$", path)
        if m:
            doi = m.group(1).lower()
            if doi in self.works:
                body = {
                    "status": "ok",
                    "message-type": "work",
                    "message-version": "1.0.0",
                    "message": self.works[doi],
                }
                return Answer(
                    200, "application/json", json.dumps(body, ensure_ascii=False).encode("utf-8")
                )
            return Answer(404, CROSSREF_404_TYPE, NOT_FOUND)
        if path.rstrip("/") in ("/works", "/v1/works"):
            return self._crossref_search(query)
        return Answer(404, CROSSREF_404_TYPE, NOT_FOUND)

    def _crossref_search(self, query: dict[str, list[str]]) -> Answer:
        def one(name: str) -> str:
            return " ".join(query.get(name, []))

        words = _words(" ".join([one("query.bibliographic"), one("query.title"), one("query")]))
        author_words = _words(one("query.author"))
        try:
            rows = int(one("rows") or 20)
        except ValueError:
            rows = 20
        scored = []
        for message in self.works.values():
            title = " ".join(message.get("title", []))
            overlap = len(words & _words(title))
            names = " ".join(
                f"{a.get('given', '')} {a.get('family', '')} {a.get('name', '')}"
                for a in message.get("author", [])
            )
            by_author = len(author_words & _words(names))
            if overlap == 0 and not (by_author and not words):
                continue
            score = round(10.0 * overlap + 5.0 * by_author, 3)
            scored.append({**message, "score": score})
        scored.sort(key=lambda m: -m["score"])
        body = {
            "status": "ok",
            "message-type": "work-list",
            "message-version": "1.0.0",
            "message": {
                "facets": {},
                "total-results": len(scored),
                "items": scored[:rows],
                "items-per-page": rows,
                "query": {"start-index": 0, "search-terms": one("query.bibliographic") or None},
            },
        }
        return Answer(200, "application/json", json.dumps(body).encode("utf-8"))

    def _arxiv(self, query: dict[str, list[str]]) -> Answer:
        id_list = ",".join(query.get("id_list", []))
        ids = _ids(id_list)
        sq = " ".join(query.get("search_query", []))
        nsq = _norm_query(sq)
        try:
            start = int(query.get("start", ["0"])[0] or 0)
            mx = int(query.get("max_results", ["10"])[0] or 10)
        except ValueError:
            start, mx = 0, 10
        involves_synthetic = any(
            (e := self._find_entry(i)) is not None and e.vid in self.synthetic_ids for i in ids
        )
        if not involves_synthetic:
            exact = self.rec.arxiv.get((ids, nsq, start, mx))
            if exact is None:  # the client asked a different page size or sort: ignore them
                exact = next(
                    (
                        v
                        for (i, q, s, _), v in self.rec.arxiv.items()
                        if (i, q, s) == (ids, nsq, start)
                    ),
                    None,
                )
            if exact is not None:
                return Answer(exact[0], ATOM_TYPE, exact[1])
        if ids:
            bad = [i for i in sorted(ids) if not _valid_arxiv_id(i)]
            if bad:
                body = self.rec.arxiv_bad.replace("abc", bad[0])
                return Answer(400, ATOM_TYPE, _wire_bytes(body))
            found = [e for i in sorted(ids) if (e := self._find_entry(i)) is not None]
            if nsq:
                found = [e for e in found if _search_score(nsq, e) > 0]
            return self._feed(sq, id_list, start, mx, found)
        found_scored = [(s, e) for e in self.arxiv_entries.values() if (s := _search_score(nsq, e))]
        found_scored.sort(key=lambda se: -se[0])
        return self._feed(sq, id_list, start, mx, [e for _, e in found_scored])

    def _find_entry(self, arxiv_id: str) -> ArxivEntry | None:
        if arxiv_id in self.arxiv_entries:
            return self.arxiv_entries[arxiv_id]
        if not re.search(r"v\d+$", arxiv_id):  # no version asked: the latest we have
            hits = [e for v, e in self.arxiv_entries.items() if _base_id(v) == arxiv_id]
            if hits:
                return max(hits, key=lambda e: int(e.vid.rsplit("v", 1)[1]))
        return None

    def _feed(
        self, sq: str, id_list: str, start: int, mx: int, entries: list[ArxivEntry]
    ) -> Answer:
        """A feed in the layout of the recorded ones (e.g. the unknown id 0000.0000)."""
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = hashlib.sha1(f"{sq}|{id_list}|{start}|{mx}".encode()).hexdigest()[:27]
        page = entries[start : start + mx]
        head = (
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            f'<feed xmlns:opensearch="{OPENSEARCH}" xmlns:arxiv="{ARXIV_NS}" xmlns="{ATOM}">\n'
            f"  <id>https://arxiv.org/api/{digest}</id>\n"
            f"  <title>arXiv Query: search_query={escape(sq)}&amp;id_list={escape(id_list)}"
            f"&amp;start={start}&amp;max_results={mx}</title>\n"
            f"  <updated>{now}</updated>\n"
            f'  <link href="https://arxiv.org/api/query?search_query={quote_plus(sq)}&amp;'
            f'start={start}&amp;max_results={mx}&amp;id_list={escape(id_list)}" '
            'type="application/atom+xml"/>\n'
            f"  <opensearch:itemsPerPage>{mx}</opensearch:itemsPerPage>\n"
            f"  <opensearch:totalResults>{len(entries)}</opensearch:totalResults>\n"
            f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
        )
        body = head + "".join(f"  {e.xml}\n" for e in page) + "</feed>\n"
        return Answer(200, ATOM_TYPE, body.encode("utf-8"))

    def _openlibrary(self, query: dict[str, list[str]]) -> Answer:
        keys = [k.strip() for k in ",".join(query.get("bibkeys", [])).split(",") if k.strip()]
        result: dict[str, Any] = {}
        for key in keys:
            kind, _, value = key.partition(":")
            if kind.upper() != "ISBN":
                continue
            isbn = re.sub(r"[^0-9Xx]", "", value).upper()
            book = self.books.get(isbn) or next(
                (
                    b
                    for b in self.books.values()
                    if isbn in b.get("identifiers", {}).get("isbn_10", [])
                    or isbn in b.get("identifiers", {}).get("isbn_13", [])
                ),
                None,
            )
            if book is not None:
                result[key] = book
        text = json.dumps(result)
        if query.get("format", [""])[0] != "json":  # Open Library's default: a JS variable
            callback = query.get("callback", [""])[0]
            text = f"{callback}({text});" if callback else f"var _OLBookInfo = {text};"
            return Answer(200, "application/javascript", text.encode("utf-8"))
        return Answer(200, "application/json", text.encode("utf-8"))


def _valid_arxiv_id(arxiv_id: str) -> bool:
    return bool(
        re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?", arxiv_id)
        or re.fullmatch(r"[a-z\-]+(\.[A-Z]{2})?/\d{7}(v\d+)?", arxiv_id)
    )


def _search_score(nsq: str, entry: ArxivEntry) -> int:
    """Word overlap of each ti:/au:/abs:/all: clause with the entry; 0 when one misses."""
    clauses = re.findall(
        r"(ti|au|abs|all|id|cat|jr|co):(\([^)]*\)|\S+(?: (?!(?:and|or|andnot) |\w+:)\S+)*)", nsq
    )
    if not clauses:
        return 0
    score = 0
    for prefix, value in clauses:
        words = _words(value) - {"and", "or", "andnot"}
        if prefix == "ti":
            target = _words(entry.title)
        elif prefix == "au":
            target = _words(" ".join(entry.authors))
        elif prefix == "abs":
            target = _words(entry.summary)
        elif prefix == "id":
            target = {entry.vid.lower(), _base_id(entry.vid).lower()}
            words = {value.strip()}
        else:
            target = _words(" ".join([entry.title, entry.summary, *entry.authors]))
        hit = len(words & target)
        if hit == 0:
            return 0
        score += hit
    return score


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--recorded", type=Path, default=None, help="recorded answers folder")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args(argv)
    server = ReplayServer(args.recorded, host=args.host, port=args.port)
    server.delay = args.delay
    server.start()
    print(f"Replaying {server.folder} on {server.url}; export:")
    for k, v in server.env().items():
        print(f"export {k}={v}")
    print("export CITEDESK_ARXIV_INTERVAL=0", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
