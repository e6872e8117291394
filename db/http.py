"""HTTP for lookups: one polite client that turns every way a request can go wrong into one
line naming the source.

Metadata services are other people's servers, and their trackers show what breaks: a
source that stalls, answers 429, loops on redirects, sends half an answer or 50 MB of it.
:class:`Http` wraps httpx with what every lookup needs:

- a User-Agent with a contact address (Crossref's etiquette; arXiv asks the same);
- proxies from the environment (``HTTPS_PROXY``, ``NO_PROXY``), never for loopback;
- a :class:`Gate` per source: at most N requests at once and at least T seconds between two
  (arXiv's terms: one request every 3 s);
- ``429``/``503`` with a short ``Retry-After`` waited out (up to :data:`MAX_RETRY_WAIT`),
  longer ones reported;
- timeouts per phase, a cap on the answer's size read while streaming, cancellation between
  chunks and during waits;
- a response cache read through ``cache_get`` and filled into :attr:`Http.fresh` (written by
  the library's owner afterwards, on its own connection, see ``Library.save_lookup_cache``).

Everything it raises is a :class:`SourceError` whose text reads well in a status bar.
"""

from __future__ import annotations

import email.utils
import functools
import socket
import ssl
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from .errors import LibraryError

#: Who we are, and how to reach the person running it; ``{contact}`` is the user's address.
USER_AGENT = "Citedesk/0.1 (https://github.com/citedesk/citedesk; mailto:{contact})"
DEFAULT_CONTACT = "citedesk@users.noreply.github.com"

#: The largest answer read: metadata is kilobytes; an arXiv page of 100 results ~300 kB.
MAX_BYTES = 5 * 1024 * 1024
#: The longest ``Retry-After`` waited out in place; longer ones are reported instead.
MAX_RETRY_WAIT = 20.0
#: How often a ``429``/``503`` is retried after waiting.
RETRIES = 2
#: Seconds to connect, and to wait for each part of an answer.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0


