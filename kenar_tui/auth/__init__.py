"""OAuth for the console: logging in, keeping tokens fresh, keeping subscriptions alive.

No Textual here: the console's login screen and the `kenar-tui login` command both drive
`LoginFlow`; the console runs a `TokenKeeper` beside its relay link.
"""

from kenar_tui.auth.keeper import RevocationNotice, TokenKeeper, TokenProblem
from kenar_tui.auth.login import LoginFlow, login_scopes
from kenar_tui.auth.relay_callback import relay_oauth_code
from kenar_tui.auth.subscriptions import (
    SubscribeReport,
    subscribe_stored,
    subscribe_token,
    subscription_requests,
)

__all__ = [
    "LoginFlow",
    "RevocationNotice",
    "SubscribeReport",
    "TokenKeeper",
    "TokenProblem",
    "login_scopes",
    "relay_oauth_code",
    "subscribe_stored",
    "subscribe_token",
    "subscription_requests",
]
