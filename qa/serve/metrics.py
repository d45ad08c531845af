"""Prometheus metrics of one app: its own registry, labels drawn from fixed sets only.

A label value a client could choose (a method name, an unknown path) would let anyone grow
the registry without limit, so methods outside ``METHODS`` count as ``other`` and paths
that match no route as ``unmatched``.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REJECT_REASONS = (
    "overloaded",
    "queue_timeout",
    "unauthorized",
    "body_too_large",
    "body_timeout",
    "index_busy",
)
STAGES = ("encode", "retrieve", "read")
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


class Metrics:
    """What a QA service is judged by: requests, answers vs abstentions, stage latency,
    index size, writes, rejections by reason, and the process itself."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.requests = Counter(
            "qa_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "qa_http_request_duration_seconds",
            "HTTP request latency by route and method.",
            ["route", "method"],
            buckets=_LATENCY,
            registry=r,
        )
        self.questions = Counter(
            "qa_questions", "Questions answered or abstained on.", ["outcome"], registry=r
        )
        self.stage = Histogram(
            "qa_stage_duration_seconds",
            "Time per answering stage (encode the question, retrieve, read).",
            ["stage"],
            buckets=_LATENCY,
            registry=r,
        )
        self.documents_added = Counter("qa_documents_added", "Documents added.", registry=r)
        self.documents_removed = Counter("qa_documents_removed", "Documents removed.", registry=r)
        self.rejected = Counter(
            "qa_rejected_requests", "Requests refused, by reason.", ["reason"], registry=r
        )
        self.in_flight = Gauge(
            "qa_in_flight", "Engine calls running now, by kind.", ["kind"], registry=r
        )
        self.waiting = Gauge(
            "qa_queue_waiting", "Requests waiting for a slot, by kind.", ["kind"], registry=r
        )
        self.index_documents = Gauge("qa_index_documents", "Documents indexed.", registry=r)
        self.index_passages = Gauge("qa_index_passages", "Passages indexed.", registry=r)
        for reason in REJECT_REASONS:  # present from the start, so rates work at once
            self.rejected.labels(reason)
        for outcome in ("answered", "abstained"):
            self.questions.labels(outcome)

    def index_size(self, documents: Callable[[], float], passages: Callable[[], float]) -> None:
        """Read the index size when scraped, never stale."""
        self.index_documents.set_function(documents)
        self.index_passages.set_function(passages)

    def answered(self, answered: bool, timings_ms: dict[str, float]) -> None:
        self.questions.labels("answered" if answered else "abstained").inc()
        for stage in STAGES:
            if stage in timings_ms:
                self.stage.labels(stage).observe(timings_ms[stage] / 1000)
