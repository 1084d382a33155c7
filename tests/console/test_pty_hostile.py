"""A buyer and a teammate try to drive the seller's terminal: the real console in tmux.

The console runs in a real terminal (tmux) against a real relay and sandbox
(tests/console/pty_console.py). Through them come a buyer's message and file name, a post
title, and a teammate's note and presence, each carrying terminal escape sequences (OSC 52
clipboard write, OSC 2 window title, OSC 8 hyperlink, CSI 2J clear screen), their one-byte C1
forms, bidi overrides and Textual markup. Every byte the console writes to the terminal is
recorded (tmux pipe-pane): none of those sequences may be in it, the console must still be
running, and the words around them must be readable on the screen.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from kenar_tui.link.relay_link import RelayLink
from kenar_tui.sandbox.catalogue import POSTS
from kenar_tui.sandbox.control import SandboxControl

ROOT = Path(__file__).resolve().parents[2]
COLS, ROWS = 80, 24  # the narrowest terminal the console supports
ESC = "\x1b"
OSC52 = f"{ESC}]52;c;cHduZWQ={ESC}\\"  # base64 "pwned": would land in the clipboard
OSC2 = f"{ESC}]2;PWNED-TITLE\x07"
OSC8 = f"{ESC}]8;;file:///etc/passwd{ESC}\\link{ESC}]8;;{ESC}\\"
CSI_CLEAR = f"{ESC}[2J{ESC}[3J"
C1 = "\x9b2J\x9d2;C1-TITLE\x9c"
BIDI = "\u202egpj.exe\u202c \u2066iso\u2069"
MARKUP = "[/] [@click=app.quit]quit[/] [b]bold"
HOSTILE = f"{OSC52}{OSC2}{OSC8}{CSI_CLEAR}{C1}{BIDI} {MARKUP}"
# Bytes that may never come from the content (the console's own drawing uses plain CSI).
FORBIDDEN = {
    "OSC 52": b"\x1b]52;",
    "OSC 2 title": b"PWNED-TITLE\x07",
    "OSC 2": b"\x1b]2;",
    "OSC 8 file link": b"\x1b]8;;file:",
    "CSI 3J": b"\x1b[3J",
    "C1 CSI": "\x9b".encode(),
    "C1 OSC": "\x9d".encode(),
    "C1 ST": "\x9c".encode(),
    "RLO": "\u202e".encode(),
    "LRI": "\u2066".encode(),
}


class Tmux:
    """One tmux server of our own (its own socket), one window running the console."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "console")

    def alive(self) -> bool:
        return self.run("display-message", "-p", "-t", "console", "#{pane_dead}").strip() == "0"

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", "console", *(["-l"] if literal else []), *keys)


