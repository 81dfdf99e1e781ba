"""Request and answer metrics in Prometheus' text format (no client library needed)."""

from __future__ import annotations

import threading
from collections import defaultdict

_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self._latency_buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(_BUCKETS))
        self._latency_sum: dict[str, float] = defaultdict(float)
        self._latency_count: dict[str, int] = defaultdict(int)
        self._answers: dict[tuple[str, str], int] = defaultdict(int)
        self._feedback: dict[str, int] = defaultdict(int)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(method, route, str(status))] += 1
            for i, bound in enumerate(_BUCKETS):
                if seconds <= bound:
                    self._latency_buckets[route][i] += 1
            self._latency_sum[route] += seconds
            self._latency_count[route] += 1

    def observe_answer(self, answer: dict) -> None:
        with self._lock:
            self._answers[(answer["mode"], "true" if answer["abstained"] else "false")] += 1

    def observe_feedback(self, value: str) -> None:
        with self._lock:
            self._feedback[value] += 1

    def render(self) -> str:
        lines = [
            "# HELP qa_http_requests_total HTTP requests by method, route and status.",
            "# TYPE qa_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self._requests.items()):
                lines.append(f'qa_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}')
            lines += [
                "# HELP qa_http_request_duration_seconds HTTP request latency by route.",
                "# TYPE qa_http_request_duration_seconds histogram",
            ]
            for route in sorted(self._latency_count):
                for bound, n in zip(_BUCKETS, self._latency_buckets[route]):
                    lines.append(f'qa_http_request_duration_seconds_bucket{{route="{route}",le="{bound}"}} {n}')
                count = self._latency_count[route]
                lines.append(f'qa_http_request_duration_seconds_bucket{{route="{route}",le="+Inf"}} {count}')
                lines.append(f'qa_http_request_duration_seconds_sum{{route="{route}"}} {self._latency_sum[route]:.6f}')
                lines.append(f'qa_http_request_duration_seconds_count{{route="{route}"}} {count}')
            lines += [
                "# HELP qa_answers_total Answers by mode and whether the service abstained.",
                "# TYPE qa_answers_total counter",
            ]
            for (mode, abstained), n in sorted(self._answers.items()):
                lines.append(f'qa_answers_total{{mode="{mode}",abstained="{abstained}"}} {n}')
            lines += ["# HELP qa_feedback_total Slack 👍/👎 clicks on answers.", "# TYPE qa_feedback_total counter"]
            for value in ("up", "down"):
                lines.append(f'qa_feedback_total{{value="{value}"}} {self._feedback[value]}')
        return "\n".join(lines) + "\n"
