"""`make bench-scale`: ingest throughput and retrieval latency at growing index sizes, embedded Chroma vs a
Chroma server, written to docs/benchmarks.md with a PNG plot.

    python -m eval.bench_scale [--sizes 1000,10000,100000] [--modes embedded,server]

Rows are kept in docs/benchmarks-scale.json; a run replaces the rows of the sizes and modes it measures.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from service import offline  # noqa: F401
from eval.bench import generate_corpus
from eval.local_servers import ChromaServer
from eval.metrics import percentile
from eval.report import replace_section

ROOT = Path(__file__).resolve().parents[1]
SENTENCES_PER_DOC = 100
QUERIES = 50
INGEST_BATCH = 64  # Settings.embed_batch_size's default


def measure(size: int, mode: str, work: Path, embed_model) -> dict:
    from service.container import Container
    from service.settings import Settings

    corpus = work / f"corpus-{size}"
    if not corpus.exists():
        corpus.mkdir()
        generate_corpus(corpus, docs=max(1, size // SENTENCES_PER_DOC), sentences=SENTENCES_PER_DOC, seed=size)
    server = ChromaServer(work / f"chroma-{size}") if mode == "server" else None
    if server is not None:
        server.start()
    try:
        container = Container(Settings(data_dir=work / f"index-{mode}-{size}", chroma_url=server.url if server else None))
        container.__dict__["embed_model"] = embed_model
        raw = raw_embedding_rate(embed_model, work)  # right before the ingest, under the same conditions
        report = container.ingest([corpus], progress=False)
        rng = random.Random(size)
        questions = [f"What did the {rng.choice(['ministry', 'operator', 'consortium'])} of "
                     f"{rng.choice(['Batumi', 'Gyumri', 'Tabriz', 'Baku'])} approve in {rng.randint(2001, 2030)}?"
                     for _ in range(QUERIES)]
        container.retriever.retrieve(questions[0])  # load the corpus snapshot and BM25 outside the timings
        latencies = []
        for q in questions:
            t = time.perf_counter()
            container.retriever.retrieve(q)
            latencies.append((time.perf_counter() - t) * 1000)
        chunks = report.chunks_embedded
        return {
            "size": size, "mode": mode, "chunks": chunks, "ingest_s": report.seconds,
            "chunks_per_s": chunks / report.seconds, "texts_per_s": 2 * chunks / report.seconds, "raw_texts_per_s": raw,
            "retrieve_p50_ms": percentile(latencies, 50), "retrieve_p95_ms": percentile(latencies, 95),
        }
    finally:
        if server is not None:
            server.stop()


def raw_embedding_rate(embed_model, work: Path) -> float:
    sample = work / "raw"
    if not sample.exists():
        sample.mkdir()
        generate_corpus(sample, docs=10, sentences=SENTENCES_PER_DOC, seed=1)
    from ingest.pipeline import build_chunks
    from service.rag.views import view_text

    texts = []
    for path in sorted(sample.glob("*.md")):
        chunks = build_chunks("x", path.name, path.read_text(encoding="utf-8"))
        texts += [view_text(v, chunks, i) for v in ("sentence", "window") for i in range(len(chunks))]
    embed_model.get_text_embedding_batch(texts[:INGEST_BATCH])
    # Batches of the size ingest uses: one big call would pad every text to the longest and understate the rate.
    started = time.perf_counter()
    for lo in range(0, len(texts), INGEST_BATCH):
        embed_model.get_text_embedding_batch(texts[lo : lo + INGEST_BATCH])
    return len(texts) / (time.perf_counter() - started)


def write_markdown(rows: list[dict], out: Path, plot: Path) -> None:
    lines = [
        "## Scaling",
        "",
        f"`make bench-scale` (`python -m eval.bench_scale`). Generated documents of {SENTENCES_PER_DOC} short "
        "sentences; each chunk is embedded twice (sentence and neighbours views). Retrieval latency is the full",
        f"hybrid retrieval (query embedding, Chroma, BM25 over three views, fusion), {QUERIES} queries per size. "
        "\"raw\" is the embedding rate of the model alone, in batches of the size ingest uses, measured right "
        "before each ingest.",
        "",
        "| chunks | mode | ingest | chunks/s | texts/s | raw texts/s | ingest / raw | retrieve p50 | retrieve p95 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['chunks']:,} | {r['mode']} | {r['ingest_s']:.0f} s | {r['chunks_per_s']:.1f} | "
            f"{r['texts_per_s']:.0f} | {r['raw_texts_per_s']:.0f} | {100 * r['texts_per_s'] / r['raw_texts_per_s']:.0f}% | "
            f"{r['retrieve_p50_ms']:.1f} ms | {r['retrieve_p95_ms']:.1f} ms |"
        )
    measured = sorted({r["measured"] for r in rows})
    lines += ["", f"Measured {', '.join(measured)}.", "", *goal_lines(rows), "",
              f"![retrieval latency and ingest rate by index size]({plot.name})"]
    replace_section(out, "scaling", "\n".join(lines))


def goal_lines(rows: list[dict]) -> list[str]:
    """The goals: ingest ≥ 80% of the raw embedding rate; p50 retrieval at the largest size ≤ 2× the smallest."""
    lines = ["Goals:"]
    worst = min(rows, key=lambda r: r["texts_per_s"] / r["raw_texts_per_s"])
    share = worst["texts_per_s"] / worst["raw_texts_per_s"]
    lines.append(f"- ingest ≥ 80% of the raw embedding rate: lowest {100 * share:.0f}% "
                 f"({worst['chunks']:,} chunks, {worst['mode']}) — {'met' if share >= 0.8 else 'NOT met'}")
    for mode in sorted({r["mode"] for r in rows}):
        mine = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["chunks"])
        if len(mine) > 1:
            ratio = mine[-1]["retrieve_p50_ms"] / mine[0]["retrieve_p50_ms"]
            lines.append(f"- {mode}: retrieval p50 at {mine[-1]['chunks']:,} chunks is {ratio:.2f}× the p50 at "
                         f"{mine[0]['chunks']:,} (goal ≤ 2×) — {'met' if ratio <= 2 else 'NOT met'}")
    return lines


def write_plot(rows: list[dict], plot: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for mode in sorted({r["mode"] for r in rows}):
        mine = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["chunks"])
        sizes = [r["chunks"] for r in mine]
        (p50,) = left.plot(sizes, [r["retrieve_p50_ms"] for r in mine], marker="o", label=f"{mode} p50")
        left.axhline(2 * mine[0]["retrieve_p50_ms"], color=p50.get_color(), linestyle=":", linewidth=1,
                     label=f"{mode} p50 goal (2× smallest)")
        left.plot(sizes, [r["retrieve_p95_ms"] for r in mine], marker="x", linestyle="--", label=f"{mode} p95")
        right.plot(sizes, [r["texts_per_s"] for r in mine], marker="o", label=f"{mode} ingest")
        right.plot(sizes, [r["raw_texts_per_s"] for r in mine], marker=".", linestyle=":", label=f"{mode} raw")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel("chunks in the index")
        ax.legend(fontsize="x-small", ncol=2, loc="lower left")
    left.set_ylim(bottom=0)  # room for the legend under the lines
    right.set_ylim(bottom=0)
    left.set_ylabel("retrieval latency (ms)")
    right.set_ylabel("texts embedded / s")
    fig.tight_layout()
    fig.savefig(plot, dpi=100)
    plt.close(fig)


def merge_rows(saved: Path, new: list[dict]) -> list[dict]:
    """Rows kept from earlier runs, with this run's rows replacing those of the same size and mode, so the
    largest size can be measured on its own."""
    rows = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else []
    fresh = {(r["size"], r["mode"]) for r in new}
    rows = [r for r in rows if (r["size"], r["mode"]) not in fresh] + new
    rows.sort(key=lambda r: (r["size"], r["mode"]))
    saved.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--modes", default="embedded,server")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)

    from service.rag.embeddings import load_embedding_model

    embed_model = load_embedding_model()
    work = Path(tempfile.mkdtemp(prefix="qa-scale-"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot = args.out.with_name("benchmarks.png")
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            for mode in args.modes.split(","):
                row = measure(size, mode, work, embed_model)
                row["measured"] = time.strftime("%Y-%m-%d")
                print(" ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
                # Written row by row: a long run that fails later keeps what it measured.
                rows = merge_rows(args.out.with_name("benchmarks-scale.json"), [row])
                write_plot(rows, plot)
                write_markdown(rows, args.out, plot)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"written: {args.out}, {plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
