"""The relay's counters, rendered as Prometheus text at `GET /metrics`.

Labels are bounded: event types outside Divar's documented set count as `other`, so a sender
cannot grow the page without limit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

KNOWN_TYPES = frozenset(
    {
        "NEW_MESSAGE",
        "NEW_CHATBOT_MESSAGE",
        "USER_ACCESS_REVOCATION",
        "POST_UPDATE",
        "PAYMENT_TRANSACTION",
        "CHAT_MESSAGE",
    }
)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class Metrics:
    received: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    stored: int = 0
    duplicates: int = 0
    button_presses: int = 0
    store_failures: int = 0
    consoles_cut_off: int = 0
    lag_buckets: list[int] = field(default_factory=lambda: [0] * len(LAG_BUCKETS))
    lag_count: int = 0
    lag_sum: float = 0.0

    def count_received(self, event_type: str) -> None:
        self.received[event_type if event_type in KNOWN_TYPES else "other"] += 1

    def count_rejected(self, reason: str) -> None:
        self.rejected[reason] += 1

    def observe_lag(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        self.lag_count += 1
        self.lag_sum += seconds
        for index, bound in enumerate(LAG_BUCKETS):
            if seconds <= bound:
                self.lag_buckets[index] += 1

    def render(self, *, consoles: int, head: int, healthy: bool, unreadable: int = 0) -> str:
        lines: list[str] = []

        def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP kenar_relay_{name} {help_text}")
            lines.append(f"# TYPE kenar_relay_{name} {kind}")
            for labels, value in samples:
                number = repr(value) if isinstance(value, float) else str(value)
                lines.append(f"kenar_relay_{name}{labels} {number}")

        def labelled(counter: Counter[str], label: str) -> list[tuple[str, float]]:
            return [(f'{{{label}="{key}"}}', value) for key, value in sorted(counter.items())]

        metric(
            "events_received_total",
            "counter",
            "Authenticated webhook bodies by event type.",
            labelled(self.received, "type"),
        )
        metric(
            "requests_rejected_total",
            "counter",
            "Requests refused, by reason.",
            labelled(self.rejected, "reason"),
        )
        metric(
            "entries_stored_total",
            "counter",
            "Entries appended to the timeline.",
            [("", self.stored)],
        )
        metric(
            "duplicates_total",
            "counter",
            "Deliveries recognised as already stored.",
            [("", self.duplicates)],
        )
        metric(
            "button_presses_total",
            "counter",
            "Start-URL requests answered.",
            [("", self.button_presses)],
        )
        metric(
            "store_failures_total",
            "counter",
            "Requests answered 503 because the store failed.",
            [("", self.store_failures)],
        )
        metric("consoles_connected", "gauge", "Console websockets open now.", [("", consoles)])
        metric(
            "consoles_cut_off_total",
            "counter",
            "Consoles closed for reading too slowly.",
            [("", self.consoles_cut_off)],
        )
        metric(
            "entries_unreadable_total",
            "counter",
            "Stored entries that could not be opened and went to consoles as `unknown`.",
            [("", unreadable)],
        )
        metric("timeline_head", "gauge", "The newest seq.", [("", head)])
        metric("store_healthy", "gauge", "1 when the store accepts writes.", [("", int(healthy))])
        lines.append("# HELP kenar_relay_delivery_lag_seconds From commit to a live frame sent.")
        lines.append("# TYPE kenar_relay_delivery_lag_seconds histogram")
        for bound, count in zip(LAG_BUCKETS, self.lag_buckets, strict=True):
            lines.append(f'kenar_relay_delivery_lag_seconds_bucket{{le="{bound}"}} {count}')
        lines.append(f'kenar_relay_delivery_lag_seconds_bucket{{le="+Inf"}} {self.lag_count}')
        lines.append(f"kenar_relay_delivery_lag_seconds_sum {self.lag_sum!r}")
        lines.append(f"kenar_relay_delivery_lag_seconds_count {self.lag_count}")
        return "\n".join(lines) + "\n"
