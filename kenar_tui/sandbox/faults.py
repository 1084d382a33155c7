"""Faults on demand, for rehearsing the bad days: slow answers, 5xx, 429 with Retry-After,
dropped connections, restricted recipients, and duplicate or out-of-order webhooks.

Shares (`*_rate`, 0..1) are rolled with a seeded RNG so a run can be repeated; counts
(`*_next`) fault exactly the next N API calls, which is what a test wants. Faults touch the
open API and OAuth paths, never the `/_sandbox/` control surface.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Receive, Scope, Send

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
        fault = self.plan.api_fault()
        scope.setdefault("state", {})["sandbox_fault"] = fault
        raw_send = scope["state"].get("sandbox_raw_send", send)
        if fault == "drop" and await _drop(raw_send):
            return
        if fault in ("error", "drop"):
            rejection = Rejection(UNAVAILABLE, "the service is unavailable (sandbox fault)")
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