def eventually(check: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Poll `check` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def until(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll `check` until it holds; fail naming `what` after `timeout` seconds."""
    if not eventually(check, timeout):
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def console_in_tmux(tmp_path: Path) -> Iterator[tuple[Tmux, Path, Path]]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed to run the console in a real terminal (apt-get install tmux)")
    tmux = Tmux(f"kenar-test-{uuid.uuid4().hex[:8]}")
    info, raw, data = tmp_path / "info.json", tmp_path / "raw.bin", tmp_path / "data"
    data.mkdir()
    console = (
        f"env TERM=xterm-256color COLORTERM=truecolor PYTHONPATH={ROOT} "
        f"{sys.executable} -m tests.console.pty_console {info} {data}"
    )
    # The exit status from the shell, not tmux's #{pane_dead_status}: tmux 3.3 can mark the
    # pane dead when its terminal closes and never fill the status in.
    exit_file = info.with_name("exit-status")
    command = f"sh -c {shlex.quote(f'{console}; echo $? > {exit_file}')}"
    tmux.run(
        "new-session", "-d", "-s", "console", "-x", str(COLS), "-y", str(ROWS), "-c", str(ROOT)
    )
    tmux.run("set-option", "-t", "console", "remain-on-exit", "on")
    tmux.run("pipe-pane", "-t", "console", f"cat >> {raw}")  # every byte the program writes
    tmux.run("respawn-pane", "-k", "-t", "console", command)
    try:
        yield tmux, info, raw
    finally:
        tmux.run("kill-server")


async def feed_hostile_content(info: dict[str, str]) -> str:
    """Through the sandbox and the relay: a buyer's text and file, a title, a teammate's note."""
    post = POSTS[0].token
    async with SandboxControl(info["sandbox_url"]) as sandbox:
        sent = await sandbox.inject_message(post_token=post, text=f"buyer-said {HOSTILE} end")
        cid = str(sent["conversation_id"])
        file_data = {
            "link": "https://example.com/f.pdf",
            "name": f"file-name {OSC2}{BIDI}.pdf",
            "size_bytes": 2048,
        }
        await sandbox.inject_message(cid, type="FILE", data={"file_data": file_data})
        await sandbox.flush()
    title_update = {
        "type": "POST_UPDATE",
        "post_update": {
            "type": "EDIT",
            "post": {"token": post, "data": {"title": f"T1 {HOSTILE}"}},
        },
    }
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{info['relay_url']}/events",
            content=json.dumps(title_update),
            headers={
                "Authorization": info["identification_key"],
                "Content-Type": "application/json",
            },
        )
        assert answer.status_code < 300, answer.text
    async with RelayLink(info["relay_ws"], info["teammate_token"], operator="reza") as teammate:
        await asyncio.wait_for(teammate.wait_online(), 30)
        note = {"kind": "note", "conversation_id": cid, "post_token": post}
        await teammate.post({**note, "data": {"text": f"note-from-reza {HOSTILE} end"}})
        await teammate.presence(cid, "viewing")
    return cid


@pytest.mark.timeout(240)
def test_hostile_text_never_reaches_the_terminal_as_control_codes(
    console_in_tmux: tuple[Tmux, Path, Path],
) -> None:
    tmux, info_path, raw = console_in_tmux
    until("the console to start", info_path.exists)
    until("the console to draw its screen", lambda: "Reply" in tmux.screen())
    info = json.loads(info_path.read_text(encoding="utf-8"))
    cid = asyncio.run(feed_hostile_content(info))

    tmux.keys("C-o")
    until("the open-by-id dialog", lambda: "conversation" in tmux.screen().lower())
    tmux.keys(cid, literal=True)
    tmux.keys("Enter")
    # The history follows the newest items; the buyer's first message is read at its top
    # (not from the new-message toast, which is gone after a few seconds).
    newest = ("note-from-reza", "file-name", "T1 ")
    drawn = eventually(lambda: all(marker in tmux.screen() for marker in newest))
    screen = tmux.screen()
    tmux.keys("Escape")  # out of the reply box, into the history

    def at_the_top() -> bool:
        tmux.keys("Home")  # the oldest message (again, should Escape have swallowed it)
        return "buyer-said" in tmux.screen()

    oldest = eventually(at_the_top)
    top = tmux.screen()

    raw_bytes = raw.read_bytes()
    found = {name: seq for name, seq in FORBIDDEN.items() if seq in raw_bytes}
    assert not found, f"escape sequences from the content reached the terminal: {found}"
    assert tmux.alive(), "the console stopped"
    assert drawn, f"the file name, title and note are not all on screen:\n{screen}"
    assert oldest, f"the buyer's text is not at the top of the history:\n{top}"
    assert "␛]52;c;cHduZWQ=" in top and "[@click=app.quit]quit[/]" in top
    # Readable: the sequences are shown as symbols, markup as its characters.
    assert "␛]52;c;cHduZWQ=" in screen
    assert "[@click=app.quit]quit[/]" in screen
    assert "gpj.exe" in screen  # the override is gone, so the name reads as it is stored

    tmux.keys("C-q")
    until("the console to quit", lambda: not tmux.alive())

    exit_file = info_path.with_name("exit-status")
    until("the console's exit status", exit_file.exists)
    status = exit_file.read_text(encoding="utf-8").strip()
    assert status == "0", f"the console exited with {status}"
