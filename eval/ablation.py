"""Ablation: what each rule of the answer path is worth, on the tune and frozen splits (extractive mode).

Each rule of `service/rag/selection.py` (RULES) is switched off in turn, and so are the two soft matchers of
`service/rag/evidence.py` (other spellings; near-synonyms in the embedding space; with the scorer as fitted, so
these rows show what the signal adds to the fitted model, not what a model refitted without it would do).
A rule that does not earn its keep on the frozen split should go.

    QA_DATA_DIR=.eval-index python -m eval.ablation --corpus data/corpus --corpus eval/corpus
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from eval.run import DATASETS_DIR, evaluate, pct


@contextlib.contextmanager
def switched_off(name: str, container):
    from service.rag import evidence, selection

    if name in selection.RULES:
        selection.RULES[name] = False
        try:
            yield
        finally:
            selection.RULES[name] = True
    elif name == "spellings":
        saved = evidence.SPELLING_MIN
        evidence.SPELLING_MIN = 2.0  # no ratio reaches it
        try:
            yield
        finally:
            evidence.SPELLING_MIN = saved
    elif name == "synonyms":
        engine = container.engine
        saved = engine.word_vectors
        engine.word_vectors = None
        try:
            yield
        finally:
            engine.word_vectors = saved
    else:
        yield


def main(argv: list[str] | None = None) -> int:
    from service import offline  # noqa: F401
    from service.container import Container
    from service.rag.selection import RULES
    from service.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m eval.ablation", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASETS_DIR)
    parser.add_argument("--corpus", type=Path, action="append", default=[], help="ingest these paths first")
    args = parser.parse_args(argv)
    container = Container(Settings(answer_mode="extractive"))
    if args.corpus and container.ingest(args.corpus).failed:
        return 1
    rows = []
    for name in ["(none)", *RULES, "spellings", "synonyms"]:
        with switched_off(name, container):
            result = evaluate(container, args.dataset, "extractive")
        splits = result["summary"]["by_split"]
        rows.append((name, splits["tune"]["accuracy"], splits["frozen"]["accuracy"]))
        print(f"{name}: tune {pct(rows[-1][1])}, frozen {pct(rows[-1][2])}", file=sys.stderr, flush=True)
    base_tune, base_frozen = rows[0][1], rows[0][2]
    print("| switched off | tune accuracy | change | frozen accuracy | change |")
    print("|---|---|---|---|---|")
    for name, tune, frozen in rows:
        changes = ["", ""] if name == "(none)" else [f"{(v - b) * 100:+.1f} points"
                                                     for v, b in ((tune, base_tune), (frozen, base_frozen))]
        print(f"| {name} | {pct(tune)} | {changes[0]} | {pct(frozen)} | {changes[1]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
