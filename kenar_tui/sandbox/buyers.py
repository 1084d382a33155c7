"""The buyer simulator: plays the seeded script at a rate, and answers the seller.

Spontaneous traffic comes from `script.iter_buyer_script`; on top of it, a buyer answers a
seller's reply a few ticks later and now and then presses a server-link button the seller
sent. The answers use their own seeded RNG, so a run is repeatable given the same sends.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterator
from typing import Any

from kenar_api.messages import Message
from kenar_core.errors import KenarTuiError
from kenar_core.lifecycle import stop_tasks
from kenar_tui.sandbox.catalogue import BUTTON_THANKS, FOLLOW_UPS
from kenar_tui.sandbox.core import SandboxCore
from kenar_tui.sandbox.script import BuyerStep, iter_buyer_script
from kenar_tui.sandbox.serverlink import press_button
from kenar_tui.sandbox.world import ConversationState

MAX_RATE = 1000.0
ANSWER_SHARE = 0.7  # how often a buyer answers a seller's reply
PRESS_ON_REPLY_SHARE = 0.3  # how often a reply's server-link button is pressed


class BuyerSimulator:
    def __init__(self, core: SandboxCore, *, seed: int, logger: logging.Logger) -> None:
        self._core = core
        self._seed = seed
        self._log = logger
        self._script: Iterator[BuyerStep] = iter_buyer_script(seed)
        self._rng = random.Random(f"answers:{seed}")
        self._ids: dict[int, str] = {}  # script conversation number -> conversation id
        self._task: asyncio.Task[None] | None = None
        self._reactions: set[asyncio.Task[None]] = set()
        self.rate = 0.0
        self.steps_played = 0
        core.on_seller_message.append(self._on_seller_message)

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, rate: float) -> None:
        """Play the script at `rate` steps a second (restarting at the new rate if running)."""
        if not 0 < rate <= MAX_RATE:
            raise ValueError(f"the buyer rate must be above 0 and at most {MAX_RATE:g} a second")
        self._cancel_player()
        self.rate = rate
        self._task = asyncio.create_task(self._play(), name="sandbox-buyers")
        self._log.info("sandbox buyers started at %g/s", rate)

    async def stop(self) -> None:
        task = self._cancel_player()
        self.rate = 0.0
        reactions = list(self._reactions)
        self._reactions.clear()
        await stop_tasks([*reactions, task])
        if task is not None:
            self._log.info("sandbox buyers stopped after %d steps", self.steps_played)

    def _cancel_player(self) -> asyncio.Task[None] | None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return task

    async def _play(self) -> None:
        interval = 1.0 / self.rate
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += interval
            await asyncio.sleep(max(0.0, due - loop.time()))
            step = next(self._script)
            try:
                await self.play_step(step)
            except KenarTuiError as exc:
                self._log.info("sandbox buyers: step %d skipped: %s", step.index, exc)
            self.steps_played += 1

    async def play_step(self, step: BuyerStep) -> Message | None:
        """Do one scripted step now; returns the buyer's message, if it wrote one."""
        conversation = self._conversation(step)
        if step.action == "press":
            if conversation.server_links:
                await self._press(conversation, conversation.server_links[-1])
                return None
            # Nothing to press yet: the buyer writes the step's fallback text instead.
            data = {"text": step.data.get("text") or FOLLOW_UPS[0]}
            message, _ = self._core.buyer_writes(conversation, "TEXT", data)
            return message
        message, _ = self._core.buyer_writes(
            conversation, step.message_type or "TEXT", dict(step.data)
        )
        return message

    def _conversation(self, step: BuyerStep) -> ConversationState:
        known = self._ids.get(step.conversation)
        if known is not None and known in self._core.world.conversations:
            return self._core.world.conversations[known]
        conversation = self._core.world.open_conversation(
            post_token=step.post_token, chatbot=step.chatbot
        )
        self._ids[step.conversation] = conversation.id
        return conversation

    async def _press(self, conversation: ConversationState, data: dict[str, Any]) -> None:
        if not self._core.registration.start_url:
            return
        result = await press_button(self._core, conversation.id, data)
        if result["url"]:
            self._core.buyer_writes(conversation, "TEXT", {"text": self._rng.choice(BUTTON_THANKS)})

    # --- answering the seller ------------------------------------------------------------

    def _on_seller_message(
        self, conversation: ConversationState, message: Message, body: dict[str, Any]
    ) -> None:
        if self._task is None or self._rng.random() >= ANSWER_SHARE:
            return
        ticks = self._rng.randint(1, 4)
        press = bool(conversation.server_links) and self._rng.random() < PRESS_ON_REPLY_SHARE
        text = self._rng.choice(FOLLOW_UPS)
        task = asyncio.create_task(self._answer(conversation, ticks / self.rate, press, text))
        self._reactions.add(task)
        task.add_done_callback(self._reactions.discard)

    async def _answer(
        self, conversation: ConversationState, delay: float, press: bool, text: str
    ) -> None:
        await asyncio.sleep(delay)
        try:
            if press:
                await self._press(conversation, conversation.server_links[-1])
            else:
                self._core.buyer_writes(conversation, "TEXT", {"text": text})
        except KenarTuiError as exc:
            self._log.info("sandbox buyers: answer skipped: %s", exc)
