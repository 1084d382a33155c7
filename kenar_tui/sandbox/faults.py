"""Faults on demand, for rehearsing the bad days: slow answers, 5xx, 429 with Retry-After,
dropped connections, restricted recipients, and duplicate or out-of-order webhooks.

Two kinds of call fault: those that strike before Divar does the work (`error_*`, `drop_*`,
`rate_limit_*`), and `lose_answer_*`, which strikes after it: the call is carried out (the
message reaches the buyer) and then the answer is lost, as a dropped connection, an answer
held past the client's timeout, or a gateway's 502. Only the second kind can duplicate a
message when a client repeats the call, which is why Kenar's clients must not.

Shares (`*_rate`, 0..1) are rolled with a seeded RNG so a run can be repeated; counts
(`*_next`) fault exactly the next N API calls, which is what a test wants. Faults touch the
open API and OAuth paths, never the `/_sandbox/` control surface.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kenar_tui.sandbox.rejection import RESOURCE_EXHAUSTED, UNAVAILABLE, Rejection

CONTROL_PREFIX = "/_sandbox/"


class Faults(BaseModel):
    """The fault settings; every field defaults to "no fault"."""

    model_config = ConfigDict(extra="forbid")
    latency: float = Field(
        default=0.0, ge=0, le=30, description="seconds added before every answer"
    )
    error_rate: float = Field(default=0.0, ge=0, le=1, description="share of calls answered 503")
    error_next: int = Field(default=0, ge=0, description="the next N calls answer 503")
    rate_limit_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of calls answered 429"
    )
    rate_limit_next: int = Field(default=0, ge=0, description="the next N calls answer 429")
    retry_after: int = Field(default=1, ge=0, le=3600, description="Retry-After seconds on a 429")
    drop_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of calls closed unanswered"
    )
    drop_next: int = Field(default=0, ge=0, description="the next N calls are closed unanswered")
    lose_answer_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of calls carried out, then answer lost"
    )
    lose_answer_next: int = Field(
        default=0, ge=0, description="the next N calls are carried out, then the answer is lost"
    )
    lose_answer_as: Literal["drop", "timeout", "gateway"] = Field(
        default="drop",
        description="how the answer is lost: connection closed, held back, or a gateway's 502",
    )
    lose_answer_hold: float = Field(
        default=5.0, gt=0, le=60, description="seconds a 'timeout' answer is held back"
    )
    only_path: str = Field(
        default="",
        description="if set, call faults strike only paths containing this (e.g. '/messages')",
    )
    restricted: list[str] = Field(
        default_factory=list, description="conversations answering 412 code 9 to sends"
    )
    duplicate_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of webhooks sent twice"
    )
    reorder_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of webhooks held back behind the next one"
    )
    reorder_hold: float = Field(
        default=0.5, gt=0, le=60, description="how long a held-back webhook waits to be overtaken"
    )
    delivery_retries: int = Field(
        default=5, ge=0, le=20, description="retries of a non-2xx webhook"
    )
    delivery_backoff: float = Field(
        default=0.2, ge=0, le=60, description="first retry wait, doubling"
    )


class FaultPlan:
    """The current faults and the RNG that rolls them."""

    def __init__(self, *, seed: int = 0) -> None:
        self.faults = Faults()
        self.rng = random.Random(f"faults:{seed}")

    def update(self, changes: dict[str, Any]) -> Faults:
        """Apply some settings on top of the current ones (validated as a whole)."""
        self.faults = Faults.model_validate({**self.faults.model_dump(), **changes})
        return self.faults

    def reset(self) -> Faults:
        self.faults = Faults()
        return self.faults

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def take(self, counter: str) -> bool:
        """Use up one of a `*_next` count, if any is left."""
        left: int = getattr(self.faults, counter)
        if left <= 0:
            return False
        self.faults = self.faults.model_copy(update={counter: left - 1})
        return True

    def api_fault(self) -> str | None:
        """Which fault (if any) the next API call meets: 'drop', 'error' or 'rate_limit'."""
        f = self.faults
        if self.take("drop_next") or self.roll(f.drop_rate):
            return "drop"
        if self.take("error_next") or self.roll(f.error_rate):
            return "error"
        if self.take("rate_limit_next") or self.roll(f.rate_limit_rate):
            return "rate_limit"
        if self.take("lose_answer_next") or self.roll(f.lose_answer_rate):
            return "lose_answer"
        return None

    def is_restricted(self, conversation_id: str) -> bool:
        return conversation_id in self.faults.restricted


class FaultMiddleware:
    """Applies latency and call faults to every request outside `/_sandbox/`."""

    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        if self.plan.faults.latency:
            await asyncio.sleep(self.plan.faults.latency)
        only = self.plan.faults.only_path
        fault = self.plan.api_fault() if not only or only in scope["path"] else None
        scope.setdefault("state", {})["sandbox_fault"] = fault
        raw_send = scope["state"].get("sandbox_raw_send", send)
        if fault == "drop" and await _drop(raw_send):
            return
        if fault in ("error", "drop"):
            rejection = Rejection(UNAVAILABLE, "the service is unavailable (sandbox fault)")
        elif fault == "lose_answer":
            await self._lose_answer(scope, receive, send, raw_send)
            return
        elif fault == "rate_limit":
            retry_after = str(self.plan.faults.retry_after)
            rejection = Rejection(
                RESOURCE_EXHAUSTED,
                "too many requests; try again after Retry-After seconds (sandbox fault)",
                headers={"Retry-After": retry_after},
            )
        else:
            await self.app(scope, receive, send)
            return
        body = json.dumps(rejection.body()).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        headers += [(k.lower().encode(), v.encode()) for k, v in rejection.headers.items()]
        await send({"type": "http.response.start", "status": rejection.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _lose_answer(self, scope: Scope, receive: Receive, send: Send, raw: Send) -> None:
        """Do the work, then lose its answer the configured way (after-the-work faults)."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        how = self.plan.faults.lose_answer_as
        if how == "drop" and await _drop(raw):
            return
        if how == "timeout":
            # The answer comes, but only after the client stopped waiting for it.
            await asyncio.sleep(self.plan.faults.lose_answer_hold)
            for message in held:
                await send(message)
            return
        body = BAD_GATEWAY_PAGE
        headers = [(b"content-type", b"text/html"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 502, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# What nginx in front of an API answers when the upstream's answer did not come through.
BAD_GATEWAY_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


async def _drop(send: Send) -> bool:
    """Close the connection without an answer, as a dying proxy does.

    ASGI has no word for this, so reach for uvicorn's transport through its own `send`
    callable (the recorder keeps it in the scope); where that is not possible the caller
    answers 503 instead.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        return False
    transport.abort()
    # Let the server notice the lost connection, so it does not try to answer on it.
    for _ in range(50):
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0)
    return True
