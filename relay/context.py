"""What every endpoint of one relay shares: settings, store, hub, tokens, metrics, waiters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from relay.acks import AckBook
from relay.bus import Bus, LocalBus
from relay.config import Network, RelayConfig
from relay.hub import Hub
from relay.metrics import Metrics
from relay.oauth import OAuthWaiters, on_bus
from relay.presence import PresenceBook
from relay.store import Store
from relay.tokens import TokenReads


@dataclass
class RelayContext:
    config: RelayConfig
    store: Store
    hub: Hub
    tokens: TokenReads
    metrics: Metrics
    logger: logging.Logger
    clock: Callable[[], datetime]
    oauth: OAuthWaiters = field(default_factory=OAuthWaiters)
    acks: AckBook = field(default_factory=AckBook)
    # Presence and OAuth hand-over between replicas; in-process unless the server gives one.
    bus: Bus = field(default_factory=LocalBus)
    presence: PresenceBook = field(init=False)
    draining: bool = False
    identification_key: bytes = b""
    allowed: list[Network] = field(default_factory=list)
    proxies: list[Network] = field(default_factory=list)

    def __post_init__(self) -> None:
        key = self.config.identification_key
        self.identification_key = key.get_secret_value().strip().encode() if key else b""
        self.allowed = self.config.allowed_networks
        self.proxies = self.config.proxy_networks
        self.presence = PresenceBook(self.bus, logger=self.logger.getChild("presence"))
        self.bus.subscribe(on_bus(self.oauth))
