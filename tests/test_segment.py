from ingest.segment import MAX_CHUNK_CHARS, segment
from tests.conftest import ARTICLE


def test_article_offsets_are_exact_and_ordered():
    text = ARTICLE.read_text(encoding="utf-8")
    segments = segment(text)
    assert len(segments) > 80
    previous_end = 0
    for seg in segments:
        assert text[seg.start : seg.end] == seg.text
        assert seg.start >= previous_end
        previous_end = seg.end
    headings = [s.text for s in segments if s.kind == "heading"]
    assert "Global Dimension: Toward a Common Vision" in headings
    assert "Sergei Melkonian" in headings


def test_sentences_split_on_punctuation_not_abbreviations():
    text = "Dr. Smith met the U.S. envoy on Jan. 5. The talks failed! Why? Nobody knows."
    sentences = [s.text for s in segment(text)]
    assert sentences == ["Dr. Smith met the U.S. envoy on Jan. 5.", "The talks failed!", "Why?", "Nobody knows."]


def test_markdown_headings_lists_and_hard_wrapped_lines():
    text = "# Title\n\nA sentence that wraps\nonto the next line. Another one.\n\n- first item here.\n- second item\n"
    segments = segment(text)
    assert [(s.kind, s.text) for s in segments] == [
        ("heading", "Title"),
        ("sentence", "A sentence that wraps\nonto the next line."),
        ("sentence", "Another one."),
        ("sentence", "first item here."),
        ("sentence", "second item"),  # a list item is content, whatever its punctuation
    ]
    for s in segments:
        assert text[s.start : s.end] == s.text


def test_a_short_wrapped_line_inside_a_paragraph_is_not_a_heading():
    text = ("Overview\n\nEach test program should exit with status 0 and print nothing to the Debian\n"
            "Policy checker when it succeeds. A test that fails prints to stderr.\n")
    segments = segment(text)
    assert [(s.kind, s.text) for s in segments] == [
        ("heading", "Overview"),
        ("sentence", "Each test program should exit with status 0 and print nothing to the Debian\n"
                     "Policy checker when it succeeds."),
        ("sentence", "A test that fails prints to stderr."),
    ]


def test_table_rows_are_sentences_of_their_own_and_bylines_stay_headings():
    text = ("Travel policy\nOwner: Finance | 1 May 2025\n\n| City | Hotel cap |\n|---|---|\n| London | £210 |\n"
            "| Paris | €190 |\n")
    segments = segment(text)
    assert [(s.kind, s.text) for s in segments] == [
        ("heading", "Travel policy"),
        ("heading", "Owner: Finance | 1 May 2025"),
        ("sentence", "| City | Hotel cap |"),
        ("sentence", "| London | £210 |"),
        ("sentence", "| Paris | €190 |"),
    ]


def test_long_runs_without_punctuation_are_cut_to_size():
    text = "word " * 2000
    segments = segment(text)
    assert len(segments) > 1
    assert all(s.end - s.start <= MAX_CHUNK_CHARS for s in segments)
    assert all(text[s.start : s.end] == s.text for s in segments)


def test_nothing_but_punctuation_gives_no_segments():
    assert segment("... --- !!!\n\n") == []
