"""``/metrics`` in Prometheus text format: counts only, never identities or text."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

from aiohttp import web

from gateway.store.ports import EventLog


class Metrics:
    def __init__(self, journal: EventLog) -> None:
        self.journal = journal
        self.requests: Counter[tuple[str, str]] = Counter()
        self.sources: list[Callable[[], list[str]]] = []  # more lines (gauges) from other parts

    def count(self, channel: str, outcome: str, n: int = 1) -> None:
        if n:
            self.requests[(channel, outcome)] += n

    async def handle(self, request: web.BaseRequest) -> web.Response:
        lines = ["# TYPE lapor_webhook_requests_total counter"]
        for (channel, outcome), n in sorted(self.requests.items()):
            lines.append(f'lapor_webhook_requests_total{{channel="{channel}",outcome="{outcome}"}} {n}')
        counts = await asyncio.to_thread(self.journal.counts)
        for table, states in counts.items():
            lines.append(f"# TYPE lapor_{table} gauge")
            for state, n in sorted(states.items()):
                lines.append(f'lapor_{table}{{state="{state}"}} {n}')
        for source in self.sources:
            lines += source()
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")
