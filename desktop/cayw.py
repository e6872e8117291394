"""Cite as you write: Better BibTeX's ``cayw`` protocol, which editor plugins call.

While the window runs, a small HTTP server listens on loopback (127.0.0.1), port 23119 by
default as Better BibTeX and JabRef do (``settings.CAYW_PORT``, or the environment variable
``CITEDESK_CAYW_PORT``; 0 takes any free port, a negative number turns the server off). A
port that is taken (a running Zotero, say) is said in the status bar, and the next free one
of the ten after it is used instead.

``GET /better-bibtex/cayw?probe=1`` answers ``ready`` at once. Any other ``cayw`` request
brings up the picker (picker.py) and is answered with the citation once the person has
picked (cancelled: an empty 200). ``selected=1`` cites the papers selected in the window,
with no picker. ``format``, ``command`` and ``brackets`` say how the citation is written
(:func:`format_citation`), ``clipboard`` puts it on the clipboard too, ``minimize``
minimizes the window after the pick.

Everything runs on the GUI thread with Qt's non-blocking sockets: a request waiting for the
picker holds nothing up, so a probe (or the window) answers while the picker is open. One
pick at a time: a second request while the picker is open is answered at once with
``409 a pick is already open`` (an editor waiting minutes behind a picker the person does
not see would look hung); only when the editor that opened the picker has given up (its
connection closed) does a new request take the open picker over, keeping what was chosen.

Web pages may not ask: a request with an ``Origin`` header, an ``http(s)`` ``Referer``, a
``Host`` that is not this computer (DNS rebinding) or from a peer that is not loopback is
refused with 403.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtNetwork import QAbstractSocket, QHostAddress, QTcpServer, QTcpSocket
from PySide6.QtWidgets import QWidget

from . import db
from . import settings as opts
from .picker import CitationPicker

log = logging.getLogger(__name__)

DEFAULT_PORT = 23119
#: How many ports after the wanted one are tried when it is taken (23120..23129).
FALLBACK_PORTS = 10
PORT_ENV = "CITEDESK_CAYW_PORT"
PATH = "/better-bibtex/cayw"
#: A request line and headers longer than this are refused (431).
MAX_HEAD_BYTES = 16 * 1024
#: A connection that has not sent its whole request by then is closed.
REQUEST_TIMEOUT_MS = 10_000
BUSY = "a pick is already open"

#: The LaTeX formats and the command each writes unless ``command`` says another.
LATEX_COMMANDS = {
    "latex": "cite",
    "cite": "cite",
    "natbib": "cite",  # as db/cite.py writes it
    "citep": "citep",
    "citet": "citet",
    "biblatex": "autocite",
}
#: What :func:`format_citation` writes without ``db.cite``.
FALLBACK_FORMATS = frozenset(LATEX_COMMANDS) | {"pandoc", "json"}
#: Better BibTeX's formats, known once ``db.cite`` is there to write them.
CITE_FORMATS = frozenset(
    {
        *FALLBACK_FORMATS,
        "mmd",
        "typst",
        "formatted-citation",
        "formatted-bibliography",
        "translate",
    }
)
#: The formats ``db.cite`` writes from the papers' CSL items (read only for them).
ITEM_FORMATS = frozenset({"json", "formatted-citation", "formatted-bibliography"})
TEXT = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"
REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class UnknownFormatError(ValueError):
    """A ``format`` Citedesk cannot write; the message says which ones it can."""


def truthy(value: str | None) -> bool:
    """A query parameter that is on: ``1``, ``true``, ``yes`` (absent or ``0``: off)."""
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def _cite_module() -> ModuleType | None:
    """``db.cite`` (citation formats and CSL) where it is there, else None."""
    try:
        return importlib.import_module(".cite", db.__name__)
    except ImportError:
        return None


def known_formats() -> frozenset[str]:
    module = _cite_module()
    if module is None:
        return FALLBACK_FORMATS
    return frozenset(getattr(module, "FORMATS", CITE_FORMATS))


def check_format(params: dict[str, str]) -> None:
    """Raise :class:`UnknownFormatError` for a format no one here writes (before a pick)."""
    fmt = params.get("format") or "latex"
    formats = known_formats()
    if fmt not in formats:
        raise UnknownFormatError(f"unknown format {fmt!r}; use one of {', '.join(sorted(formats))}")


def format_citation(
    keys: list[str], params: dict[str, str], library: db.Library | None = None
) -> tuple[str, str]:
    """The citation of ``keys`` as the ``cayw`` parameters ask: (body, content type).

    A thin adapter: ``db.cite.cite`` writes every format where it is there (with the CSL
    items of the papers and their BibTeX, from ``library``; ``style``, ``locale`` and
    ``output`` passed on when given); without it LaTeX, natbib, biblatex, pandoc and JSON
    are written here. Raises :class:`UnknownFormatError` for a format, style or command
    that cannot be written.
    """
    fmt = params.get("format") or "latex"
    command = params.get("command") or ""
    brackets = truthy(params.get("brackets"))
    content_type = JSON if fmt == "json" else TEXT
    module = _cite_module()
    if module is not None:
        options: dict[str, Any] = {"command": command, "brackets": brackets}
        for name in ("style", "locale", "output"):
            if params.get(name):
                options[name] = params[name]
        if params.get("output") == "html":
            content_type = "text/html; charset=utf-8"
        if library is not None:
            if fmt in ITEM_FORMATS:
                options["items"] = library.csl_items(ids=_ids_of(keys, library))
            options["translate"] = lambda picked: "\n".join(
                library.entry_text(pid) for pid in _ids_of(list(picked), library)
            )
        try:
            body = module.cite(keys, fmt, **options)
        except (module.CiteFormatError, ValueError) as exc:  # a format, style or command
            raise UnknownFormatError(str(exc)) from exc
        return str(body), content_type
    if fmt in LATEX_COMMANDS:
        return f"\\{command or LATEX_COMMANDS[fmt]}{{{','.join(keys)}}}", content_type
    if fmt == "pandoc":
        body = "; ".join(f"@{key}" for key in keys)
        return (f"[{body}]" if brackets and body else body), content_type
    if fmt == "json":
        items = library.csl_items(ids=_ids_of(keys, library)) if library is not None else []
        return json.dumps(items or [{"id": key} for key in keys], ensure_ascii=False), JSON
    check_format(params)
    raise UnknownFormatError(f"unknown format {fmt!r}")


def _ids_of(keys: list[str], library: db.Library | None) -> list[int]:
    if library is None:
        return []
    return [pid for pid in map(library.id_for_key, keys) if pid is not None]


def wanted_port(settings: opts.Settings) -> int | None:
    """The port to listen on: ``$CITEDESK_CAYW_PORT``, else the setting; None for off."""
    text = os.environ.get(PORT_ENV, "").strip()
    if text:
        try:
            port = int(text)
        except ValueError:
            log.warning("%s=%r is not a port number; using the setting", PORT_ENV, text)
        else:
            return port if 0 <= port <= 65535 else None
    if not settings.get(opts.CAYW_ENABLED):
        return None
    port = settings.get(opts.CAYW_PORT)
    return port if 0 <= port <= 65535 else None


@dataclass
class Request:
    """What an HTTP/1.x request asked: its line and headers (names in lower case)."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


