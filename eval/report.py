"""report.md, report.json and PNG charts for one evaluation run (several modes side by side)."""

from __future__ import annotations

import json
from pathlib import Path

from eval.run import format_summary, pct

ROWS = [
    ("accuracy", "accuracy"),
    ("answerable_accuracy", "answerable correct"),
    ("abstention_recall", "unanswerable abstained (recall)"),
    ("abstention_precision", "abstention precision"),
    ("false_abstention_rate", "false abstentions"),
    ("citation_exactness", "citations exact"),
    ("citation_support", "citation overlaps gold span"),
    ("retrieval_hit_at_k", "retrieval hit@k"),
]


def write_report(results: list[dict], folder: Path, feedback: dict | None = None, command: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(
        json.dumps({"results": results, "slack_feedback": feedback}, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    charts = _charts(results, folder)
    modes = [r["mode"] for r in results]
    lines = ["# Evaluation report", ""]
    if command:
        lines += [f"Produced by `{command}`.", ""]
    lines += [f"Dataset: `{results[0]['dataset']}`, split: {results[0]['split']}, cases: {results[0]['summary']['cases']}.", ""]
    lines += ["Factoid questions; broad questions (summaries, arguments, comparisons) are scored apart below.", ""]
    lines += ["| metric | " + " | ".join(modes) + " |", "|---|" + "---|" * len(modes)]
    for key, label in ROWS:
        lines.append(f"| {label} | " + " | ".join(pct(r["summary"][key]) for r in results) + " |")
    lines.append("| retrieval MRR | " + " | ".join(f"{r['summary']['retrieval_mrr'] or 0:.3f}" for r in results) + " |")
    lines.append("| broad questions, every key point cited | " + " | ".join(
        pct(r["summary"].get("broad_accuracy")) for r in results) + " |")
    lines.append("| latency p50 / p95 | " + " | ".join(
        f"{r['summary']['latency_p50_ms']:.0f} / {r['summary']['latency_p95_ms']:.0f} ms" for r in results) + " |")
    categories = sorted({c for r in results for c in r["summary"]["by_category"]})
    lines += ["", "## Accuracy by category", "", "| category | " + " | ".join(modes) + " |", "|---|" + "---|" * len(modes)]
    for cat in categories:
        lines.append(f"| {cat} | " + " | ".join(pct(r["summary"]["by_category"].get(cat, {}).get("accuracy")) for r in results) + " |")
    for key, title in (("by_split", "split"), ("by_document", "document")):
        lines += ["", f"## By {title}", "",
                  f"| {title} | mode | cases | accuracy | answerable correct | unanswerable refused | false refusals | p50 / p95 "
                  "| broad: key points cited |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name in sorted({n for r in results for n in r["summary"].get(key, {})}):
            for r in results:
                s = r["summary"].get(key, {}).get(name)
                if s:
                    lines.append(
                        f"| {name} | {r['mode']} | {s['cases']} | {pct(s['accuracy'])} | {pct(s['answerable_accuracy'])} | "
                        f"{pct(s['abstention_recall'])} | {pct(s['false_abstention_rate'])} | "
                        f"{s['latency_p50_ms']:.0f} / {s['latency_p95_ms']:.0f} ms | "
                        + (f"{pct(s['broad_accuracy'])} of {s['broad_cases']} |" if s.get("broad_cases") else "n/a |"))
    if feedback:
        lines += ["", "## Slack feedback", "", f"👍 {feedback['up']}, 👎 {feedback['down']}"]
    lines += ["", "## Charts", ""] + [f"![{name}]({name})" for name in charts]
    lines += ["", "## Failures", ""]
    for r in results:
        failed = [g for g in r["cases"] if not g["correct"]]
        lines.append(f"### {r['mode']} ({len(failed)})")
        lines += [f"- `{g['id']}` {g['question']} → {g['answer'][:160]}" for g in failed]
        lines.append("")
    lines += ["## Summaries", ""] + [f"```\n{format_summary(r)}\n```" for r in results]
    (folder / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _charts(results: list[dict], folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    categories = sorted({c for r in results for c in r["summary"]["by_category"]})
    width = 0.8 / len(results)
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, r in enumerate(results):
        values = [(r["summary"]["by_category"].get(c, {}).get("accuracy") or 0) * 100 for c in categories]
        ax.bar([x + i * width for x in range(len(categories))], values, width, label=r["mode"])
    ax.set_xticks([x + width * (len(results) - 1) / 2 for x in range(len(categories))], categories)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Accuracy by category and mode")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "accuracy_by_category.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4))
    for r in results:
        latencies = sorted(g["latency_ms"] for g in r["cases"])
        ax.plot(latencies, [100 * (i + 1) / len(latencies) for i in range(len(latencies))], label=r["mode"])
    ax.set_xscale("log")
    ax.set_xlabel("latency per answer (ms, log scale)")
    ax.set_ylabel("answers (%)")
    ax.set_title("Latency distribution")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "latency.png", dpi=100)
    plt.close(fig)
    return ["accuracy_by_category.png", "latency.png"]


def replace_section(path: Path, name: str, text: str) -> None:
    """Write `text` between `<!-- name:start -->` and `<!-- name:end -->` in `path`, keeping everything else, so
    each benchmark owns one section of a shared page; the section is appended when it is not there yet."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if start in current and end in current:
        head, rest = current.split(start, 1)
        updated = head + block + rest.split(end, 1)[1]
    else:
        updated = current.rstrip() + "\n\n" + block + "\n"
    path.write_text(updated, encoding="utf-8")
