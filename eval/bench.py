"""`make bench`: ingest throughput and answer latency on this machine, printed as numbers.

    python -m eval.bench [--docs 40] [--sentences 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from service import offline  # noqa: F401
from eval.metrics import percentile

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
DATASET = ROOT / "eval" / "datasets" / "article.jsonl"
ARTICLE = "russia-iran-partnership-south-caucasus.txt"

_SUBJECTS = ["The ministry", "The consortium", "The port authority", "The regional council", "The operator",
             "The central bank", "The rail company", "The energy agency", "The customs service", "The delegation"]
_VERBS = ["approved", "announced", "financed", "postponed", "reviewed", "signed", "expanded", "completed"]
_OBJECTS = ["a {n}-kilometer pipeline", "a loan of ${n} million", "{n} new border crossings",
            "a {n}% tariff cut", "a terminal handling {n} thousand containers", "a {n}-year concession"]
_PLACES = ["Batumi", "Gyumri", "Ganja", "Tabriz", "Astrakhan", "Rasht", "Poti", "Baku", "Yerevan", "Tbilisi"]


def generate_corpus(folder: Path, docs: int, sentences: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for d in range(docs):
        lines = [f"# Regional bulletin {d + 1}", ""]
        for s in range(sentences):
            obj = rng.choice(_OBJECTS).format(n=rng.randint(2, 900))
            lines.append(
                f"In {rng.randint(2001, 2030)}, {rng.choice(_SUBJECTS).lower()} of {rng.choice(_PLACES)} "
                f"{rng.choice(_VERBS)} {obj} near {rng.choice(_PLACES)}."
                + ("\n" if s % 6 == 5 else "")
            )
        (folder / f"bulletin-{d + 1:03d}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def bench_http(data_dir: Path, questions: list[str], per_level: int, levels=(1, 8, 32)) -> dict[str, float]:
    """POST /v1/ask (extractive) against `qa serve` in its own process on loopback, at several concurrencies."""
    import asyncio

    import httpx

    from eval.local_servers import qa_server

    env = {"QA_ANSWER_MODE": "extractive", "QA_RATE_LIMIT_PER_MINUTE": "0"}
    with qa_server(data_dir, env) as (base, _):
        async def level(concurrency: int) -> tuple[list[float], int, float]:
            latencies: list[float] = []
            errors = 0
            counter = iter(range(per_level))
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                async def worker():
                    nonlocal errors
                    for i in counter:
                        t = time.perf_counter()
                        r = await client.post("/v1/ask", json={"question": questions[i % len(questions)]})
                        latencies.append((time.perf_counter() - t) * 1000)
                        errors += r.status_code != 200
                started = time.perf_counter()
                await asyncio.gather(*(worker() for _ in range(concurrency)))
                return latencies, errors, time.perf_counter() - started

        out: dict[str, float] = {}
        asyncio.run(level(2))  # warm the server
        for concurrency in levels:
            latencies, errors, seconds = asyncio.run(level(concurrency))
            out[f"http_c{concurrency}_p50_ms"] = percentile(latencies, 50)
            out[f"http_c{concurrency}_p95_ms"] = percentile(latencies, 95)
            out[f"http_c{concurrency}_rps"] = len(latencies) / seconds
            out[f"http_c{concurrency}_errors"] = errors
        return out


def bench_llm(container, dataset: Path, count: int) -> dict[str, float]:
    """Full-answer latency, time to the streamed draft (the extractive answer shown while the model writes; goal
    150 ms) and time to the first streamed token in llm mode, on answerable questions (unanswerable ones abstain
    before the model is called, which would flatter the figures)."""
    cases = [json.loads(line) for line in dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [c["question"] for c in cases if "question" in c and not c.get("unanswerable")][:count]
    container.llm_provider.get()  # load outside the timings
    container.engine.ask(questions[0], mode="llm")
    totals, drafts, first_tokens, fallbacks = [], [], [], 0
    for question in questions:
        started = time.perf_counter()
        first = None
        for event in container.engine.ask_stream(question, mode="llm"):
            if event["type"] == "draft":
                drafts.append((time.perf_counter() - started) * 1000)
            elif event["type"] == "token" and first is None:
                first = (time.perf_counter() - started) * 1000
            elif event["type"] == "answer":
                fallbacks += event["mode"] != "llm"
        totals.append((time.perf_counter() - started) * 1000)
        if first is not None:
            first_tokens.append(first)
    return {
        "llm_questions": len(questions),
        "llm_total_p50_ms": percentile(totals, 50),
        "llm_total_p95_ms": percentile(totals, 95),
        "llm_draft_p50_ms": percentile(drafts, 50),
        "llm_draft_p95_ms": percentile(drafts, 95),
        "llm_draft_within_150_ms": f"{sum(d <= 150 for d in drafts)}/{len(drafts)}",
        "llm_first_token_p50_ms": percentile(first_tokens, 50),
        "llm_first_token_p95_ms": percentile(first_tokens, 95),
        "llm_fallbacks": fallbacks,
    }


def bench_summaries(container, source: str) -> dict[str, float]:
    """Writing the stored summaries of one document (its whole text and each section), then "Summarize X" for
    each of them in llm mode: answered from what is stored (goal 1 s), with no generation."""
    writer = container.summary_writer
    doc_id = next(r.doc_id for r in container.store.documents() if r.source == source)
    jobs = [job for job in writer.pending() if job.doc_id == doc_id]
    started = time.perf_counter()
    written = sum(writer.write(job) for job in jobs)
    seconds = time.perf_counter() - started
    totals, stored = [], 0
    for job in jobs:
        t = time.perf_counter()
        answer = container.engine.ask(job.question, mode="llm")
        totals.append((time.perf_counter() - t) * 1000)
        stored += (answer.get("notice") or "").endswith("made at ingest") and "generate" not in answer["timings_ms"]
    return {
        "summaries_written": f"{written}/{len(jobs)}",
        "summaries_write_s": seconds,
        "summary_ask_p50_ms": percentile(totals, 50),
        "summary_ask_p95_ms": percentile(totals, 95),
        "summary_ask_from_stored": f"{stored}/{len(jobs)}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--sentences", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the questions for latency")
    parser.add_argument("--llm-questions", type=int, default=30,
                        help="answerable questions timed in llm mode (0 skips the LLM benchmark)")
    parser.add_argument("--http-requests", type=int, default=200,
                        help="requests per concurrency level for the HTTP benchmark (0 skips it)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)

    from service.container import Container
    from service.settings import Settings

    results: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        started = time.perf_counter()
        container = Container(Settings(data_dir=work / "index"))
        model = container.embed_model
        results["model_load_s"] = time.perf_counter() - started

        texts = [c.text for c in __import__("ingest.pipeline", fromlist=["x"]).build_chunks(
            "x", "x", (CORPUS / "russia-iran-partnership-south-caucasus.txt").read_text(encoding="utf-8"))]
        model.get_text_embedding_batch(texts[:8])
        started = time.perf_counter()
        model.get_text_embedding_batch(texts * 3)
        results["raw_embedding_texts_per_s"] = 3 * len(texts) / (time.perf_counter() - started)

        report = container.ingest([CORPUS], progress=False)
        results["article_chunks"] = report.chunks_embedded
        results["article_ingest_s"] = report.seconds
        results["article_chunks_per_s"] = report.chunks_embedded / report.seconds

        generated = work / "generated"
        generated.mkdir()
        generate_corpus(generated, args.docs, args.sentences)
        report = container.ingest([generated], progress=False)
        results["generated_docs"] = args.docs
        results["generated_chunks"] = report.chunks_embedded
        results["generated_ingest_s"] = report.seconds
        results["generated_chunks_per_s"] = report.chunks_embedded / report.seconds
        started = time.perf_counter()
        container.ingest([generated], progress=False)
        results["reingest_unchanged_s"] = time.perf_counter() - started

        questions = [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line.strip()]
        questions = [q["question"] for q in questions if "question" in q]
        container.warm_up()
        for q in questions[:5]:
            container.engine.ask(q, mode="extractive")
        latencies = []
        for _ in range(args.repeat):
            for q in questions:
                t = time.perf_counter()
                container.engine.ask(q, mode="extractive")
                latencies.append((time.perf_counter() - t) * 1000)
        results["ask_questions"] = len(latencies)
        results["ask_p50_ms"] = percentile(latencies, 50)
        results["ask_p95_ms"] = percentile(latencies, 95)
        results["ask_mean_ms"] = statistics.fmean(latencies)

        if args.llm_questions and container.llm_provider.configured:
            results.update(bench_llm(container, DATASET, args.llm_questions))
            results.update(bench_summaries(container, ARTICLE))

        if args.http_requests:
            results.update(bench_http(work / "index", questions, args.http_requests))

        qa = Path(sys.executable).parent / "qa"
        started = time.perf_counter()
        subprocess.run(
            [str(qa), "ask", "How long is the Resht–Astara railway?"],
            env={**__import__("os").environ, "QA_DATA_DIR": str(work / "index")},
            capture_output=True, check=True, timeout=300,
        )
        results["cli_ask_cold_s"] = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)

    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value:,.2f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
