"""The sandbox's finder and chat media, as Divar documents them.

Pages: kenar-docs docs/post/get_post.md, docs/post/get_user_posts.md,
docs/chat/upload_media.md (upload token, multipart upload on its own host, send with
media_token, the format and size limits).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kenar_api.bodies import SendMessageBody
from kenar_api.client import KenarClient
from kenar_api.media import MB, MediaKind
from kenar_core.errors import AuthError, KenarAPIError, TransportError
from kenar_tui.sandbox import Sandbox
from kenar_tui.sandbox.pictures import picture

ALL_SEND = "CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND"
PHONE = "Qa8LmT2x"


@pytest.fixture
async def kenar(sandbox: Sandbox) -> AsyncIterator[KenarClient]:
    async with KenarClient(
        sandbox.api_key,
        api_base=sandbox.base_url,
        oauth_base=sandbox.base_url,
        upload_base=sandbox.upload_base,
        retries=0,
    ) as client:
        yield client


async def test_get_post_md_finder_post_has_title_price_images(
    sandbox: Sandbox, kenar: KenarClient
) -> None:
    post = await kenar.get_post(PHONE)
    assert post.title == "آیفون ۱۳ پرو ۲۵۶ گیگ در حد نو"
    assert post.price == 52_000_000
    assert post.category == "mobile-phones"
    async with httpx.AsyncClient() as http:
        image = await http.get(post.images[0])
    assert image.content.startswith(b"\x89PNG")


async def test_get_post_md_unknown_post_is_404(kenar: KenarClient) -> None:
    with pytest.raises(KenarAPIError) as caught:
        await kenar.get_post("NoSuchPo")
    assert caught.value.status == 404


async def test_get_user_posts_md_needs_user_posts_get(sandbox: Sandbox, kenar: KenarClient) -> None:
    without = await sandbox.control.issue_token([ALL_SEND])
    with pytest.raises(AuthError, match="USER_POSTS_GET"):
        await kenar.user_posts(access_token=without["access_token"])
    token = await sandbox.control.issue_token(["USER_POSTS_GET"])
    posts = (await kenar.user_posts(access_token=token["access_token"])).posts
    assert PHONE in [p.token for p in posts]
    assert all(p.title and p.category for p in posts)


async def _upload_photo(kenar: KenarClient, content: bytes | None = None) -> str:
    token = await kenar.upload_token()
    return await kenar.upload_media(
        MediaKind.IMAGE,
        name="dent.png",
        content=content or picture("dent"),
        content_type="image/png",
        upload_token=token,
    )


async def test_upload_media_md_three_steps_reach_the_buyer_once(
    sandbox: Sandbox, kenar: KenarClient
) -> None:
    token = await sandbox.control.issue_token([ALL_SEND])
    chat = await sandbox.control.inject_message(post_token=PHONE, text="عکس خط روی بدنه؟")
    media_token = await _upload_photo(kenar)
    await kenar.send_message(
        chat["conversation_id"],
        SendMessageBody(media_token=media_token),
        access_token=token["access_token"],
    )
    sent = await sandbox.control.sent()
    assert [s["body"]["media_token"] for s in sent] == [media_token]
    state = await sandbox.control.state()
    assert state["uploads"] == 1


async def test_upload_media_md_upload_is_on_its_own_host(
    sandbox: Sandbox, kenar: KenarClient
) -> None:
    token = await kenar.upload_token()
    async with KenarClient(
        sandbox.api_key, api_base=sandbox.base_url, upload_base=sandbox.base_url, retries=0
    ) as wrong:
        with pytest.raises(KenarAPIError, match="upload host"):
            await wrong.upload_media(
                MediaKind.IMAGE,
                name="a.png",
                content=picture("a"),
                content_type="image/png",
                upload_token=token,
            )


async def test_upload_media_md_needs_an_upload_token(kenar: KenarClient) -> None:
    with pytest.raises(AuthError, match="upload token"):
        await kenar.upload_media(
            MediaKind.IMAGE,
            name="a.png",
            content=picture("a"),
            content_type="image/png",
            upload_token="made-up",
        )


@pytest.mark.parametrize(
    ("kind", "name", "content", "sentence"),
    [
        (MediaKind.IMAGE, "big.png", b"\x89PNG\r\n\x1a\n" + bytes(5 * MB), "at most 5 MB"),
        (MediaKind.VOICE, "long.m4a", bytes(3 * MB // 2 + 1), "at most 1.5 MB"),
        (MediaKind.IMAGE, "photo.gif", b"GIF89a", "does not take .gif"),
        (MediaKind.IMAGE, "doc.pdf", b"%PDF-1.4", "is a file, not a image"),
    ],
    ids=["image-over-5MB", "voice-over-1.5MB", "gif-image", "pdf-as-image"],  # not 5 MB of bytes
)
async def test_upload_media_md_limits_are_enforced(
    kenar: KenarClient, kind: MediaKind, name: str, content: bytes, sentence: str
) -> None:
    token = await kenar.upload_token()
    with pytest.raises(KenarAPIError, match=sentence) as caught:
        await kenar.upload_media(
            kind, name=name, content=content, content_type="x/y", upload_token=token
        )
    assert caught.value.status == 400


async def test_a_made_up_media_token_is_refused(sandbox: Sandbox, kenar: KenarClient) -> None:
    token = await sandbox.control.issue_token([ALL_SEND])
    chat = await sandbox.control.inject_message(post_token=PHONE, text="سلام")
    with pytest.raises(KenarAPIError, match="upload the file first"):
        await kenar.send_message(
            chat["conversation_id"],
            SendMessageBody(media_token="sbx_media_made_up"),
            access_token=token["access_token"],
        )
    assert await sandbox.control.sent() == []


async def test_a_lost_upload_answer_is_not_repeated(sandbox: Sandbox) -> None:
    """The client's rule for every POST: once the upload may have arrived, no repeat."""
    async with KenarClient(
        sandbox.api_key,
        api_base=sandbox.base_url,
        upload_base=sandbox.upload_base,
        retries=3,
        backoff=0.0,
    ) as kenar:
        token = await kenar.upload_token()
        await sandbox.control.set_faults(lose_answer_next=1, only_path="/upload/")
        with pytest.raises(TransportError) as caught:
            await kenar.upload_media(
                MediaKind.IMAGE,
                name="a.png",
                content=picture("a"),
                content_type="image/png",
                upload_token=token,
            )
    assert caught.value.maybe_delivered
    assert (await sandbox.control.state())["uploads"] == 1


async def test_a_buyer_photo_is_downloadable(sandbox: Sandbox) -> None:
    chat = await sandbox.control.inject_message(post_token=PHONE, type="IMAGE")
    link = chat["message"]["image_data"]["link"]
    assert link.startswith(sandbox.upload_base)
    async with httpx.AsyncClient() as http:
        answer = await http.get(link)
    assert answer.status_code == 200
    assert answer.content.startswith(b"\x89PNG")
    assert answer.headers["content-type"] == "image/png"
