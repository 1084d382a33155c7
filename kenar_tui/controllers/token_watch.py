"""The console's side of the TokenKeeper: start it, feed it revocations, tell the user.

The keeper (kenar_tui.auth.keeper) refreshes tokens and drops revoked ones; this says so on
screen: a revocation as a toast (the notices screen lists the entry itself), a refresh that
needs a new login once, plainly, and the open conversation's "can send" state follows (a
`TokenStateChanged` message the main screen handles; this never calls a screen).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kenar_core.errors import CredentialError
from kenar_tui.auth.requirements import refreshable_tokens
from kenar_tui.controllers.messages import TokenStateChanged
from kenar_tui.keyring_thread import keyring_call

if TYPE_CHECKING:
    from kenar_tui.app import KenarApp
    from kenar_tui.auth.keeper import RevocationNotice, TokenProblem
    from kenar_tui.credentials import StoredToken
    from kenar_tui.services import KeeperService


class TokenWatch:
    """Wires `app.keeper` to the screen; does nothing when the console runs without one."""

    def __init__(self, app: KenarApp) -> None:
        self.app = app
        self._told: set[str] = set()  # token ids whose trouble the user has already seen

    def start(self) -> None:
        app, keeper = self.app, self.app.keeper
        if keeper is None:
            if app.keeper_note:
                app.run_worker(self._tell_unrefreshed(app.keeper_note), group="keyring")
            return
        keeper.listen(
            on_refreshed=self._refreshed, on_revoked=self._revoked, on_problem=self._problem
        )
        keeper.start()

    async def _tell_unrefreshed(self, note: str) -> None:
        # Counted off the loop (keyring_thread.py); a keyring that does not answer tells itself.
        with contextlib.suppress(CredentialError):
            if await keyring_call(refreshable_tokens, self.app.credentials):
                self.app.notify(
                    f"Stored tokens will not be refreshed before they expire: {note}.",
                    title="Login",
                    severity="warning",
                    timeout=15,
                    markup=False,
                )

    def logged_in(self) -> None:
        """A login stored a new token: the keeper schedules it, the header may now send."""
        if self.app.keeper is not None:
            self.app.keeper.wake()
        self._told.clear()
        self.credentials_changed()

    def revocation_entry(self, entry: Mapping[str, Any]) -> None:
        """A timeline entry said a seller withdrew access: drop the tokens it concerns."""
        keeper = self.app.keeper
        if keeper is None:
            return
        self.app.run_worker(self._revoke(keeper, entry), name="revocation", group="keeper")

    async def _revoke(self, keeper: KeeperService, entry: Mapping[str, Any]) -> None:
        try:
            await keeper.handle_entry(entry)
        except Exception as exc:  # the keyring may refuse; the tokens then stay, say so
            self.app.logger.warning("revocation not applied: %s", type(exc).__name__, exc_info=exc)
            self.app.notify(
                f"A seller withdrew access, but the stored tokens could not be removed: {exc}",
                title="Login",
                severity="error",
                markup=False,
            )

    def credentials_changed(self) -> None:
        """Tokens came or went: the open conversation's header says whether we can send."""
        self.app.screen_news.publish(TokenStateChanged())

    # --- the keeper's callbacks -------------------------------------------------------------

    def _refreshed(self, token: StoredToken) -> None:
        self._told.discard(token.id)
        self.app.logger.info("token refreshed and subscribed again")
        self.credentials_changed()

    def _revoked(self, notice: RevocationNotice) -> None:
        self.credentials_changed()
        if not notice.dropped:
            return
        key = self.app.keys_for("auth.login")
        self.app.notify(
            f"The seller withdrew this app's access on Divar: {len(notice.dropped)} token(s) "
            f"were removed, so those chats are read only now. Press {key} to log in again. "
            f"(Alt+N lists notices)",
            title="Access revoked",
            severity="error",
            timeout=20,
            markup=False,
        )

    def _problem(self, problem: TokenProblem) -> None:
        # A refresh that keeps failing retries quietly; the user hears of each token once.
        if problem.token_id in self._told:
            return
        self._told.add(problem.token_id)
        if problem.fatal:
            key = self.app.keys_for("auth.login")
            text = f"{problem.message}. Press {key} to log in again."
        else:
            text = f"{problem.message}; retrying by itself."
        self.app.notify(
            text,
            title="Login needed" if problem.fatal else "Token refresh",
            severity="error" if problem.fatal else "warning",
            timeout=20,
            markup=False,
        )
        self.credentials_changed()
