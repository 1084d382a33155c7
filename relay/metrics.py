"""The relay's counters, served as Prometheus text at `GET /metrics` by prometheus-client.

Each relay has its own registry (tests run several relays in one process). Labels are
bounded: event types outside Divar's documented set count as `other`, and rejection reasons
are the relay's own words, so a sender cannot grow the page without limit. The values known
only at scrape time (consoles, head, store health, unreadable entries) come from the caller of
`render`.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

# The `_created` series (a timestamp per counter) would double the page for no question we
# ask of it; this is process-wide, and only the relay serves Prometheus.
disable_created_metrics()

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
PREFIX = "kenar_relay_"


class _ScrapeTimeValues:
    """A collector for the values the relay reads from its hub and store when scraped."""

    def __init__(self) -> None:
        self.consoles = 0
        self.head = 0
        self.healthy = True
        self.unreadable = 0

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            f"{PREFIX}consoles_connected", "Console websockets open now.", value=self.consoles
        )
        yield CounterMetricFamily(
            f"{PREFIX}entries_unreadable",
            "Stored entries that could not be opened and went to consoles as `unknown`.",
            value=self.unreadable,
        )
        yield GaugeMetricFamily(f"{PREFIX}timeline_head", "The newest seq.", value=self.head)
        yield GaugeMetricFamily(
            f"{PREFIX}store_healthy", "1 when the store accepts writes.", value=int(self.healthy)
        )


class Metrics:
    """What the relay counts; `render` is the /metrics page."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)

        def counter(name: str, help_text: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(PREFIX + name, help_text, labels, registry=self.registry)

        self._received = counter(
            "events_received", "Authenticated webhook bodies by event type.", ("type",)
        )
        self._received_by_type: dict[str, Counter] = {}
        self._rejected = counter("requests_rejected", "Requests refused, by reason.", ("reason",))
        self._stored = counter("entries_stored", "Entries appended to the timeline.")
        self._duplicates = counter("duplicates", "Deliveries recognised as already stored.")
        self._button_presses = counter("button_presses", "Start-URL requests answered.")
        self._store_failures = counter(
            "store_failures", "Requests answered 503 because the store failed."
        )
        self._cut_off = counter("consoles_cut_off", "Consoles closed for reading too slowly.")
        self._live_gaps = counter(
            "entries_missed_live", "Entries gone before live delivery (reported as `gap`)."
        )
        self._lag = Histogram(
            f"{PREFIX}delivery_lag_seconds",
            "From commit to a live frame sent.",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self._scrape = _ScrapeTimeValues()
        self.registry.register(self._scrape)

    def count_received(self, event_type: str) -> None:
        # `labels()` (validation, a lock) was ~6% of intake's event loop: each type's child
        # is looked up once. Keyed by the type as sent; at most KNOWN_TYPES and "other".
        child = self._received_by_type.get(event_type)
        if child is None:
            label = event_type if event_type in KNOWN_TYPES else "other"
            child = self._received.labels(label)
            self._received_by_type[label] = child
        child.inc()

    def count_rejected(self, reason: str) -> None:
        self._rejected.labels(reason).inc()

    def count_stored(self) -> None:
        self._stored.inc()

    def count_duplicate(self) -> None:
        self._duplicates.inc()

    def count_button_press(self) -> None:
        self._button_presses.inc()

    def count_store_failure(self) -> None:
        self._store_failures.inc()

    def count_cut_off(self) -> None:
        self._cut_off.inc()

    def count_live_gap(self, entries: int) -> None:
        self._live_gaps.inc(max(entries, 0))

    def observe_lag(self, seconds: float) -> None:
        self._lag.observe(max(seconds, 0.0))

    def value(self, name: str, **labels: str) -> float:
        """A sample's value by its exposed name (e.g. "entries_stored_total"); 0 if unseen."""
        found = self.registry.get_sample_value(PREFIX + name, labels)
        return found if found is not None else 0.0

    @property
    def consoles_cut_off(self) -> int:
        return int(self.value("consoles_cut_off_total"))

    def render(self, *, consoles: int, head: int, healthy: bool, unreadable: int = 0) -> str:
        scrape = self._scrape
        scrape.consoles, scrape.head, scrape.healthy, scrape.unreadable = (
            consoles,
            head,
            healthy,
            unreadable,
        )
        return generate_latest(self.registry).decode("utf-8")