def parse_head(head: bytes) -> Request | None:
    """The request line and headers before the blank line; None when they are not HTTP/1."""
    lines = head.decode("latin-1").split("\n")
    parts = lines[0].strip().split()
    if len(parts) != 3 or not parts[2].upper().startswith("HTTP/1."):
        return None
    method, target, _version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers[name.strip().lower()] = value.strip()
    url = urlsplit(target)
    params = dict(parse_qsl(url.query, keep_blank_values=True))
    return Request(method.upper(), url.path or "/", params, headers)


def refusal(request: Request) -> str | None:
    """Why a request may not be answered (a web page, or a name that is not this
    computer), else None."""
    if "origin" in request.headers:
        return "requests from web pages (with an Origin header) are refused"
    referer = request.headers.get("referer", "").lower()
    if referer.startswith(("http://", "https://")):
        return "requests from web pages (with an http Referer) are refused"
    host = request.headers.get("host")
    if host is not None:
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.lower() not in LOCAL_HOSTS:
            return f"Host {host} is not this computer"
    return None


class _Exchange:
    """One connection: the bytes of its request so far, and whether it is still open."""

    def __init__(self, socket: QTcpSocket) -> None:
        self.socket = socket
        self.buffer = bytearray()
        self.handled = False
        self.open = True


