"""Runs the `qa` command, killing itself with SIGKILL just before its Nth write to Chroma.

    KILL_AT_WRITE=N [INSPECT_TO=state.json] python tests/kill_at_write.py ingest <paths>

KILL_AT_WRITE=0 kills nothing. INSPECT_TO (for runs that finish) records what a reader of the index sees before
and after the command, and how many writes it made, so a test can walk a crash through every write of an ingest.
"""

import json
import os
import signal
import sys
from pathlib import Path

from chromadb.api.models.Collection import Collection

KILL_AT = int(os.environ.get("KILL_AT_WRITE", "0"))
writes = 0


def _counted(name: str) -> None:
    original = getattr(Collection, name)

    def write(self, *args, **kwargs):
        global writes
        writes += 1
        if writes == KILL_AT:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, *args, **kwargs)

    setattr(Collection, name, write)


def index_state() -> dict | None:
    from service.rag.store import ChunkStore, open_client

    data_dir = Path(os.environ["QA_DATA_DIR"])
    if not (data_dir / "chroma").exists():
        return None
    store = ChunkStore(open_client(data_dir))
    return {
        "documents": sorted([r.doc_id, r.sha256, r.chunks] for r in store.documents()),
        "chunks": sorted([c.chunk_id, c.start_char, c.end_char, c.text] for c in store.chunks()),
        "vectors": store.count_vectors(),
    }


for _name in ("add", "upsert", "update", "delete"):
    _counted(_name)

if __name__ == "__main__":
    from service.cli import main

    report_to = os.environ.get("INSPECT_TO")
    before = index_state() if report_to else None
    code = main(sys.argv[1:])
    if report_to:
        Path(report_to).write_text(json.dumps({"before": before, "after": index_state(), "writes": writes}))
    sys.exit(code)
