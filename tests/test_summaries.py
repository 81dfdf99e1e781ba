"""Summaries made before they are asked for: digests stored at ingest, paragraphs written over them in the background
(a fake OpenAI-compatible server on loopback stands in for the model), answers from what is stored."""

import re
import shutil

import pytest

from service.rag import summaries
from tests.conftest import ARTICLE, ROOT, make_container
from tests.fake_llm_server import FakeLLMServer

NOTE = ROOT / "eval" / "corpus" / "instc-briefing-note.txt"


def _first_source_then_a_claim_it_lacks(body: dict) -> str:
    """A paragraph whose first sentence is source [1] verbatim and whose second states a figure no source has."""
    user = body["messages"][1]["content"]
    first = re.search(r"^\[1\] (.+)$", user, re.M).group(1)
    return f"{first.rstrip('.')} [1]. The corridor will carry 90 million tonnes a year [2]."


def test_ingest_stores_a_digest_of_the_document_and_of_each_section(indexed):
    record = next(r for r in indexed.store.documents() if r.source == ARTICLE.name)
    digests, written = indexed.store.summaries(record.doc_id)
    chunks = indexed.retriever.corpus().doc_chunks[record.doc_id]
    assert written == {}  # no model in this container
    assert set(digests) == {summaries.DOCUMENT} | {str(h) for h, _ in summaries.sections(chunks)}
    assert len(digests) > 3  # the article has several sections
    bounds = dict(summaries.sections(chunks))
    for key, indexes in digests.items():
        assert 1 <= len(indexes) <= 6 and indexes == sorted(indexes)
        assert all(chunks[i].kind == "sentence" for i in indexes)
        if key != summaries.DOCUMENT:
            assert all(int(key) < i < bounds[int(key)] for i in indexes), key


def _chunks(rows):
    from service.rag.store import Chunk

    return [Chunk(f"d:{i}", "d", "d.md", i, i, i + 1, kind, text) for i, (kind, text) in enumerate(rows)]


def test_headings_over_the_same_text_make_one_section_whose_summary_answers_for_each():
    chunks = _chunks([
        ("heading", "A policy"), ("sentence", "This policy covers all the travel of staff."),
        ("heading", "5. Transport"), ("heading", "5.1 Air travel"),
        ("sentence", "Economy class is the default for flights."), ("sentence", "Business class needs a director."),
        ("heading", "5.2 Rail travel"), ("sentence", "Standard class is the default for trains."),
        ("sentence", "First class is allowed on long journeys."),
    ])
    assert summaries.sections(chunks) == [(3, 6), (6, 9)]  # "5. Transport" heads what "5.1 Air travel" heads
    digests = {summaries.DOCUMENT: [1], "3": [4, 5], "6": [7, 8]}
    assert summaries.section_key(digests, chunks, ("d", 2, 6)) == "3"  # asked about "5. Transport"
    assert summaries.section_key(digests, chunks, ("d", 6, 9)) == "6"
    assert summaries.section_key(digests, chunks, ("d", 1, 2)) is None


@pytest.fixture()
def note_index(indexed, tmp_path):
    """A container with an index of its own holding the briefing note, and its model at `url` (set per test)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(NOTE, folder / NOTE.name)

    def build(url: str):
        container = make_container(tmp_path / "index", llm_url=url, share_model_with=indexed)
        assert not container.ingest([folder]).failed
        return container, folder / NOTE.name

    return build


def test_a_summary_is_written_once_then_answers_without_the_model(note_index):
    with FakeLLMServer(_first_source_then_a_claim_it_lacks) as fake:
        container, path = note_index(fake.url)
        writer = container.summary_writer
        jobs = writer.pending()
        assert [j.key for j in jobs][0] == summaries.DOCUMENT
        assert jobs[0].question.startswith('Summarize the document "BRIEFING NOTE: THE INSTC')
        assert writer.write_pending() == len(jobs)
        assert len(fake.requests) == len(jobs)
        assert writer.pending() == []  # stored: a restart has nothing left to do

        doc_id = jobs[0].doc_id
        paragraph = container.store.summaries(doc_id)[1][summaries.DOCUMENT]
        assert "90 million" not in paragraph["answer"]  # its source does not say it: dropped
        assert [u["reason"] for u in paragraph["unsupported"]] == ["not in the sources: 90"]

        asked = len(fake.requests)
        answer = container.engine.ask("Summarize the briefing note.", mode="llm")
        assert len(fake.requests) == asked  # no generation
        assert answer["mode"] == "llm" and answer["answer"] == paragraph["answer"]
        assert answer["notice"] == f"a digest of {NOTE.name}, made at ingest"
        text = NOTE.read_text(encoding="utf-8")
        assert all(text[c["start_char"]:c["end_char"]] == c["quote"] for c in answer["citations"])

        # A changed document has new digests: what was written for the old version is not used, and is due again.
        path.write_text(text + "\nA postscript adds one more sentence to the note.\n", encoding="utf-8")
        assert not container.ingest([path]).failed
        assert [j.key for j in writer.pending()] == [j.key for j in jobs]
        assert not container.store.save_written_summary(doc_id, jobs[0].sha256, summaries.DOCUMENT, paragraph)


def test_a_broad_question_other_than_a_summary_gets_a_paragraph_of_its_own(note_index):
    with FakeLLMServer(_first_source_then_a_claim_it_lacks) as fake:
        container, _ = note_index(fake.url)
        container.summary_writer.write_pending()
        asked = len(fake.requests)
        answer = container.engine.ask("List all the obstacles to the corridor.", mode="llm")
        assert len(fake.requests) == asked + 1
        assert answer["notice"] == f"a digest of {NOTE.name}"


def test_an_unreachable_model_writes_nothing_and_leaves_the_summaries_due(note_index):
    with FakeLLMServer("", status=200) as fake:
        url = fake.url
    container, _ = note_index(url)  # the server is gone: connections are refused
    writer = container.summary_writer
    due = writer.pending()
    assert due and writer.write_pending() == 0
    assert writer.pending() == due
    answer = container.engine.ask("Summarize the briefing note.", mode="extractive")
    assert not answer["abstained"] and answer["notice"] == f"a digest of {NOTE.name}, made at ingest"


def test_a_paragraph_with_nothing_verifiable_is_stored_as_such_and_the_digest_answers(note_index):
    with FakeLLMServer("The corridor will carry 90 million tonnes a year [1].") as fake:
        container, _ = note_index(fake.url)
        assert container.summary_writer.write_pending() > 0
        asked = len(fake.requests)
        assert container.summary_writer.pending() == []  # not asked again
        answer = container.engine.ask("Summarize the briefing note.", mode="llm")
        assert len(fake.requests) == asked
        assert answer["mode"] == "extractive" and len(answer["citations"]) >= 3
        assert answer["notice"].endswith("showing the digest instead")


def test_the_background_writer_writes_what_an_ingest_makes_due(note_index):
    with FakeLLMServer(_first_source_then_a_claim_it_lacks) as fake:
        container, path = note_index(fake.url)
        writer = container.summary_writer
        writer.start()
        assert _eventually(lambda: writer.pending() == [])
        written = len(fake.requests)
        assert written > 0
        path.write_text(path.read_text(encoding="utf-8") + "\nA postscript adds one more sentence to the note.\n",
                        encoding="utf-8")
        assert not container.ingest([path]).failed  # wakes the writer: the new version's summaries are due
        assert _eventually(lambda: writer.pending() == [])
        assert len(fake.requests) > written


def _eventually(condition, seconds: float = 60.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False
