"""Disk full on the data directory, on a real tmpfs the test mounts: clear errors, nothing already indexed lost,
and recovery without a restart once space is freed."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from eval.bench import generate_corpus
from service.api.app import create_app
from service.errors import StorageFull
from tests.conftest import make_container

QUESTION = "How long is the Resht–Astara railway?"
DEPOT = b"# Depot\n\nThe Kars depot holds 42 trains.\n"


@pytest.fixture()
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", "--lazy", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of the disk; returns the file to delete to give the space back."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


def test_disk_full_refuses_writes_clearly_keeps_the_index_and_recovers(indexed, article_dir, small_disk, tmp_path):
    container = make_container(small_disk / "data", share_model_with=indexed)
    container.ingest([article_dir])
    more = tmp_path / "more"  # source files live elsewhere; only the data directory is full
    more.mkdir()
    generate_corpus(more, docs=3, sentences=40)

    with TestClient(create_app(container)) as client:
        assert client.post("/v1/ask", json={"question": QUESTION}).status_code == 200
        documents_before = client.get("/v1/documents").json()
        filler = fill(small_disk)

        # Writes fail with a clear error and leave nothing behind.
        upload = client.post("/v1/documents", files=[("files", ("depot.md", DEPOT, "text/markdown"))])
        assert upload.status_code == 507
        assert upload.json()["error"] == {
            "code": "storage_full", "message": "no space left to store the upload; nothing was saved or ingested"}
        assert not any((container.settings.uploads_dir).glob("depot.md"))
        with pytest.raises(StorageFull, match="no space left on the index's disk.*run the ingest again"):
            container.ingest([more])
        assert client.get("/v1/documents").json() == documents_before

        # Reads still work from the intact index; a turn that cannot be saved is said so, not an error.
        answer = client.post("/v1/chat", json={"question": QUESTION})
        assert answer.status_code == 200 and "162" in answer.json()["answer"]
        saved = client.get(f"/v1/conversations/{answer.json()['conversation_id']}")
        assert saved.status_code == 200 or "This turn was not saved" in answer.json()["notice"]

        # Space comes back: the same process ingests, answers and saves again, with no restart.
        filler.unlink()
        upload = client.post("/v1/documents", files=[("files", ("depot.md", DEPOT, "text/markdown"))])
        assert upload.status_code == 200 and upload.json()["files"][0]["status"] == "added"
        report = container.ingest([more])
        assert [f.status for f in report.files] == ["added"] * 3
        depot = client.post("/v1/chat", json={"question": "How many trains does the Kars depot hold?"})
        assert "42" in depot.json()["answer"] and not depot.json()["notice"]
        assert client.get(f"/v1/conversations/{depot.json()['conversation_id']}").status_code == 200
        assert len(client.get("/v1/documents").json()) == len(documents_before) + 4
