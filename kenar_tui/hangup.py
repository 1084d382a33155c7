"""A console whose terminal went away ends, instead of holding a core until it is killed.

When a terminal hangs up (the SSH connection drops, the terminal window or tmux's server is
closed, the program holding the pty's other end dies), a process whose *controlling* terminal
it was gets SIGHUP and Python ends it. A console with no controlling terminal gets no signal:
one started with `setsid`, by a process manager, or on a pty by a test or benchmark harness
(`start_new_session=True`). Its reads of the terminal then return nothing at once, forever, and
Textual's input thread (`LinuxDriver.run_input_thread`, Textual 8) selects and reads in a
tight loop: one core at ~95% for as long as the process lives (seen here: an hour, after a
benchmark's parent was killed). Its output fails only when something is drawn, and an idle
console draws nothing.

`tcgetattr` on a hung-up terminal fails with EIO. `HangupAwareApp` asks once a second (one
system call) and, when the terminal is gone, calls `on_terminal_gone`, which ends the app with
exit code 129 (128 + SIGHUP, as a shell reports it), writing what is still written on the way
out to /dev/null. (What SIGHUP would lose is lost here too: a half-written reply's draft is
saved when the seller switches conversations or quits, not at a hangup.)
"""

from __future__ import annotations

import logging
import os
import termios
from typing import Any

from textual.app import App, ReturnType
from textual.timer import Timer

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
HANGUP_EXIT_CODE = 129  # 128 + SIGHUP


def terminal_hung_up(fd: int) -> bool:
    """True when `fd` is a terminal that hung up (its other end is closed)."""
    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return bool(exc.args) and exc.args[0] == 5  # EIO: hung up; ENOTTY & co: not a terminal
    except OSError:  # the descriptor itself is closed: nothing to read from either
        return True
    return False


def _terminal_fd(app: App[Any]) -> int | None:
    """The terminal the app reads keys from, or None (headless, Pilot, piped, Windows)."""
    driver = app._driver  # Textual keeps no public handle on the driver
    fd = getattr(driver, "fileno", None)
    if not isinstance(fd, int):
        return None
    try:
        return fd if os.isatty(fd) else None
    except OSError:
        return None


class HangupAwareApp(App[ReturnType]):
    """An App that ends when its terminal hangs up, even without a SIGHUP."""

    _hangup_watch: Timer

    def on_mount(self) -> None:
        fd = _terminal_fd(self)
        if fd is not None:
            self._hangup_watch = self.set_interval(
                CHECK_EVERY_S, lambda: self._check_terminal(fd), name="hangup-watch"
            )

    def _check_terminal(self, fd: int) -> None:
        if terminal_hung_up(fd):
            self._hangup_watch.stop()
            log.info("the terminal hung up; the console ends")
            self.on_terminal_gone()

    def on_terminal_gone(self) -> None:
        """The terminal is gone: end as SIGHUP would (`return_code` 129)."""
        _write_nowhere()
        self.exit(return_code=HANGUP_EXIT_CODE)


def _write_nowhere() -> None:
    """Point stdin, stdout and stderr at /dev/null: what is still written on the way out
    (Textual restoring the terminal modes, Python flushing at exit) would fail with EIO."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
    finally:
        os.close(devnull)