class SourceError(LibraryError):
    """A lookup failed; the message is one line that names the source."""

    def __init__(self, source: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.status = status


class Cancelled(LibraryError):
    """The person stopped the lookup."""

    def __init__(self) -> None:
        super().__init__("lookup stopped")


@dataclass(frozen=True)
class Response:
    """An answer read whole (it was small enough)."""

    url: str
    status: int
    content_type: str
    content: bytes
    #: The ``Retry-After`` header of a 429 or 503.
    retry_after: str = ""

    @property
    def text(self) -> str:
        """The body as text: the declared charset when the bytes agree with it, else UTF-8,
        else Windows-1252 (the usual truth behind a wrong ``charset=utf-8``)."""
        charset = _charset(self.content_type)
        for encoding in dict.fromkeys([charset, "utf-8"]):
            if not encoding:
                continue
            try:
                return self.content.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
        return self.content.decode("cp1252", errors="replace")


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return ""


class _Stream(httpcore.NetworkStream):
    """A connection whose socket :class:`_Sockets` can shut from another thread."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, timeout)

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        self.inner = self.inner.start_tls(ssl_context, server_hostname, timeout)
        return self

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)

    def hang_up(self) -> None:
        sock = self.inner.get_extra_info("socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # a read blocked in another thread ends
            except OSError:
                pass


class _Sockets(httpcore.SyncBackend):
    """httpcore's network backend, remembering its connections so that a cancel can hang
    up on a server that stalls before its headers (no response exists yet to close)."""

    def __init__(self) -> None:
        self.streams: weakref.WeakSet[_Stream] = weakref.WeakSet()
        self.lock = threading.Lock()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = _Stream(super().connect_tcp(host, port, timeout, local_address, socket_options))
        with self.lock:
            self.streams.add(stream)
        return stream

    def hang_up(self) -> None:
        with self.lock:
            streams = list(self.streams)
        for stream in streams:
            stream.hang_up()


def _transport(context: ssl.SSLContext, sockets: _Sockets) -> Any:
    transport = httpx.HTTPTransport(verify=context, retries=0)
    pool = getattr(transport, "_pool", None)
    # httpx takes no network backend; its pool keeps one (httpcore 1.x). Without it, a
    # cancel waits for the read timeout instead.
    if pool is not None and hasattr(pool, "_network_backend"):
        pool._network_backend = sockets
    return transport


class Gate:
    """At most ``concurrency`` requests to one host at once, ``interval`` seconds apart."""

    def __init__(self, concurrency: int = 4, interval: float = 0.0) -> None:
        self.concurrency = concurrency
        self.interval = interval
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._next = 0.0  # monotonic time the next request may start

    def enter(self, cancel: threading.Event) -> None:
        while not self._slots.acquire(timeout=0.1):
            if cancel.is_set():
                raise Cancelled
        try:
            if self.interval > 0:
                with self._lock:
                    start = max(time.monotonic(), self._next)
                    self._next = start + self.interval
                wait = start - time.monotonic()
                if wait > 0 and cancel.wait(wait):
                    raise Cancelled
        except BaseException:
            self._slots.release()
            raise

    def leave(self) -> None:
        if self.interval > 0:
            # Counted from the end of this request, not only its start: the server sees
            # requests at least ``interval`` apart even when this one was slow to connect
            # (arXiv's rule is about what reaches it).
            with self._lock:
                self._next = max(self._next, time.monotonic() + self.interval)
        self._slots.release()

    def hold_off(self, seconds: float) -> None:
        """The host said to wait (``Retry-After``): no one starts before then."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


#: What a cached answer is: (status, content type, body), or None.
CacheGet = Callable[[str, str, float], "tuple[int, str, bytes] | None"]


@dataclass
class CachedAnswer:
    url: str
    accept: str
    status: int
    content_type: str
    body: bytes


@dataclass
class Http:
    """One lookup session's client (thread-safe: lookups run in a few threads).

    ``gates`` maps a source (``"arXiv"``) to its :class:`Gate`, whatever host serves it
    (a mirror, a test server); sources not in it get a gate of 4.
    ``cache_get(url, accept, max_age)`` answers from the library's cache; answers fetched
    are added to :attr:`fresh` for the caller to keep.
    """

    contact: str = DEFAULT_CONTACT
    gates: dict[str, Gate] = field(default_factory=dict)
    cache_get: CacheGet | None = None
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    max_bytes: int = MAX_BYTES
    cancel: threading.Event = field(default_factory=threading.Event)
    fresh: list[CachedAnswer] = field(default_factory=list)
    _open: set[httpx.Response] = field(default_factory=set, repr=False)
    _sockets: _Sockets = field(default_factory=_Sockets, repr=False)
    _client: httpx.Client | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def user_agent(self) -> str:
        return USER_AGENT.format(contact=self.contact or DEFAULT_CONTACT)

    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                context = _ssl_context()
                direct = _transport(context, self._sockets)
                self._client = httpx.Client(
                    # Proxies from the environment (HTTPS_PROXY, NO_PROXY) get httpx's own
                    # transports (trust_env); everything else goes through ours.
                    transport=_transport(context, self._sockets),
                    headers={"User-Agent": self.user_agent},
                    timeout=httpx.Timeout(self.read_timeout, connect=self.connect_timeout),
                    follow_redirects=True,
                    max_redirects=8,
                    trust_env=True,
                    limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
                    # Loopback (tests, a local mirror) never goes through a proxy.
                    mounts={
                        "all://127.0.0.1": direct,
                        "all://localhost": direct,
                        "all://[::1]": direct,
                    },
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def gate(self, source: str) -> Gate:
        with self._lock:
            gate = self.gates.get(source)
            if gate is None:
                gate = self.gates[source] = Gate()
            return gate

    def get(
        self,
        source: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        accept: str = "*/*",
        max_age: float = 30 * 86400.0,
        ok: tuple[int, ...] = (200,),
    ) -> Response:
        """GET ``url`` and read the answer whole, or raise SourceError naming ``source``.

        Statuses in ``ok`` are answered (404 is one where "not found" is an answer); any
        other status is an error. ``max_age`` 0 skips the cache (a refresh).
        """
        if params:
            url = str(httpx.URL(url, params=dict(params)))
        if self.cancel.is_set():
            raise Cancelled
        if self.cache_get is not None and max_age > 0:
            hit = self.cache_get(url, accept, max_age)
            if hit is not None and hit[0] in ok:
                return Response(url, hit[0], hit[1], hit[2])
        gate = self.gate(source)
        for attempt in range(RETRIES + 1):
            gate.enter(self.cancel)
            try:
                response = self._fetch(source, url, accept)
            finally:
                gate.leave()
            if response.status in (429, 503):
                wait = _retry_after(response, default=2.0 * (attempt + 1))
                gate.hold_off(wait)
                if attempt < RETRIES and wait <= min(MAX_RETRY_WAIT, self.read_timeout):
                    if self.cancel.wait(wait):
                        raise Cancelled
                    continue
                raise SourceError(
                    source,
                    f"too many requests: the server asks to wait {wait:.0f} s "
                    f"({response.status}); try again later",
                    response.status,
                )
            break
        if response.status not in ok:
            raise SourceError(source, _status_text(response), response.status)
        if response.status in (200, 404) and self.cache_get is not None:
            with self._lock:
                self.fresh.append(
                    CachedAnswer(
                        url, accept, response.status, response.content_type, response.content
                    )
                )
        return response

    def _fetch(self, source: str, url: str, accept: str) -> Response:
        # The whole answer within twice the read timeout: a server dripping a byte a
        # second never trips the timeout between two reads.
        deadline = time.monotonic() + self.connect_timeout + 2 * self.read_timeout
        try:
            with self.client().stream(
                "GET", url, headers={"Accept": accept, "Accept-Encoding": "gzip"}
            ) as r:
                with self._lock:
                    self._open.add(r)
                try:
                    return self._read(source, r, deadline)
                finally:
                    with self._lock:
                        self._open.discard(r)
        except (Cancelled, SourceError):
            raise
        except (httpx.HTTPError, OSError, RuntimeError) as exc:
            if self.cancel.is_set():
                raise Cancelled from None  # abort() closed the connection under it
            if isinstance(exc, httpx.HTTPError):
                raise SourceError(source, self._problem(exc, url)) from None
            raise SourceError(source, f"the connection failed: {_reason(exc)}") from None

    def _read(self, source: str, r: httpx.Response, deadline: float) -> Response:
        """The body, inflated here rather than by httpx: a 60 KB gzip bomb inflating to
        60 MB is cut off at :attr:`max_bytes` instead of being inflated whole first."""
        declared = r.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise SourceError(source, _too_big(int(declared)), r.status_code)
        encoding = r.headers.get("content-encoding", "identity").strip().lower()
        inflate: Any = None
        if encoding in ("gzip", "x-gzip"):
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            inflate = zlib.decompressobj()
        elif encoding not in ("identity", ""):
            raise SourceError(
                source, f"the answer is encoded as {encoding!r}, which we did not ask"
            )
        chunks: list[bytes] = []
        size = 0
        for raw in r.iter_raw(65536):
            if self.cancel.is_set():
                raise Cancelled
            if time.monotonic() > deadline:
                limit = self.connect_timeout + 2 * self.read_timeout
                raise SourceError(source, f"the answer took over {limit:g} s (far too slow)")
            data = raw
            while inflate is not None and data:
                try:
                    part = inflate.decompress(data, self.max_bytes + 1 - size)
                except zlib.error as exc:
                    raise SourceError(source, f"the answer could not be decoded: {exc}") from None
                size += len(part)
                chunks.append(part)
                if size > self.max_bytes:
                    raise SourceError(source, _too_big(size, more=True), r.status_code)
                data = inflate.unconsumed_tail
            if inflate is None:
                size += len(raw)
                chunks.append(raw)
            if size > self.max_bytes:
                raise SourceError(source, _too_big(size, more=True), r.status_code)
        return Response(
            str(r.url),
            r.status_code,
            r.headers.get("content-type", ""),
            b"".join(chunks),
            retry_after=r.headers.get("retry-after", ""),
        )

    def abort(self) -> None:
        """Cancel, and close the connections of the requests under way (from any thread):
        a stalled server is left at once instead of at its timeout."""
        self.cancel.set()
        with self._lock:
            open_now = list(self._open)
        for r in open_now:
            try:
                r.close()
            except Exception:  # noqa: BLE001 - closing under another thread's read
                pass
        # A request still waiting for its headers has no response to close: its socket
        # is shut, and its read ends.
        self._sockets.hang_up()

    def _problem(self, exc: httpx.HTTPError, url: str) -> str:
        """What went wrong, in words (timeouts name the limit; loops say so)."""
        if isinstance(exc, httpx.TooManyRedirects):
            return "too many redirects (the server sends us round in a loop)"
        if isinstance(exc, httpx.ConnectTimeout):
            return f"no connection within {self.connect_timeout:g} s (offline?)"
        if isinstance(exc, httpx.TimeoutException):
            return f"no answer within {self.read_timeout:g} s (the server stalled)"
        if isinstance(exc, httpx.ConnectError):
            return f"cannot connect to {_host(url)} (offline?): {_reason(exc)}"
        if isinstance(exc, httpx.RemoteProtocolError):
            return f"the answer broke off before its end: {_reason(exc)}"
        if isinstance(exc, httpx.DecodingError):
            return f"the answer could not be decoded: {_reason(exc)}"
        return f"{type(exc).__name__}: {_reason(exc)}"


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """The certificates, loaded once a process: loading them takes ~25 ms, which a new
    client per lookup would pay every time."""
    return httpx.create_ssl_context()


def _retry_after(response: Response, default: float) -> float:
    """Seconds a ``Retry-After`` asks for (a number or an HTTP date), else ``default``."""
    value = response.retry_after.strip()
    if not value:
        return default
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def _status_text(response: Response) -> str:
    if response.status == 404:
        return "not found (404)"
    if response.status == 400:
        return "the server calls the request malformed (400)"
    if 500 <= response.status < 600:
        return f"the server failed ({response.status}); try again later"
    return f"unexpected answer {response.status}"


def _too_big(size: int, more: bool = False) -> str:
    mb = size / (1024 * 1024)
    return f"the answer is {'over ' if more else ''}{mb:.0f} MB, far more than metadata; not read"


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def json_of(source: str, response: Response) -> Any:
    """The answer's JSON, or a SourceError saying it is not JSON."""
    import json

    try:
        return json.loads(response.text)
    except (ValueError, RecursionError) as exc:
        raise SourceError(source, f"the answer is not valid JSON ({_reason(exc)})") from None
