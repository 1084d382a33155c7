"""docs/getting-started.md, followed as written: every block marked `run=` runs as the page says.

The page's fenced blocks carry what to do with them in their info string:

    ```sh run="background" ready="url="   keeps running (its own terminal); ready once the file
                                           it `tee`s into holds `ready`
    ```sh run="step"                      runs to the end, must exit 0
    ```sh run="browser"                   prints an address to open in a browser: the test
                                           opens it (as a browser would, following redirects)
    ```sh run="console"                   the console, in a real terminal (tmux)

Everything runs as real processes on loopback, in a temporary HOME with its own XDG folders and
a file keyring named by PYTHON_KEYRING_BACKEND (keyrings.alt's plain file: the test has no one
to type a passphrase). The end state: the buyer's message reached the console through the
relay, and the reply typed in the console reached the sandbox, once.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fixtures.binaries import require_binary

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "getting-started.md"
BLOCK = re.compile(
    r'^```sh run="(?P<kind>\w+)"(?: ready="(?P<ready>[^"]*)")?\n(?P<body>.*?)^```$',
    re.MULTILINE | re.DOTALL,
)
REPLY = "سلام، بله هنوز هست. (قیمت قطعی است)"
TYPED = f"{len(REPLY)}/4,096"  # the count under the reply box once the text is in it
COLS, ROWS = 160, 48

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@dataclass(frozen=True)
class Block:
    kind: str
    body: str
    ready: str | None


def blocks() -> list[Block]:
    text = DOC.read_text(encoding="utf-8")
    return [Block(m["kind"], m["body"], m["ready"]) for m in BLOCK.finditer(text)]


def until(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll `check` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def isolated_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and not k.startswith(("KENAR_", "XDG_"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        # The installed kenar-tui and kenar-relay of the Python running the tests, first.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        TERM="xterm-256color",
        LANG="C.UTF-8",
    )
    return env


class Walkthrough:
    """Runs the page's blocks; remembers every process it started, to stop them at the end."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = isolated_env(home)
        self.background: list[subprocess.Popen[bytes]] = []
        self.tmux_socket = f"kenar-doc-{uuid.uuid4().hex[:8]}"
        self.tmux_started = False

    def step(self, block: Block) -> str:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.body],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, (
            f"step failed ({done.returncode}):\n{block.body}\n{done.stderr}"
        )
        return done.stdout

    def start_background(self, block: Block, index: int) -> None:
        log = self.home / f"background-{index}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["bash", "-euo", "pipefail", "-c", block.body],
                cwd=self.home,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the pipe's both ends stop together
            )
        self.background.append(process)
        target = re.search(r"\btee (\S+)", block.body)
        assert target is not None and block.ready, "a background block tees into a file"
        path = Path(target.group(1).replace("~", str(self.home), 1))
        expected = block.ready

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"stopped early:\n{block.body}\n{log.read_text()}")
            return path.is_file() and expected in path.read_text(encoding="utf-8")

        until(f"{block.body.splitlines()[-1]} to be ready", ready, timeout=60)

    def browser(self, block: Block) -> str:
        process = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", block.body],
            cwd=self.home,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.background.append(process)  # type: ignore[arg-type]
        assert process.stdout is not None
        printed: list[str] = []
        for line in process.stdout:
            printed.append(line)
            if line.strip().startswith("http"):
                # What the seller's browser does: open it, follow Divar's redirect to the relay.
                with httpx.Client(trust_env=False, follow_redirects=True, timeout=30) as web:
                    landed = web.get(line.strip())
                assert landed.status_code == 200, landed.text
                break
        rest, _ = process.communicate(timeout=60)
        printed.append(rest)
        assert process.returncode == 0, "".join(printed)
        return "".join(printed)

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.tmux_socket, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def console(self, block: Block) -> None:
        self.tmux(
            "new-session", "-d", "-s", "doc", "-x", str(COLS), "-y", str(ROWS), "-c", str(self.home)
        )
        self.tmux_started = True
        self.tmux("set-option", "-t", "doc", "remain-on-exit", "on")
        self.tmux("respawn-pane", "-k", "-t", "doc", f"bash -c {shlex.quote(block.body)}")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "doc")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "doc", *(["-l"] if literal else []), *keys)

    def stop(self) -> None:
        if self.tmux_started:
            subprocess.run(
                ["tmux", "-L", self.tmux_socket, "kill-server"], env=self.env, check=False
            )
        for process in self.background:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.background:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def walkthrough(tmp_path: Path) -> Iterator[Walkthrough]:
    require_binary("tmux")  # the console runs in a real terminal
    require_binary("curl")  # the page talks to the sandbox with it
    home = tmp_path / "reader"  # the reader's home, as empty as a new account's
    home.mkdir()
    walk = Walkthrough(home)
    try:
        yield walk
    finally:
        walk.stop()


