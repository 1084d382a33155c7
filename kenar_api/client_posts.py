"""The finder and chat-media calls of KenarClient, kept apart to keep client.py readable.

Posts: docs/post/get_post.md and docs/post/get_user_posts.md. Media: docs/chat/upload_media.md
(upload token with the API key, multipart upload to the upload host, then a send with
`media_token`). Every call goes through KenarClient's request loop and its retry rules.
"""

from __future__ import annotations

from kenar_api.client_needs import ClientNeeds
from kenar_api.finder import GET_POST_PATH, USER_POSTS_PATH, PostResponse, UserPostsResponse
from kenar_api.headers import AUTHORIZATION, auth_headers
from kenar_api.media import (
    UPLOAD_PATH,
    UPLOAD_TOKEN_PATH,
    MediaKind,
    UploadResponse,
    UploadTokenResponse,
)
from kenar_core.errors import ProtocolError


class PostAndMediaCalls(ClientNeeds):
    """Mixed into KenarClient, whose request loop (`_call`) and parser (`_parse`) it uses."""

    # --- posts (docs/post/get_post.md, docs/post/get_user_posts.md) -----------------------

    async def get_post(self, post_token: str) -> PostResponse:
        """A post's public data (title, price, images, category); the API key alone suffices."""
        response = await self._call(
            "GET", self.api_base, GET_POST_PATH, post_token, headers=auth_headers(self._api_key)
        )
        return self._parse(response, PostResponse, "post")

    async def user_posts(self, *, access_token: str) -> UserPostsResponse:
        """The seller's own posts; the token needs the scope USER_POSTS_GET."""
        token = self._need_token(access_token)
        response = await self._call(
            "GET", self.api_base, USER_POSTS_PATH, None, headers=auth_headers(self._api_key, token)
        )
        return self._parse(response, UserPostsResponse, "user-posts")

    # --- chat media (docs/chat/upload_media.md) -------------------------------------------

    async def upload_token(self) -> str:
        """Step 1: a token for one upload, asked with the API key."""
        response = await self._call(
            "POST",
            self.api_base,
            UPLOAD_TOKEN_PATH,
            None,
            headers=auth_headers(self._api_key),
            json_body={},
        )
        token = self._parse(response, UploadTokenResponse, "upload-token").token
        self._secrets.add(token)
        return token

    async def upload_media(
        self,
        kind: MediaKind,
        *,
        name: str,
        content: bytes,
        content_type: str,
        upload_token: str,
    ) -> str:
        """Step 2: the multipart upload to the upload host; returns the `media_token`.

        Repeated only when it provably never reached the host, like every POST here: a lost
        answer may still have stored the file (harmless, but not ours to guess)."""
        if not upload_token:
            raise ProtocolError("an upload needs an upload token")
        self._secrets.add(upload_token)
        response = await self._call(
            "POST",
            self.upload_base,
            UPLOAD_PATH,
            MediaKind(kind).value,
            headers={AUTHORIZATION: f"Bearer {upload_token}", "Accept": "*/*"},
            files={"file": (name, content, content_type)},
        )
        media_token = self._parse(response, UploadResponse, "upload").id
        if not media_token:
            raise ProtocolError("the upload answer carried no media token")
        return media_token
