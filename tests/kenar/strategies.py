"""Hypothesis strategies for valid Kenar bodies (grids, buttons, send and chatbot bodies)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kenar_api.bodies import (
    ChatbotMessageBody,
    SendMessageBody,
    SubscriptionEventType,
    SubscriptionRequest,
)
from kenar_api.buttons import MAX_BUTTONS_PER_ROW, MAX_ROWS, Action, Button, ButtonGrid
from kenar_api.icons import icon_names, is_icon

# Persian letters and digits, some Latin, ZWNJ and spaces: what real captions look like.
PERSIAN = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیآ۰۱۲۳۴۵۶۷۸۹\u200c"
CAPTION_ALPHABET = PERSIAN + "abcXYZ0123456789 -_!؟،"

captions = st.text(alphabet=CAPTION_ALPHABET, min_size=1, max_size=40).filter(
    lambda s: bool(s.strip())
)
texts = st.text(alphabet=CAPTION_ALPHABET + "\n", min_size=1, max_size=300).filter(
    lambda s: bool(s.strip())
)
icons = st.sampled_from(icon_names())
unknown_icons = st.text(min_size=1, max_size=20).filter(lambda s: not is_icon(s))

URL_SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.~-"
hosts = st.sampled_from(["divar.ir", "open-api.divar.ir", "example.com", "crm.example.org"])
paths = st.lists(st.text(alphabet=URL_SAFE, min_size=1, max_size=8), max_size=3).map(
    lambda parts: "".join(f"/{p}" for p in parts)
)
urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}{path}",
    st.sampled_from(["http", "https"]),
    hosts,
    paths,
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.text(alphabet=CAPTION_ALPHABET, max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet=CAPTION_ALPHABET, max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
link_data: st.SearchStrategy[dict[str, Any]] = st.dictionaries(
    st.text(alphabet=CAPTION_ALPHABET, min_size=1, max_size=8), json_values, max_size=4
)

actions = st.one_of(urls.map(Action.direct), link_data.map(Action.server))
buttons = st.builds(Button, action=actions, icon=icons, caption=captions)
rows = st.lists(buttons, min_size=1, max_size=MAX_BUTTONS_PER_ROW)
row_lists = st.lists(rows, min_size=0, max_size=MAX_ROWS)
grids = row_lists.map(ButtonGrid.of)
non_empty_grids = st.lists(rows, min_size=1, max_size=MAX_ROWS).map(ButtonGrid.of)

send_bodies = st.builds(
    SendMessageBody,
    message=texts,
    sender_buttons=st.none() | grids,
    receiver_buttons=st.none() | grids,
)
chatbot_bodies = st.builds(ChatbotMessageBody, text_message=texts, buttons=st.none() | grids)
subscriptions = st.builds(
    SubscriptionRequest,
    event_type=st.sampled_from(list(SubscriptionEventType)),
    event_resource_id=st.just("") | st.text(alphabet=URL_SAFE[:62], min_size=8, max_size=8),
    metadata=st.none() | link_data,
)