def sandbox_value(home: Path, key: str) -> str:
    for line in (home / "kenar-sandbox.env").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1]
    raise AssertionError(f"the sandbox printed no {key}=")


def test_the_getting_started_page_works_as_written(walkthrough: Walkthrough) -> None:
    walk, home = walkthrough, walkthrough.home
    found = blocks()
    assert [b.kind for b in found] == [
        "background",
        "background",
        "step",
        "step",
        "step",
        "step",
        "browser",
        "console",
        "step",
        "step",
    ], "the page's runnable blocks changed: update this test's expectations with it"
    sent: list[dict[str, object]] = []
    for index, block in enumerate(found):
        if block.kind == "background":
            walk.start_background(block, index)
        elif block.kind == "browser":
            said = walk.browser(block)
            assert "subscribed to" in said, said
        elif block.kind == "console":
            walk.console(block)
            until("the console to be live", lambda: "relay: live" in walk.screen(), timeout=60)
        elif "/_sandbox/messages" in block.body:
            delivered = json.loads(walk.step(block))
            conversation = str(delivered["conversation_id"])
            # The buyer's conversation reaches the console through the relay: Ctrl+G finds it.
            until(
                "the buyer's conversation in the console",
                lambda: reached_console(walk),
                timeout=60,
            )
            # Typed at once, as tmux sends it: Ctrl+G opens the buyer's conversation and puts
            # the cursor in the reply box; the letters typed behind it land there, in order
            # (kenar_tui/key_order.py). Enter once the text shows (its count under the box).
            walk.keys("C-g")
            walk.keys(REPLY, literal=True)
            try:
                until("the reply in the reply box", lambda: TYPED in walk.screen(), timeout=30)
            except AssertionError as failed:
                raise AssertionError(f"{failed}; the console shows:\n{walk.screen()}") from None
            walk.keys("Enter")
        elif "/_sandbox/sent" in block.body:

            def replied(block: Block = block) -> bool:
                sent[:] = json.loads(walk.step(block))
                return bool(sent)

            try:
                until("the reply to reach the sandbox", replied, timeout=60)
            except AssertionError as failed:
                raise AssertionError(f"{failed}; the console shows:\n{walk.screen()}") from None
        else:
            walk.step(block)
    config = home / ".config" / "kenar-tui" / "config.toml"
    assert config.stat().st_mode & 0o777 == 0o600
    assert sandbox_value(home, "api_key") not in config.read_text(encoding="utf-8")
    assert len(sent) == 1, f"the reply reached Divar exactly once: {sent}"
    assert sent[0]["conversation_id"] == conversation
    body = sent[0]["body"]
    assert isinstance(body, dict) and body.get("message") == REPLY, body


def reached_console(walk: Walkthrough) -> bool:
    """The list shows one conversation with an unread message (the status bar counts it)."""
    screen = walk.screen()
    return "1 waiting" in screen or "1 unread" in screen
