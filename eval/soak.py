"""`make soak`: a steady concurrent load on `qa serve` (loopback only) over /v1/ask and streamed /v1/chat, checking
that every request succeeds and that the server's memory stays flat.

    python -m eval.soak [--minutes 5] [--concurrency 8] [--write]

Each simulated user holds a conversation (a question and two follow-ups, the last one streamed as Server-Sent
Events), then starts a new one; others ask one-shot questions. The server's resident memory is sampled every second.
Memory is "flat" when, after a warm-up of the first fifth of the run, it grows by less than the allowance below.
Exit status 1 when a request failed or memory grew more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from service import offline  # noqa: F401
from eval.local_servers import qa_server
from eval.metrics import percentile
from eval.report import replace_section

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
DATASET = ROOT / "eval" / "datasets" / "article.jsonl"
ALLOWED_GROWTH_MB = 30.0
WARM_UP_SHARE = 0.2


@dataclass
class SoakResult:
    seconds: float
    concurrency: int
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, MB)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies_ms.values()) + len(self.errors)

    def memory(self) -> dict[str, float]:
        """RSS just after warm-up and at the end (medians of the nearest samples, so one spike does not count)."""
        warm = [mb for t, mb in self.rss_mb if t >= WARM_UP_SHARE * self.seconds]
        window = max(3, len(warm) // 10)
        start, end = statistics.median(warm[:window]), statistics.median(warm[-window:])
        return {"after_warm_up_mb": start, "end_mb": end, "growth_mb": end - start,
                "peak_mb": max(mb for _, mb in self.rss_mb)}

    @property
    def passed(self) -> bool:
        return not self.errors and self.memory()["growth_mb"] < ALLOWED_GROWTH_MB

    def summary(self) -> str:
        mem = self.memory()
        lines = [f"soak: {self.seconds:.0f} s, {self.concurrency} concurrent users, {self.requests} requests "
                 f"({self.requests / self.seconds:.1f}/s), {len(self.errors)} errors"]
        for kind, values in sorted(self.latencies_ms.items()):
            lines.append(f"  {kind:12} n={len(values):5d}  p50 {percentile(values, 50):7.1f} ms  "
                         f"p95 {percentile(values, 95):7.1f} ms")
        lines.append(f"  memory: {mem['after_warm_up_mb']:.0f} MB after warm-up, {mem['end_mb']:.0f} MB at the end "
                     f"({mem['growth_mb']:+.1f} MB; allowed < {ALLOWED_GROWTH_MB:.0f}), peak {mem['peak_mb']:.0f} MB")
        lines += [f"  error: {e}" for e in self.errors[:10]]
        return "\n".join(lines)


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process (this one by default), in MB."""
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


async def _load(base: str, pid: int, questions: list[str], seconds: float, concurrency: int) -> SoakResult:
    import httpx

    result = SoakResult(seconds, concurrency)
    started = time.monotonic()
    stop_at = started + seconds

    async def timed(kind: str, request) -> dict | None:
        t = time.perf_counter()
        try:
            response = await request
            if response.status_code != 200:
                result.errors.append(f"{kind}: HTTP {response.status_code} {response.text[:200]}")
                return None
            body = response.json() if kind != "chat stream" else _last_answer(response.text)
            if body is None:
                result.errors.append(f"{kind}: the stream ended without an answer event")
                return None
        except httpx.HTTPError as exc:
            result.errors.append(f"{kind}: {exc.__class__.__name__}: {exc}")
            return None
        result.latencies_ms.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        return body

    async def user(n: int, client) -> None:
        i = n
        while time.monotonic() < stop_at:
            i += concurrency
            if n % 2:  # one-shot questions
                await timed("ask", client.post("/v1/ask", json={"question": questions[i % len(questions)]}))
                continue
            first = await timed("chat", client.post("/v1/chat", json={"question": questions[i % len(questions)]}))
            if first is None:
                continue
            conversation = first["conversation_id"]
            await timed("chat", client.post("/v1/chat", json={"question": questions[(i + 1) % len(questions)],
                                                              "conversation_id": conversation}))
            await timed("chat stream", client.post("/v1/chat", json={
                "question": questions[(i + 2) % len(questions)], "conversation_id": conversation, "stream": True}))

    async def sample_memory() -> None:
        while time.monotonic() < stop_at:
            result.rss_mb.append((time.monotonic() - started, rss_mb(pid)))
            await asyncio.sleep(1.0)

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.gather(sample_memory(), *(user(n, client) for n in range(concurrency)))
    result.seconds = time.monotonic() - started
    return result


