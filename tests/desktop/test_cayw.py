"""Cite as you write (desktop/cayw.py, desktop/picker.py): Better BibTeX's ``cayw`` requests
answered by the real window, an HTTP client in a thread while qtbot drives the picker."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from citedesk import cayw
from citedesk.actions import ActionId
from citedesk.cayw import BUSY, PATH, PORT_ENV

#: Long enough for a loaded machine; the picker and the server answer in milliseconds.
WAIT_MS = 5000


class Ask(threading.Thread):
    """One HTTP request to the window's server, made in a thread (it waits for the pick)."""

    def __init__(
        self, port: int, query: str = "", headers: dict[str, str] | None = None, **kw: str
    ) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.target = kw.get("path", PATH) + (f"?{query}" if query else "")
        self.method = kw.get("method", "GET")
        self.headers = headers or {}
        self.status: int | None = None
        self.body = ""
        self.content_type = ""
        self.error: BaseException | None = None
        self.seconds = 0.0

    def run(self) -> None:
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            conn.request(self.method, self.target, headers=self.headers)
            response = conn.getresponse()
            self.body = response.read().decode("utf-8")
            self.content_type = response.getheader("Content-Type", "")
            self.status = response.status
            conn.close()
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc
        self.seconds = time.perf_counter() - started

    @property
    def done(self) -> bool:
        return self.status is not None or self.error is not None


def ask(qtbot, window, query: str = "", **kw) -> Ask:
    """Make the request and wait for its answer."""
    request = Ask(window.cayw.port, query, **kw)
    request.start()
    qtbot.waitUntil(lambda: request.done, timeout=WAIT_MS)
    assert request.error is None, request.error
    return request


def ask_and_pick(qtbot, window, query: str, keys: list[str], finish: str = "ctrl-enter") -> Ask:
    """Make a request, pick ``keys`` by typing and Enter in the picker, and wait for it."""
    request = Ask(window.cayw.port, query)
    request.start()
    picker = window.cayw.picker
    qtbot.waitUntil(picker.isVisible, timeout=WAIT_MS)
    for n, key in enumerate(keys):
        qtbot.keyClicks(picker.search_box, f"key:{key}")
        assert picker.matches.currentItem().data(Qt.ItemDataRole.UserRole) == key
        last = n == len(keys) - 1
        if last and finish == "ctrl-enter":
            qtbot.keyClick(
                picker.search_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
            )
        else:
            qtbot.keyClick(picker.search_box, Qt.Key.Key_Return)
    if finish == "enter":
        qtbot.keyClick(picker.search_box, Qt.Key.Key_Return)  # on the emptied box: cite
    qtbot.waitUntil(lambda: request.done, timeout=WAIT_MS)
    assert request.error is None, request.error
    return request


@pytest.fixture(autouse=True)
def any_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PORT_ENV, "0")


@pytest.fixture
def keys(window) -> list[str]:
    ids = window.library.paper_ids()[:2]
    rows = window.library.rows(ids)
    return [rows[i].key for i in ids]


def test_the_server_listens_on_loopback_while_the_window_runs(window):
    assert window.cayw.port
    with socket.create_connection(("127.0.0.1", window.cayw.port), timeout=5):
        pass


def test_probe_answers_ready_at_once(qtbot, window):
    request = ask(qtbot, window, "probe=1")
    assert (request.status, request.body) == (200, "ready")
    assert request.content_type.startswith("text/plain")
    assert request.seconds < 1.0
    assert ask(qtbot, window, "probe=true").body == "ready"
    assert not window.cayw.picker.isVisible()


def test_two_papers_picked_with_the_keyboard_are_cited_for_latex(qtbot, window, keys):
    request = ask_and_pick(qtbot, window, "", keys, finish="enter")
    assert (request.status, request.body) == (200, f"\\cite{{{keys[0]},{keys[1]}}}")
    assert not window.cayw.picker.isVisible()


def test_ctrl_enter_adds_the_match_and_cites(qtbot, window, keys):
    request = ask_and_pick(qtbot, window, "format=latex", keys, finish="ctrl-enter")
    assert request.body == f"\\cite{{{keys[0]},{keys[1]}}}"


def test_pandoc_with_brackets(qtbot, window, keys):
    request = ask_and_pick(qtbot, window, "format=pandoc&brackets=1", keys)
    assert request.body == f"[@{keys[0]}; @{keys[1]}]"


def test_pandoc_without_brackets(qtbot, window, keys):
    assert ask_and_pick(qtbot, window, "format=pandoc", keys).body == f"@{keys[0]}; @{keys[1]}"


def test_biblatex_autocites(qtbot, window, keys):
    request = ask_and_pick(qtbot, window, "format=biblatex", keys)
    assert request.body == f"\\autocite{{{keys[0]},{keys[1]}}}"


def test_command_names_the_latex_command(qtbot, window, keys):
    request = ask_and_pick(qtbot, window, "format=natbib&command=citet", keys)
    assert request.body == f"\\citet{{{keys[0]},{keys[1]}}}"
    request = ask_and_pick(qtbot, window, "format=biblatex&command=textcite", keys[:1])
    assert request.body == f"\\textcite{{{keys[0]}}}"


def test_clipboard_gets_the_citation_too(qtbot, window, keys):
    QGuiApplication.clipboard().clear()
    request = ask_and_pick(qtbot, window, "clipboard=1", keys[:1])
    assert QGuiApplication.clipboard().text() == request.body == f"\\cite{{{keys[0]}}}"


