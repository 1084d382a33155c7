"""Keyring calls off the event loop, with a deadline, and the keyring's health in words.

A keyring call can block for as long as a person takes: a Secret Service shows an unlock
dialog, a D-Bus peer hangs, a file keyring wants its passphrase. Under the running console that
would freeze the screen (and Ctrl+Q with it), so every call the running app makes goes through
`keyring_call`: one daemon thread per call (a daemon thread never keeps the process alive: a
hung keyring cannot delay quitting, as asyncio.to_thread's pool would, which is joined at exit),
one call at a time (backends are not known to be thread safe), and a deadline after which the
caller hears `KeyringUnavailable` while the call is left to finish or hang on its own.

While one call hangs, the next ones are answered at once with the same sentence instead of
queueing behind it: at most one thread is ever stuck in the keyring.

`KEYRING_HEALTH` holds the last answer in words for the status bar and the outbox.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kenar_core.errors import KeyringUnavailable

__all__ = ["KEYRING_HEALTH", "KeyringHealth", "keyring_call"]

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 10.0


def slow_words(seconds: float) -> str:
    return (
        f"the keyring has not answered for {seconds:.0f} s: it may be locked or waiting for "
        "its password in another window; unlock it and the console carries on"
    )


class KeyringHealth:
    """The keyring's state as the running console last saw it; listeners hear every change."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self.problem: str | None = None
        self._busy_since: float | None = None  # monotonic start of the call in the keyring
        self._gate = threading.Lock()
        self._listeners: list[Callable[[str | None], None]] = []

    def listen(self, listener: Callable[[str | None], None]) -> Callable[[], None]:
        """Call `listener(problem)` on every change; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def report(self, problem: str | None) -> None:
        if problem == self.problem:
            return
        self.problem = problem
        for listener in list(self._listeners):
            listener(problem)

    def hung_for(self) -> float | None:
        """Seconds the current call has been in the keyring, or None when none is."""
        since = self._busy_since
        return None if since is None else time.monotonic() - since


KEYRING_HEALTH = KeyringHealth()


async def keyring_call(
    fn: Callable[..., T],
    *args: Any,
    health: KeyringHealth = KEYRING_HEALTH,
) -> T:
    """`fn(*args)` in a daemon thread; `KeyringUnavailable` when locked or past the deadline."""
    hung = health.hung_for()
    if hung is not None and hung >= health.timeout_s:
        # One call is already stuck: do not stack another thread behind it.
        words = slow_words(hung)
        health.report(words)
        raise KeyringUnavailable(words)
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if answer.done():
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        with health._gate:
            health._busy_since = time.monotonic()
            try:
                result, error = fn(*args), None
            except BaseException as exc:  # handed to the awaiting task, raised there
                result, error = None, exc
            finally:
                health._busy_since = None
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop closed while the keyring hung: nobody is waiting
            return

    threading.Thread(target=run, name="keyring-call", daemon=True).start()
    deadline = health.timeout_s
    try:
        # asyncio.timeout, not wait_for: 3.11's wait_for returns the result and drops the
        # caller's cancellation when the answer lands in the same turn (the keeper then
        # slept a minute after being told to stop).
        async with asyncio.timeout(deadline):
            result = await asyncio.shield(answer)
    except TimeoutError:
        words = slow_words(deadline)
        health.report(words)
        raise KeyringUnavailable(words) from None
    except KeyringUnavailable as exc:
        health.report(str(exc))
        raise
    health.report(None)
    return result