def _last_answer(stream: str) -> dict | None:
    answer = None
    for block in stream.split("\n\n"):
        if block.startswith("event: answer\n"):
            answer = json.loads(block.split("data: ", 1)[1])
    return answer


def questions_from_dataset() -> list[str]:
    cases = [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [turn for c in cases for turn in c.get("turns", [c.get("question")]) if turn]


def soak(seconds: float, concurrency: int, data_dir: Path | None = None) -> SoakResult:
    """Serve the sample corpus from a fresh index and hold the load for `seconds`."""
    with tempfile.TemporaryDirectory(prefix="qa-soak-") as tmp:
        env = {"QA_ANSWER_MODE": "extractive", "QA_RATE_LIMIT_PER_MINUTE": "0"}
        with qa_server(data_dir or Path(tmp), env, args=("--seed", str(CORPUS))) as (base, process):
            questions = questions_from_dataset()
            # One pass over every question first, so the caches the answers fill are warm before memory counts.
            asyncio.run(_load(base, process.pid, questions, seconds=min(20.0, seconds / 5), concurrency=concurrency))
            return asyncio.run(_load(base, process.pid, questions, seconds, concurrency))


def write_markdown(result: SoakResult, command: str, out: Path) -> None:
    mem = result.memory()
    lines = [
        "## Soak",
        "",
        f"`{command}`: `qa serve` (extractive answers) on loopback, {result.concurrency} concurrent users for "
        f"{result.seconds / 60:.1f} min: half ask one-shot questions on `/v1/ask`, half hold conversations on "
        "`/v1/chat` (a question, a follow-up, then a streamed follow-up). RSS includes the bundled LLM, which "
        "`qa serve` loads at start-up. Measured " + time.strftime("%Y-%m-%d") + ".",
        "",
        "| requests | errors | requests/s | ask p50 / p95 | chat p50 / p95 | chat stream p50 / p95 | RSS after warm-up | "
        "RSS at end | growth |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    cells = []
    for kind in ("ask", "chat", "chat stream"):
        values = result.latencies_ms.get(kind, [])
        cells.append(f"{percentile(values, 50):.0f} / {percentile(values, 95):.0f} ms" if values else "–")
    lines.append(f"| {result.requests} | {len(result.errors)} | {result.requests / result.seconds:.1f} | "
                 + " | ".join(cells)
                 + f" | {mem['after_warm_up_mb']:.0f} MB | {mem['end_mb']:.0f} MB | {mem['growth_mb']:+.1f} MB |")
    lines += ["", f"Memory counts as flat when it grows by less than {ALLOWED_GROWTH_MB:.0f} MB after the first "
              f"{WARM_UP_SHARE:.0%} of the run: {'met' if result.passed else 'NOT met'}."]
    replace_section(out, "soak", "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--write", action="store_true", help="record the result in docs/benchmarks.md")
    args = parser.parse_args(argv)
    result = soak(args.minutes * 60, args.concurrency)
    print(result.summary())
    if args.write:
        command = f"python -m eval.soak --minutes {args.minutes:g} --concurrency {args.concurrency}"
        write_markdown(result, command, ROOT / "docs" / "benchmarks.md")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
