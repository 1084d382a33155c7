"""What KenarClient's call groups (client_posts.py, client_oauth.py) use of the client itself.

The groups are mixed into KenarClient and go through its one request loop (`_call`: retries,
secrets masked, failures classified) and its one answer parser (`_parse`). This base declares
those, for the type checker only, in one place; KenarClient (client.py) defines them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import BaseModel

_Model = TypeVar("_Model", bound=BaseModel)


class ClientNeeds:
    """The base of each call group: what it may use of KenarClient."""

    if TYPE_CHECKING:
        _api_key: str
        _secrets: set[str]
        api_base: str
        upload_base: str
        oauth_base: str

        def _need_token(self, access_token: str) -> str: ...

        async def _call(
            self,
            method: str,
            base: str,
            template: str,
            identifier: str | None,
            *,
            headers: dict[str, str] | None = None,
            json_body: dict[str, Any] | None = None,
            form_body: dict[str, str] | None = None,
            files: dict[str, tuple[str, bytes, str]] | None = None,
            classify: Any = None,
        ) -> httpx.Response: ...

        def _parse(
            self,
            response: httpx.Response,
            model: type[_Model],
            what: str,
            *,
            lenient: bool = False,
        ) -> _Model: ...
