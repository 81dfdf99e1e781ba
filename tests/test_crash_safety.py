"""Killing `qa ingest` with SIGKILL at any moment never leaves the index inconsistent: every document a reader
sees is complete, and running the ingest again ends exactly where a clean ingest ends (no duplicate or orphaned
chunks). Real processes, real Chroma, real model; tests/kill_at_write.py places the kills."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from eval.bench import generate_corpus

KILLER = Path(__file__).with_name("kill_at_write.py")
TIMED_KILLS = 3


def start(data_dir: Path, corpus: Path, kill_at_write: int = 0, inspect_to: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "QA_DATA_DIR": str(data_dir), "KILL_AT_WRITE": str(kill_at_write)}
    if inspect_to is not None:
        env["INSPECT_TO"] = str(inspect_to)
    return subprocess.Popen([sys.executable, str(KILLER), "ingest", str(corpus)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def run(data_dir: Path, corpus: Path) -> dict:
    """An ingest that must finish; returns the index before and after it, and its number of writes."""
    report = data_dir.with_name(data_dir.name + "-state.json")
    proc = start(data_dir, corpus, inspect_to=report)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    return json.loads(report.read_text())


def assert_consistent(state: dict | None) -> None:
    if state is None:
        return
    visible: dict[str, int] = {}
    for chunk_id, *_ in state["chunks"]:
        doc_id = chunk_id.split(":", 1)[0]
        visible[doc_id] = visible.get(doc_id, 0) + 1
    # Every document a reader sees is complete, and no chunk is visible without its document.
    assert visible == {doc_id: n for doc_id, _, n in state["documents"]}
    assert len({c[0] for c in state["chunks"]}) == len(state["chunks"])


def assert_same_as_clean(state: dict, clean: dict) -> None:
    assert_consistent(state)
    assert state["documents"] == clean["documents"]
    assert state["chunks"] == clean["chunks"]
    assert state["vectors"] == clean["vectors"] == 2 * len(clean["chunks"])  # no orphan or duplicate vectors


def crash_at_every_write(tmp_path: Path, corpus: Path, starting_index: Path | None, label: str) -> None:
    """From the same starting index, kill an ingest before its 1st write, then its 2nd, ... ; after each crash
    the index must be consistent, and an ingest run again must end where a clean one does."""
    clean = tmp_path / f"{label}-clean"
    if starting_index is not None:
        shutil.copytree(starting_index, clean)
    expected = run(clean, corpus)
    for n in range(1, expected["writes"] + 1):
        data_dir = tmp_path / f"{label}-{n}"
        if starting_index is not None:
            shutil.copytree(starting_index, data_dir)
        proc = start(data_dir, corpus, kill_at_write=n)
        proc.communicate(timeout=600)
        assert proc.returncode == -signal.SIGKILL, f"the ingest made fewer than {n} writes"
        again = run(data_dir, corpus)
        assert_consistent(again["before"])
        assert_same_as_clean(again["after"], expected["after"])
        shutil.rmtree(data_dir)


def test_ingest_killed_before_every_write_recovers(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    generate_corpus(corpus, docs=2, sentences=8, seed=3)
    crash_at_every_write(tmp_path, corpus, None, "new")  # documents added to an empty index

    old = tmp_path / "new-clean"  # the index of the first version, from the loop above
    for path in sorted(corpus.glob("*.md")):
        path.write_text(path.read_text(encoding="utf-8") + "\nIn 2031, a late addendum was filed.\n",
                        encoding="utf-8")
    crash_at_every_write(tmp_path, corpus, old, "changed")  # each document replaces an older version


def test_ingest_killed_at_arbitrary_moments_recovers(tmp_path):
    """Kills spread over the whole run, so some land inside Chroma's own writes."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    generate_corpus(corpus, docs=4, sentences=40, seed=5)
    started = time.monotonic()
    clean = run(tmp_path / "clean", corpus)
    duration = time.monotonic() - started

    crashed = tmp_path / "crashed"
    for k in range(TIMED_KILLS):
        if k == 1:
            first = sorted(corpus.glob("*.md"))[0]
            first.write_text(first.read_text(encoding="utf-8") + "\nIn 2031, a late addendum was filed.\n",
                             encoding="utf-8")
        proc = start(crashed, corpus)
        time.sleep(duration * (k + 1) / (TIMED_KILLS + 1))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    final = run(crashed, corpus)
    assert_consistent(final["before"])
    assert_same_as_clean(final["after"], run(tmp_path / "reference", corpus)["after"])
    assert clean["after"]["documents"] != final["after"]["documents"]  # the change between crashes went in
