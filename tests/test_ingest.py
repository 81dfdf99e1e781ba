"""Ingest against a real Chroma and the real embedding model."""

import shutil

from tests.conftest import ARTICLE, make_container


def _vector_count(container):
    return container.store.count_vectors()


def test_ingest_twice_adds_nothing_the_second_time(fresh, article_dir):
    first = fresh.ingest([article_dir])
    assert [f.status for f in first.files] == ["added"]
    chunks = first.files[0].chunks
    assert chunks > 80
    vectors = _vector_count(fresh)

    second = fresh.ingest([article_dir])
    assert [f.status for f in second.files] == ["unchanged"]
    assert second.chunks_embedded == 0
    assert _vector_count(fresh) == vectors
    assert [(d.source, d.chunks) for d in fresh.store.documents()] == [(ARTICLE.name, chunks)]


def test_every_chunk_is_the_exact_text_at_its_offsets(indexed):
    text = ARTICLE.read_text(encoding="utf-8")
    chunks = indexed.store.chunks()
    assert chunks
    for chunk in chunks:
        assert text[chunk.start_char : chunk.end_char] == chunk.text
        assert chunk.source == ARTICLE.name


def test_changed_file_replaces_its_chunks(fresh, tmp_path):
    path = tmp_path / "note.md"
    path.write_text("# Note\n\nThe bridge is 12 km long. It opened in 2019.\n", encoding="utf-8")
    fresh.ingest([path])
    doc_id = fresh.store.documents()[0].doc_id
    path.write_text("# Note\n\nThe bridge is 14 km long.\n", encoding="utf-8")
    report = fresh.ingest([path])
    assert [f.status for f in report.files] == ["updated"]
    docs = fresh.store.documents()
    assert [d.doc_id for d in docs] == [doc_id]
    texts = [c.text for c in fresh.store.chunks()]
    assert "The bridge is 14 km long." in texts
    assert not any("12 km" in t for t in texts)


def test_prune_removes_documents_whose_files_are_gone(fresh, tmp_path):
    keep, gone = tmp_path / "keep.txt", tmp_path / "gone.txt"
    keep.write_text("The port handles 5 million tonnes a year.", encoding="utf-8")
    gone.write_text("The airport has two runways.", encoding="utf-8")
    fresh.ingest([keep, gone])
    gone.unlink()
    report = fresh.ingest([keep], prune=True)
    assert report.pruned == [str(gone.resolve())]
    assert [d.source for d in fresh.store.documents()] == ["keep.txt"]
    assert all(c.source == "keep.txt" for c in fresh.store.chunks())


def test_delete_document(fresh, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Alpha is the first letter.", encoding="utf-8")
    fresh.ingest([path])
    doc_id = fresh.store.documents()[0].doc_id
    assert fresh.store.delete_document(doc_id) is True
    assert fresh.store.documents() == []
    assert fresh.store.count_vectors() == 0
    assert fresh.store.delete_document(doc_id) is False


def test_bad_files_are_reported_and_the_rest_still_ingested(fresh, tmp_path, article_dir):
    fresh.ingest([article_dir])
    before = fresh.store.count_vectors()
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(ARTICLE, folder / "good.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.md").write_bytes(b"\x00\xff\x00\xff")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")
    (folder / "ignored.csv").write_text("a,b", encoding="utf-8")  # not a supported type: skipped in folders
    report = fresh.ingest([folder, tmp_path / "missing.txt"])
    by_name = {f.path.rsplit("/", 1)[-1]: f for f in report.files}
    assert by_name["good.txt"].status == "added"
    for name, reason in [
        ("empty.txt", "file is empty"),
        ("binary.md", "binary file"),
        ("broken.pdf", "corrupt or unreadable PDF"),
        ("missing.txt", "not found"),
    ]:
        assert by_name[name].status == "failed"
        assert name in by_name[name].error and reason in by_name[name].error
    assert "ignored.csv" not in by_name
    assert report.failed
    assert fresh.store.count_vectors() > before  # the good file went in; the article is untouched
    assert {d.source for d in fresh.store.documents()} == {ARTICLE.name, "good.txt"}


def test_orphaned_chunks_are_invisible_and_pruned(fresh, tmp_path):
    from ingest.pipeline import build_chunks
    from service.rag.views import VECTOR_VIEWS

    # Chunks written without their document record, as a crash before the commit point leaves them.
    chunks = build_chunks("deadbeefdeadbeef", "ghost.txt", "A ghost sentence. Another one.")
    vectors = {view: [[1.0] + [0.0] * 383 for _ in chunks] for view in VECTOR_VIEWS}
    fresh.store._chunks.add(
        ids=[f"{c.chunk_id}|{view}" for view in VECTOR_VIEWS for c in chunks],
        embeddings=[v for view in VECTOR_VIEWS for v in vectors[view]],
        metadatas=[{"doc_id": c.doc_id, "source": c.source, "idx": c.idx, "start_char": c.start_char,
                    "end_char": c.end_char, "kind": c.kind, "view": view} for view in VECTOR_VIEWS for c in chunks],
    )
    assert fresh.store.count_vectors() == len(chunks) * len(VECTOR_VIEWS)
    assert fresh.store.chunks() == []  # invisible to readers: no document record names them
    fresh.ingestor.prune()
    assert fresh.store.count_vectors() == 0


def test_reads_page_through_collections_of_any_size(indexed, tmp_path, article_dir, monkeypatch):
    # One unbounded read of 100,000 chunks fails in the embedded database; reads go page by page.
    from service.rag import store

    monkeypatch.setattr(store, "_BATCH", 7)
    container = make_container(tmp_path / "index", share_model_with=indexed)
    container.ingest([article_dir])
    assert len(container.store.chunks()) == len(indexed.store.chunks()) > 7 * 10
    assert [c.text for c in container.store.chunks()] == [c.text for c in indexed.store.chunks()]
    assert container.store.delete_orphan_chunks() == 0
    assert container.ingest([article_dir]).files[0].status == "unchanged"


def test_files_chunked_by_an_older_chunking_are_chunked_again(fresh, tmp_path, monkeypatch):
    from ingest import pipeline

    note = tmp_path / "docs" / "note.txt"
    note.parent.mkdir()
    note.write_text("Rail note\n\nThe bridge is 740 meters long.\n", encoding="utf-8")
    assert [f.status for f in fresh.ingest([note]).files] == ["added"]
    assert [f.status for f in fresh.ingest([note]).files] == ["unchanged"]
    monkeypatch.setattr(pipeline, "CHUNKING_VERSION", pipeline.CHUNKING_VERSION + 1)
    assert [f.status for f in fresh.ingest([note]).files] == ["updated"]
    assert [f.status for f in fresh.ingest([note]).files] == ["unchanged"]
