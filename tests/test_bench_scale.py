"""The scaling benchmark (`make bench-scale`) at a tiny size: it measures both modes for real, keeps rows of
earlier runs, and reports the goals honestly."""

from __future__ import annotations

import json

from eval.bench_scale import goal_lines, main, merge_rows


def row(size: int, mode: str, *, p50: float, share: float = 1.0) -> dict:
    return {"size": size, "mode": mode, "chunks": size, "texts_per_s": 100 * share, "raw_texts_per_s": 100.0,
            "chunks_per_s": 50 * share, "ingest_s": 1.0, "retrieve_p50_ms": p50, "retrieve_p95_ms": p50 * 1.5,
            "measured": "2026-01-01"}


def test_a_tiny_run_measures_both_modes_and_keeps_earlier_rows(tmp_path):
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\nkept text\n", encoding="utf-8")
    saved = tmp_path / "benchmarks-scale.json"
    saved.write_text(json.dumps([row(100000, "embedded", p50=30.0)]), encoding="utf-8")

    assert main(["--sizes", "100", "--modes", "embedded,server", "--out", str(out)]) == 0

    rows = json.loads(saved.read_text(encoding="utf-8"))
    assert [(r["size"], r["mode"]) for r in rows] == [(100, "embedded"), (100, "server"), (100000, "embedded")]
    for measured in rows[:2]:
        assert measured["chunks"] >= 100
        assert measured["chunks_per_s"] > 0 and measured["raw_texts_per_s"] > 0
        assert 0 < measured["retrieve_p50_ms"] <= measured["retrieve_p95_ms"]
    text = out.read_text(encoding="utf-8")
    assert "kept text" in text and "<!-- scaling:start -->" in text
    assert "| 100,000 | embedded |" in text and "| server |" in text
    assert (tmp_path / "benchmarks.png").read_bytes().startswith(b"\x89PNG")


def test_a_rerun_replaces_only_its_own_size_and_mode(tmp_path):
    saved = tmp_path / "rows.json"
    merge_rows(saved, [row(1000, "embedded", p50=20.0), row(1000, "server", p50=28.0)])
    rows = merge_rows(saved, [row(1000, "server", p50=99.0)])
    assert {(r["mode"], r["retrieve_p50_ms"]) for r in rows} == {("embedded", 20.0), ("server", 99.0)}


def test_goals_missed_are_reported_as_not_met():
    met = goal_lines([row(1000, "server", p50=20.0), row(100000, "server", p50=39.0)])
    assert all(line.endswith("— met") for line in met[1:])

    slow_ingest = goal_lines([row(1000, "embedded", p50=20.0, share=0.79), row(100000, "embedded", p50=20.0)])
    assert "lowest 79% (1,000 chunks, embedded) — NOT met" in slow_ingest[1]

    slow_retrieval = goal_lines([row(1000, "embedded", p50=20.0), row(100000, "embedded", p50=41.0)])
    assert slow_retrieval[2].endswith("2.05× the p50 at 1,000 (goal ≤ 2×) — NOT met")