def test_escape_cancels_with_an_empty_answer(qtbot, window):
    request = Ask(window.cayw.port)
    request.start()
    picker = window.cayw.picker
    qtbot.waitUntil(picker.isVisible, timeout=WAIT_MS)
    qtbot.keyClicks(picker.search_box, "transformer")
    qtbot.keyClick(picker.search_box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: request.done, timeout=WAIT_MS)
    assert (request.status, request.body) == (200, "")
    assert not picker.isVisible()


def test_backspace_in_the_empty_box_takes_the_last_pick_back(qtbot, window, keys):
    request = Ask(window.cayw.port)
    request.start()
    picker = window.cayw.picker
    qtbot.waitUntil(picker.isVisible, timeout=WAIT_MS)
    for key in keys:
        qtbot.keyClicks(picker.search_box, f"key:{key}")
        qtbot.keyClick(picker.search_box, Qt.Key.Key_Return)
    qtbot.keyClick(picker.search_box, Qt.Key.Key_Backspace)
    qtbot.keyClick(picker.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: request.done, timeout=WAIT_MS)
    assert request.body == f"\\cite{{{keys[0]}}}"


def test_selected_cites_the_window_selection_without_a_picker(qtbot, window):
    ids = window.library.paper_ids()[2:4]
    window.table.select_papers(ids, ids[0])
    rows = window.library.rows(ids)
    expected = ",".join(rows[i].key for i in window.selected_ids())
    request = ask(qtbot, window, "selected=1&format=cite")
    assert (request.status, request.body) == (200, f"\\cite{{{expected}}}")
    assert not window.cayw.picking()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/page"},
        {"Referer": "HTTPS://evil.example/page"},
        {"Host": "evil.example:23119"},
    ],
)
def test_requests_from_web_pages_are_refused(qtbot, window, headers):
    request = ask(qtbot, window, "", headers=headers)
    assert request.status == 403
    assert request.body and "\n" not in request.body
    assert not window.cayw.picking()


def test_other_paths_and_methods(qtbot, window):
    assert ask(qtbot, window, "", path="/connector/ping").status == 404
    assert ask(qtbot, window, "probe=1", method="POST").status == 405


def test_unknown_format_is_refused_before_any_pick(qtbot, window):
    request = ask(qtbot, window, "format=klingon")
    assert request.status == 400
    assert "klingon" in request.body and "\n" not in request.body
    assert not window.cayw.picking()


def test_probe_answers_while_a_picker_is_open_and_a_second_pick_waits_its_turn(qtbot, window, keys):
    first = Ask(window.cayw.port)
    first.start()
    picker = window.cayw.picker
    qtbot.waitUntil(picker.isVisible, timeout=WAIT_MS)
    assert ask(qtbot, window, "probe=1").body == "ready"
    second = ask(qtbot, window, "format=pandoc")
    assert (second.status, second.body) == (409, BUSY)
    assert not first.done
    qtbot.keyClicks(picker.search_box, f"key:{keys[0]}")
    qtbot.keyClick(picker.search_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: first.done, timeout=WAIT_MS)
    assert first.body == f"\\cite{{{keys[0]}}}"


def test_a_taken_port_falls_back_to_the_next_and_says_so(open_window, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        monkeypatch.setenv(PORT_ENV, str(busy))
        window = open_window()
        port = window.cayw.port
        assert port is not None and busy < port <= busy + 10
        message = window.status_bar.currentMessage()
        assert f"Port {busy} is taken" in message and str(port) in message


def test_quick_cite_copies_what_was_picked(qtbot, window, keys):
    QGuiApplication.clipboard().clear()
    window.action(ActionId.QUICK_CITE).trigger()
    picker = window.cayw.picker
    qtbot.waitUntil(picker.isVisible, timeout=WAIT_MS)
    qtbot.keyClicks(picker.search_box, f"key:{keys[1]}")
    qtbot.keyClick(picker.search_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == f"\\cite{{{keys[1]}}}"


def test_closing_the_window_answers_a_waiting_editor(qtbot, window):
    request = Ask(window.cayw.port)
    request.start()
    qtbot.waitUntil(window.cayw.picker.isVisible, timeout=WAIT_MS)
    window.close()
    qtbot.waitUntil(lambda: request.done, timeout=WAIT_MS)
    assert (request.status, request.body) == (200, "")


def test_json_answers_csl_items_as_json(qtbot, window, keys):
    request = ask_and_pick(qtbot, window, "format=json", keys)
    assert request.content_type.startswith("application/json")
    items = json.loads(request.body)
    assert [item.get("citation-key", item.get("id")) for item in items] == keys


def test_translate_answers_the_bibtex_of_the_picked_papers(qtbot, window, keys):
    pytest.importorskip("citedesk.db.cite")
    request = ask_and_pick(qtbot, window, "format=translate", keys)
    assert request.status == 200
    assert all(f"{{{key}," in request.body for key in keys)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("format=latex", "\\cite{a,b}"),
        ("format=citep", "\\citep{a,b}"),
        ("format=citet", "\\citet{a,b}"),
        ("format=biblatex&command=textcite", "\\textcite{a,b}"),
        ("format=pandoc", "@a; @b"),
        ("format=pandoc&brackets=true", "[@a; @b]"),
    ],
)
def test_format_citation_writes_the_common_formats_with_or_without_db_cite(
    monkeypatch, query, expected
):
    params = dict(part.split("=") for part in query.split("&"))
    assert cayw.format_citation(["a", "b"], params)[0] == expected
    monkeypatch.setattr(cayw, "_cite_module", lambda: None)  # before db/cite.py
    assert cayw.format_citation(["a", "b"], params)[0] == expected
