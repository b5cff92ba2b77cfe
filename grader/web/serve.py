"""Starting `grader serve`: bind, print the URL with its token (as Jupyter does), serve until Ctrl-C, flush."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from grader.judgement.rubric import Rubric
from grader.store import GRADEBOOK_FILE, Gradebook
from grader.web.app import GradingApp
from grader.web.book import WebBook, WebBookError


@dataclass
class Served:
    app: GradingApp
    url: str  # with the token: what a TA opens
    base: str  # without it
    server: uvicorn.Server


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose proto says
    # TCP, and with Nagle on, a response's body waited for the browser's delayed ACK: 40 ms a save
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def prepare(out: Path, rubric: Rubric, *, host: str = "127.0.0.1", port: int = 0, blind: bool | None = None,
            by: str = "TA", secret_file: Path | None = None) -> tuple[Served, socket.socket]:
    if not (out / GRADEBOOK_FILE).is_file():
        raise WebBookError(f"{out} has no {GRADEBOOK_FILE}: grade the submissions into it first (grader grade)")
    if blind is not None:
        with Gradebook(out / GRADEBOOK_FILE) as book:
            WebBook(book, rubric).set_blind(blind, by)
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    app = GradingApp(out, rubric, host=host, port=port, default_ta=by, secret_file=secret_file)
    config = uvicorn.Config(app.build(), log_level="warning", access_log=False, lifespan="off")
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    return Served(app, f"{base}/?token={app.keys.token}", base, uvicorn.Server(config)), sock


def serve(out: Path, rubric: Rubric, *, say: Callable[[str], None], **options: object) -> None:
    """Run until interrupted; the class exports are brought up to date before it returns."""
    served, sock = prepare(out, rubric, **options)  # type: ignore[arg-type]
    say(f"grading {rubric.id} in {out}; open this URL (it holds the access token):\n\n    {served.url}\n")
    say("Press Ctrl-C to stop.")
    sys.stdout.flush()  # the URL must reach a log file or a pipe now, not when the server stops
    try:
        served.server.run(sockets=[sock])
    finally:
        sock.close()
        served.app.close()


@contextlib.contextmanager
def running(out: Path, rubric: Rubric, **options: object) -> Iterator[Served]:
    """A server in a background thread, for tests and benchmarks; stopped and flushed on exit."""
    served, sock = prepare(out, rubric, **options)  # type: ignore[arg-type]
    thread = threading.Thread(target=served.server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not served.server.started:
            if not thread.is_alive():
                raise RuntimeError("the server did not start")
            thread.join(0.01)
        yield served
    finally:
        served.server.should_exit = True
        thread.join(30)
        sock.close()
        served.app.close()
