"""Divar's finder, chat-media and post-page examples through our models and the sandbox.

Pages: kenar-docs docs/post/get_post.md, docs/post/get_user_posts.md,
docs/chat/upload_media.md, docs/widgets/actions/navigation_actions.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kenar_api.bodies import SendMessageBody
from kenar_api.buttons import Action, Button, ButtonGrid
from kenar_api.finder import PostResponse, UserPostsResponse
from kenar_api.media import MB, MediaKind, UploadResponse, UploadTokenResponse, check_file
from kenar_core.errors import ButtonGridError, MediaError
from tests.kenar.doc_examples import DOCS, doc_json, json_example

PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def test_get_post_page_example_gives_title_price_and_images() -> None:
    post = PostResponse.model_validate(json_example("finder-get-post-answer.json"))
    assert post.token == "AZir15UU"
    assert post.title == "سامسونگ Galaxy J2 با حافظهٔ ۸ گیگابایت"
    assert post.price == 1_100_000
    assert len(post.images) == 3


def test_get_post_in_protobuf_json_zero_values_and_string_prices() -> None:
    post = PostResponse.model_validate({"token": "x", "data": None})
    assert (post.title, post.price, post.images, post.chat_enabled) == (None, None, [], False)
    terse = PostResponse.model_validate({"data": {"title": "t", "price": {"value": "42"}}})
    assert terse.price == 42


def test_user_posts_page_example_lists_the_post() -> None:
    text = (DOCS / "finder-user-posts-answer.json5").read_text(encoding="utf-8")
    posts = UserPostsResponse.model_validate(doc_json(text)).posts
    assert [(p.token, p.title) for p in posts] == [("QVZ8LgaW", "اجاره آپارتمان ۱۰۰ متری")]
    assert UserPostsResponse.model_validate({}).posts == []


def test_upload_media_page_answers_and_send_field() -> None:
    assert UploadTokenResponse.model_validate(json_example("chat-upload-token-answer.json")).token
    answer = UploadResponse.model_validate(json_example("chat-upload-answer.json"))
    assert answer.id == "your_media_token"
    field = json_example("chat-upload-media-token.json")
    body = SendMessageBody(media_token=field["media_token"])
    assert body.wire()["media_token"] == "your_media_token"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("open-post-page-action.json", "open_post_page"),
        ("open-post-manage-page-action.json", "open_post_manage_page"),
    ],
)
def test_navigation_actions_page_examples_are_valid_buttons(name: str, kind: str) -> None:
    action = Action.model_validate(json_example(name)["action"])
    button = Button(action=action, icon="REFRESH", caption="آگهی")
    wire = ButtonGrid.of([[button]]).model_dump(mode="json")
    assert wire["rows"][0]["buttons"][0]["action"] == {kind: {"post_token": "gZd7omnS"}}


@pytest.mark.parametrize("token", ["", "has space", "a/b", "x" * 65])
def test_post_page_action_refuses_a_bad_token(token: str) -> None:
    with pytest.raises(ButtonGridError, match="post token"):
        Action.post_page(token)


def test_an_action_with_two_kinds_is_refused() -> None:
    with pytest.raises(ButtonGridError, match="exactly one action"):
        Action.model_validate(
            {"open_post_page": {"post_token": "a"}, "open_direct_link": "https://divar.ir"}
        )


# --- limits, checked before any upload (docs/chat/upload_media.md, محدودیت‌ها) -------------


def _write(path: Path, head: bytes, size: int) -> Path:
    path.write_bytes(head + bytes(max(0, size - len(head))))
    return path


def test_a_photo_within_5_mb_passes(tmp_path: Path) -> None:
    media = check_file(_write(tmp_path / "dent.png", PNG_HEAD, 5 * MB))
    assert (media.kind, media.content_type, media.size) == (MediaKind.IMAGE, "image/png", 5 * MB)


@pytest.mark.parametrize(
    ("name", "head", "size", "sentence"),
    [
        ("big.jpg", b"\xff\xd8\xff", 5 * MB + 1, "at most 5 MB"),
        ("big.pdf", b"%PDF", 5 * MB + 1, "at most 5 MB"),
        ("note.m4a", b"", 3 * MB // 2 + 1, "at most 1.5 MB"),
        ("clip.mp4", b"", 50 * MB + 1, "at most 50 MB"),
        ("clip.mov", b"", 10, "does not take .mov files"),
        ("photo.gif", b"GIF89a", 10, "does not take .gif files"),
        ("fake.png", b"not a png", 10, "not really a PNG"),
        ("empty.pdf", b"", 0, "is empty"),
    ],
)
def test_limits_refuse_with_a_sentence(
    tmp_path: Path, name: str, head: bytes, size: int, sentence: str
) -> None:
    with pytest.raises(MediaError, match=sentence):
        check_file(_write(tmp_path / name, head, size))


def test_a_missing_file_is_refused_in_words(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"cannot be read|not a file"):
        check_file(tmp_path / "gone.png")
