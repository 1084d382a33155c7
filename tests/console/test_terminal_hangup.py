"""The real console on a real pty whose other end goes away, as a harness or `setsid` leaves it.

Without a controlling terminal no SIGHUP comes: Textual's input thread then read nothing in a
tight loop and the console held a core until killed (kenar_tui/hangup.py). The pty is also
left unsized (0 rows, 0 columns, as `ssh -tt` from a script leaves it): textual-image divided
by its 0 columns and the console died at start with a traceback (kenar_tui/media/pictures.py).
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRAWN_WITHIN_S = 30.0
ENDS_WITHIN_S = 15.0  # a bound for a hang, not a speed: the check runs once a second


def start_console(home: Path, **extra_env: str) -> tuple[subprocess.Popen[bytes], int]:
    """`python -m kenar_tui` in its own session on a fresh, unsized pty; (process, pty master)."""
    master, slave = pty.openpty()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "TERM": "xterm-256color",
        "COLUMNS": "80",
        "LINES": "24",
        **extra_env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "kenar_tui"],
        cwd=ROOT,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,  # no controlling terminal: no SIGHUP will come
    )
    os.close(slave)
    return proc, master


def read_until(master: int, words: bytes) -> bytes:
    """What the console drew, until `words` appear (its screen is up and idle)."""
    drawn = b""
    deadline = time.monotonic() + DRAWN_WITHIN_S
    while words not in drawn:
        left = deadline - time.monotonic()
        assert left > 0, f"{words!r} never drawn; the screen: {drawn[-2000:]!r}"
        ready, _, _ = select.select([master], [], [], left)
        if ready:
            try:
                drawn += os.read(master, 65536)
            except OSError:  # the console ended: the pty's other end is closed
                break
    return drawn


@contextlib.contextmanager
def ended_at_last(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    """Whatever the test found, no console is left running after it."""
    try:
        yield
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def hang_up_and_wait(proc: subprocess.Popen[bytes], master: int) -> int:
    os.close(master)  # the terminal goes away
    try:
        return proc.wait(timeout=ENDS_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the console kept running {ENDS_WITHIN_S:.0f} s after its terminal hung up")


def test_the_console_on_an_unsized_terminal_starts_and_ends_when_the_terminal_hangs_up(
    tmp_path: Path,
) -> None:
    proc, master = start_console(
        tmp_path, PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring"
    )
    with ended_at_last(proc):
        drawn = read_until(master, b"no relay configured")  # the main screen, idle
        assert b"Traceback" not in drawn and b"ZeroDivisionError" not in drawn
        assert hang_up_and_wait(proc, master) == 129  # 128 + SIGHUP, as a shell reports it


def test_the_passphrase_prompt_ends_when_the_terminal_hangs_up(tmp_path: Path) -> None:
    """No desktop keyring: kenar-tui's own file keyring asks for its passphrase first."""
    proc, master = start_console(tmp_path)
    with ended_at_last(proc):
        drawn = read_until(master, b"passphrase")
        assert b"Traceback" not in drawn
        assert hang_up_and_wait(proc, master) == 129