@dataclass
class _Pick:
    """The picker is open for this exchange (None: for the window's own Quick Cite)."""

    exchange: _Exchange | None
    params: dict[str, str]


class CaywServer(QObject):
    """The ``cayw`` server and the picker it opens; the window owns one.

    Signals:
        notice(str): something the window should tell in its status bar (a citation copied,
            a port taken).
        pick_opened(): the picker was brought up (for a request or the window's action).
    """

    notice = Signal(str)
    pick_opened = Signal()

    def __init__(
        self,
        library: db.Library,
        selected_ids: Callable[[], list[int]],
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self.library = library
        self._selected_ids = selected_ids
        self._window = window
        self._server = QTcpServer(self)
        self._server.newConnection.connect(self._on_server_new_connection)
        self._exchanges: set[_Exchange] = set()
        self._pick: _Pick | None = None
        self._picker: CitationPicker | None = None
        #: The port listened on (None: not listening).
        self.port: int | None = None

    # -- what the window and tests use -------------------------------------------------------------

    @property
    def picker(self) -> CitationPicker:
        """The picker window (made the first time it is asked for, then reused)."""
        if self._picker is None:
            self._picker = CitationPicker(self.library)
            self._picker.picked.connect(self._on_picker_picked)
        return self._picker

    def picking(self) -> bool:
        return self._pick is not None

    def start(self, port: int | None) -> str:
        """Listen on loopback at ``port`` (or the next free of the ten after it); what to
        tell the person about it ("" when it went as asked). None: stay off."""
        self.stop()
        if port is None:
            return ""
        last = port if port == 0 else min(port + FALLBACK_PORTS, 65535)
        candidates = list(range(port, last + 1))
        for candidate in candidates:
            if self._server.listen(QHostAddress(QHostAddress.SpecialAddress.LocalHost), candidate):
                self.port = self._server.serverPort()
                break
            log.info("cayw: port %d: %s", candidate, self._server.errorString())
        if self.port is None:
            return (
                f"Cite as you write is off: ports {candidates[0]}–{candidates[-1]} are all taken."
            )
        if port and self.port != port:
            return (
                f"Port {port} is taken (by Zotero or JabRef?); cite as you write listens on "
                f"port {self.port}."
            )
        return ""

    def stop(self) -> None:
        """Stop listening; a pick under way is cancelled (its editor gets an empty answer)."""
        if self._picker is not None:
            if self._picker.isVisible():
                self._picker.reject()
            self._picker.deleteLater()  # a window of its own: nothing else would delete it
            self._picker = None
        self._server.close()
        self.port = None
        for exchange in list(self._exchanges):
            if not exchange.handled:
                exchange.socket.abort()

    def pick_to_clipboard(self) -> None:
        """The window's Quick Cite: pick papers and copy ``\\cite{…}`` for them."""
        if self._pick is not None:
            self._bring_up()
            return
        self._pick = _Pick(None, {"clipboard": "1"})
        self._open_picker()

    # -- connections -------------------------------------------------------------------------------

    def _on_server_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            exchange = _Exchange(socket)
            self._exchanges.add(exchange)
            socket.disconnected.connect(lambda e=exchange: self._on_socket_disconnected(e))
            socket.readyRead.connect(lambda e=exchange: self._on_socket_ready_read(e))
            timer = QTimer(socket)
            timer.setSingleShot(True)
            timer.timeout.connect(lambda e=exchange: self._on_exchange_timeout(e))
            timer.start(REQUEST_TIMEOUT_MS)
            if not socket.peerAddress().isLoopback():
                self._respond(exchange, 403, "only programs on this computer may ask")
            elif socket.bytesAvailable():
                self._on_socket_ready_read(exchange)

    def _on_socket_disconnected(self, exchange: _Exchange) -> None:
        exchange.open = False
        self._exchanges.discard(exchange)
        exchange.socket.deleteLater()

    def _on_exchange_timeout(self, exchange: _Exchange) -> None:
        if not exchange.handled and exchange.open:
            exchange.socket.abort()

    def _on_socket_ready_read(self, exchange: _Exchange) -> None:
        if exchange.handled or not exchange.open:
            return
        exchange.buffer += exchange.socket.readAll().data()
        end = exchange.buffer.find(b"\r\n\r\n")
        if end < 0:
            end = exchange.buffer.find(b"\n\n")
        if end < 0:
            if len(exchange.buffer) > MAX_HEAD_BYTES:
                self._respond(exchange, 431, "the request's headers are too long")
            return
        exchange.handled = True
        request = parse_head(bytes(exchange.buffer[:end]))
        if request is None:
            self._respond(exchange, 400, "not an HTTP/1 request")
            return
        self._handle(exchange, request)

    def _handle(self, exchange: _Exchange, request: Request) -> None:
        why = refusal(request)
        if why:
            self._respond(exchange, 403, why)
        elif request.method != "GET":
            self._respond(exchange, 405, f"{request.method} is not served here; use GET")
        elif request.path.rstrip("/") != PATH:
            self._respond(exchange, 404, f"nothing at {request.path}; cite as you write is {PATH}")
        elif truthy(request.params.get("probe")):
            self._respond(exchange, 200, "ready")
        else:
            self._cite(exchange, request.params)

    def _cite(self, exchange: _Exchange, params: dict[str, str]) -> None:
        try:
            check_format(params)
        except UnknownFormatError as exc:
            self._respond(exchange, 400, str(exc))
            return
        if truthy(params.get("selected")):
            ids = self._selected_ids()
            rows = self.library.rows(ids)
            self._answer(exchange, params, [rows[i].key for i in ids if i in rows])
            return
        if self._pick is not None:
            current = self._pick.exchange
            if current is None or current.open:
                self._respond(exchange, 409, BUSY)
                return
            self._pick = _Pick(exchange, params)  # its editor gave up: this one takes over
            self._bring_up()
            return
        self._pick = _Pick(exchange, params)
        self._open_picker()

    def _open_picker(self) -> None:
        self.picker.start()
        self.pick_opened.emit()

    def _bring_up(self) -> None:
        self.picker.show()
        self.picker.raise_()
        self.picker.activateWindow()

    def _on_picker_picked(self, keys: list[str]) -> None:
        pick, self._pick = self._pick, None
        if pick is None:
            return
        self.picker.hide()
        if pick.exchange is None:  # Quick Cite
            if keys:
                text, _ = format_citation(keys, {}, self.library)
                QGuiApplication.clipboard().setText(text)
                self.notice.emit(f"Copied {text}")
            return
        self._answer(pick.exchange, pick.params, keys)

    def _answer(self, exchange: _Exchange, params: dict[str, str], keys: list[str]) -> None:
        if not keys:
            self._respond(exchange, 200, "")
            return
        try:
            body, content_type = format_citation(keys, params, self.library)
        except UnknownFormatError as exc:
            self._respond(exchange, 400, str(exc))
            return
        except Exception as exc:  # a bug: the editor hears of it, the log keeps the trace
            log.exception("cayw: formatting %s failed", keys)
            self._respond(exchange, 500, f"Citedesk could not write the citation: {exc}")
            return
        if truthy(params.get("clipboard")):
            QGuiApplication.clipboard().setText(body)
        if truthy(params.get("minimize")):
            self._window.showMinimized()
        self._respond(exchange, 200, body, content_type)

    def _respond(
        self, exchange: _Exchange, status: int, body: str, content_type: str = TEXT
    ) -> None:
        exchange.handled = True
        if not exchange.open:
            return
        data = body.encode("utf-8")
        head = (
            f"HTTP/1.1 {status} {REASONS[status]}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(data)}\r\n"
            "Connection: close\r\n"
            "Cache-Control: no-store\r\n"
        )
        if status == 405:
            head += "Allow: GET\r\n"
        socket = exchange.socket
        socket.write(head.encode("latin-1") + b"\r\n" + data)
        socket.flush()
        if socket.state() == QAbstractSocket.SocketState.ConnectedState:
            socket.disconnectFromHost()  # once everything is written
