"""A media reply in the outbox: the file to upload, then the `media_token` to send.

The outbox row's body carries `_media` (the file's path, kind, name and content type) next
to the send body. Before the first send the file is read, checked again and uploaded
(kenar-docs docs/chat/upload_media.md, steps 1 and 2); the `media_token` is stored in the row
before the send, so a retried send reuses it: the file is uploaded once, and the send follows
the outbox's rules (an answer lost makes it "unknown", never repeated by itself).

An upload reaches no buyer, so a failed one is "failed" with nothing sent; an upload whose
answer was lost is not repeated by itself either (the client's rule for every POST), and
"send it again" uploads anew.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from kenar_api.media import MediaFile, MediaKind, read_checked

MEDIA_KEY = "_media"
KIND_WORDS = {"image": "photo", "video": "video", "voice": "voice note", "file": "file"}


class Uploader(Protocol):
    async def upload_token(self) -> str: ...

    async def upload_media(
        self,
        kind: MediaKind,
        *,
        name: str,
        content: bytes,
        content_type: str,
        upload_token: str,
    ) -> str: ...


def media_body(media: MediaFile) -> dict[str, Any]:
    """What the outbox stores for a media reply before its upload."""
    return {
        MEDIA_KEY: {
            "path": str(media.path),
            "kind": media.kind.value,
            "name": media.name,
            "content_type": media.content_type,
            "size": media.size,
        }
    }


def media_label(body: dict[str, Any]) -> str | None:
    """ "[photo] dent.jpg" for a media reply's body, or None for a text reply."""
    spec = body.get(MEDIA_KEY)
    if not isinstance(spec, dict):
        return None
    return f"[{KIND_WORDS.get(str(spec.get('kind')), 'file')}] {spec.get('name', '')}".strip()


def wire_body(body: dict[str, Any]) -> dict[str, Any]:
    """The body as it goes to Kenar: without the outbox's own `_media` note."""
    return {k: v for k, v in body.items() if k != MEDIA_KEY}


def needs_upload(body: dict[str, Any]) -> bool:
    return isinstance(body.get(MEDIA_KEY), dict) and not body.get("media_token")


async def upload(body: dict[str, Any], kenar: Uploader) -> str:
    """Read, re-check and upload the file of a media reply; its `media_token`."""
    spec = body[MEDIA_KEY]
    media = MediaFile(
        path=Path(spec["path"]),
        kind=MediaKind(spec["kind"]),
        content_type=str(spec["content_type"]),
        size=int(spec.get("size") or 0),
    )
    content = read_checked(media)  # MediaError: changed, vanished or grown since picked
    token = await kenar.upload_token()
    return await kenar.upload_media(
        media.kind,
        name=media.name,
        content=content,
        content_type=media.content_type,
        upload_token=token,
    )
