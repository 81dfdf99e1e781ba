"""Property tests (hypothesis) of the loaders and the citation path: whatever the input, a file either fails with
a clear LoadError or yields text whose chunks, and the citations made from them, index it exactly."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.loaders import LoadError, load
from ingest.pipeline import build_chunks
from ingest.segment import MAX_CHUNK_CHARS, segment
from tests.conftest import make_container

# Text built from what segmentation reacts to: sentence ends, closers, headings, list markers, abbreviations,
# blank lines, CRLF, tabs, non-Latin and combining characters, emoji.
_PIECES = st.sampled_from([
    "The", "treaty", "was", "signed", "in", "2025", "Dr.", "e.g.", "U.S.", "No.", "3.5", "km", "Baku", "Тегеран",
    "طهران", "e\u0301", "🚆", ".", "!", "?", "…", "...", "\"", "”", "’", ")", "(", "[", "»", "«", "#", "##", "-", "*",
    "1.", "2)", "•", " ", " ", " ", "  ", "\t", "\n", "\n\n", "\r\n", "\u00a0", "\u2028", ":", ";", ",",
])
TEXTS = st.one_of(
    st.lists(_PIECES, max_size=200).map("".join),
    st.text(max_size=400),
    st.builds(lambda word, n: (word + " ") * n, st.sampled_from(["word", "a", "Ab."]), st.integers(0, 700)),
)
FUZZ = settings(max_examples=300, deadline=None)


def assert_exact_chunks(text: str, chunks) -> None:
    previous_end = 0
    for chunk in chunks:
        assert 0 <= chunk.start_char < chunk.end_char <= len(text)
        assert text[chunk.start_char : chunk.end_char] == chunk.text
        assert chunk.text.strip() == chunk.text != ""
        assert chunk.start_char >= previous_end  # in order, never overlapping
        assert len(chunk.text) <= MAX_CHUNK_CHARS
        previous_end = chunk.end_char


@FUZZ
@given(text=TEXTS)
def test_segments_index_the_text_exactly(text):
    segments = segment(text)
    assert_exact_chunks(text, build_chunks("d", "s.txt", text))
    assert [(s.start, s.end) for s in segments] == [(c.start_char, c.end_char) for c in build_chunks("d", "s", text)]


@FUZZ
@given(data=st.one_of(TEXTS.map(lambda t: t.encode("utf-8")), st.binary(max_size=400)),
       suffix=st.sampled_from([".txt", ".md"]))
def test_text_loader_keeps_the_file_text_exactly_or_refuses(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("f") / f"doc{suffix}"
    try:
        doc = load(path, data)
    except LoadError as exc:
        assert str(path) in str(exc) and exc.reason
        return
    assert doc.text == data.decode("utf-8")  # txt and md: the document text is the file, so offsets index it
    assert_exact_chunks(doc.text, build_chunks("d", path.name, doc.text))


_TAGS = st.sampled_from(["<p>", "</p>", "<div>", "</div>", "<h1>", "</h1>", "<br>", "<li>", "<script>", "</script>",
                         "<style>", "</style>", "<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&lt;", "&#x1F686;",
                         "&bogus;", "<title>", "</title>", "<table><tr><td>", "</td></tr></table>", "<", ">"])


@FUZZ
@given(parts=st.lists(st.one_of(_TAGS, _PIECES, st.text(max_size=20)), max_size=120))
def test_html_loader_never_crashes_and_chunks_are_exact(tmp_path_factory, parts):
    path = tmp_path_factory.mktemp("f") / "page.html"
    try:
        doc = load(path, "".join(parts).encode("utf-8", "surrogatepass"))
    except LoadError as exc:
        assert exc.reason
        return
    assert_exact_chunks(doc.text, build_chunks("d", path.name, doc.text))


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=2000))
def test_pdf_loader_refuses_garbage_with_a_reason(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("f") / "file.pdf"
    try:
        doc = load(path, b"%PDF-1.4\n" + data)
    except LoadError as exc:
        assert exc.reason
        return
    assert_exact_chunks(doc.text, build_chunks("d", path.name, doc.text))


_WORDS = st.sampled_from(["depot", "trains", "railway", "Kars", "Baku", "corridor", "treaty", "signed", "holds",
                          "opened", "kilometers", "2025", "42", "162", "port", "gauge", "Russia", "Iran"])
_SENTENCES = st.lists(_WORDS, min_size=3, max_size=14).map(lambda ws: " ".join(ws).capitalize() + ".")
_DOCUMENTS = st.lists(st.one_of(_SENTENCES, st.sampled_from(["\n\n", "\n# Heading\n", "\n- ", "\r\n"])),
                      min_size=1, max_size=25).map(" ".join)


@pytest.fixture(scope="module")
def fuzz_container(indexed, tmp_path_factory):
    return make_container(tmp_path_factory.mktemp("fuzz-index"), share_model_with=indexed)


_counter = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_DOCUMENTS, question=st.lists(_WORDS, min_size=1, max_size=8).map(" ".join))
def test_citations_quote_the_document_exactly(fuzz_container, tmp_path_factory, document, question):
    path = tmp_path_factory.mktemp("doc") / f"doc-{next(_counter)}.md"
    path.write_text(document, encoding="utf-8")
    report = fuzz_container.ingest([path])
    if report.failed:  # e.g. nothing but whitespace
        return
    answer = fuzz_container.engine.ask(question + "?")
    for c in answer["citations"]:
        text = fuzz_container.store.document_text(c["doc_id"])
        assert 0 <= c["start_char"] < c["end_char"] <= len(text)
        assert text[c["start_char"] : c["end_char"]] == c["quote"]
        assert c["quote"] in answer["answer"]
