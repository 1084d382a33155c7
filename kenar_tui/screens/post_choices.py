"""The seller's posts to log in for, listed by title from Divar instead of typed as tokens.

`GET /v1/open-platform/finder/user-posts` (kenar-docs docs/post/get_user_posts.md) needs a
token holding USER_POSTS_GET; with one stored, the login screen lists every post (title,
token) and ticking posts fills the token field. Read off the UI loop; when no stored token
may list posts, or Divar does not answer, the list stays hidden and a sentence says why.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import SelectionList
from textual.widgets.selection_list import Selection

from kenar_api.scopes import POSTS_GET, parse_scopes
from kenar_core.errors import CredentialError, KenarError, ProtocolError
from kenar_tui.keyring_thread import keyring_call
from kenar_tui.text import display
from kenar_tui.text.sanitize import clean_text

MAX_LISTED = 200  # a seller with more posts types the rest; the list stays usable


def posts_token(tokens: list[Any]) -> str | None:
    """The access token of a stored token set that may list the seller's posts."""
    for token in tokens:
        if POSTS_GET in {s.name for s in parse_scopes(token.scopes)}:
            return str(token.access_token)
    return None


async def load_user_posts(kenar: Any, credentials: Any) -> tuple[list[Any], str]:
    """The seller's posts and a sentence for the screen (empty list: the sentence says why)."""
    try:
        tokens = await keyring_call(credentials.tokens)
    except CredentialError as exc:
        return [], f"Your posts cannot be listed: {exc}"
    access = posts_token(tokens)
    if access is None:
        return [], (
            "Type post tokens, or tick “All my posts”. (A token with the USER_POSTS_GET "
            "scope lets this screen list your posts by title.)"
        )
    try:
        posts = (await kenar.user_posts(access_token=access)).posts
    except (KenarError, ProtocolError) as exc:
        return [], f"Divar did not list your posts ({exc}); type their tokens instead."
    posts = [p for p in posts if p.token][:MAX_LISTED]
    if not posts:
        return [], "Divar lists no posts for you; type post tokens instead."
    return posts, "Tick the posts to answer in (Space), or “All my posts”."


class UserPostChoices(SelectionList[str]):
    """Ticked posts, by title; `chosen` is their tokens in list order."""

    DEFAULT_CSS = """
    UserPostChoices { height: auto; max-height: 12; }
    """

    def show(self, posts: list[Any], *, bidi: bool, ticked: set[str]) -> None:
        self.clear_options()
        for post in posts:
            # Content from parts, never markup: titles are the seller's text from Divar.
            title = display(clean_text(post.title or post.token), bidi=bidi)
            label = Content.assemble(title, " ", (clean_text(post.token), "dim"))
            self.add_option(Selection(label, post.token, post.token in ticked))

    @property
    def chosen(self) -> list[str]:
        return list(self.selected)
