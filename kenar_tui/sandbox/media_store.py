"""The sandbox's chat media: upload tokens, uploaded files and the files buyers send.

kenar-docs docs/chat/upload_media.md: an upload token is asked with the API key, a file is
uploaded with it to the upload host and answered with a `media_token`, which a send then
carries. Bounded: at most MAX_TOKENS live upload tokens (the oldest forgotten first) and
MAX_FILES files or MAX_BYTES in all; past that an upload is refused with 429 and a sentence
(files already sent stay downloadable).
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kenar_api.media import MediaKind

UPLOAD_TOKEN_LIFETIME = timedelta(minutes=10)
MAX_TOKENS = 256
MAX_FILES = 256
MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredMedia:
    media_token: str
    kind: MediaKind
    name: str
    content_type: str
    content: bytes = field(repr=False)
    uploaded_by_app: bool

    def summary(self) -> dict[str, object]:
        return {
            "media_token": self.media_token,
            "kind": self.kind.value,
            "name": self.name,
            "content_type": self.content_type,
            "size": len(self.content),
            "uploaded_by_app": self.uploaded_by_app,
        }


class MediaFull(Exception):
    """The sandbox holds as many files as it will; nothing was stored."""


class MediaStore:
    def __init__(self) -> None:
        self._tokens: OrderedDict[str, datetime] = OrderedDict()
        self._files: dict[str, StoredMedia] = {}
        self._bytes = 0
        self.uploads = 0  # uploads accepted, so a test can tell "uploaded once"

    def new_upload_token(self, now: datetime) -> str:
        token = "sbx_upload_" + secrets.token_urlsafe(24)
        self._tokens[token] = now + UPLOAD_TOKEN_LIFETIME
        while len(self._tokens) > MAX_TOKENS:
            self._tokens.popitem(last=False)
        return token

    def upload_token_valid(self, token: str, now: datetime) -> bool:
        expires = self._tokens.get(token)
        return expires is not None and now < expires

    def add(
        self,
        kind: MediaKind,
        name: str,
        content_type: str,
        content: bytes,
        *,
        uploaded_by_app: bool,
    ) -> StoredMedia:
        if len(self._files) >= MAX_FILES or self._bytes + len(content) > MAX_BYTES:
            raise MediaFull("the sandbox holds as many files as it will; clear it first")
        media = StoredMedia(
            media_token="sbx_media_" + secrets.token_urlsafe(18),
            kind=kind,
            name=name,
            content_type=content_type,
            content=content,
            uploaded_by_app=uploaded_by_app,
        )
        self._files[media.media_token] = media
        self._bytes += len(content)
        if uploaded_by_app:
            self.uploads += 1
        return media

    def get(self, media_token: str) -> StoredMedia | None:
        return self._files.get(media_token)

    def clear(self) -> None:
        self._tokens.clear()
        self._files.clear()
        self._bytes = 0
        self.uploads = 0

    def summaries(self) -> list[dict[str, object]]:
        return [m.summary() for m in self._files.values()]
