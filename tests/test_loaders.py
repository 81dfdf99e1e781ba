from pathlib import Path

import pytest

from ingest.loaders import LoadError, document_id, load
from tests.conftest import ARTICLE
from tests.pdfgen import minimal_pdf


def test_text_file_is_loaded_exactly():
    doc = load(ARTICLE)
    assert doc.text == ARTICLE.read_bytes().decode("utf-8")
    assert doc.source == ARTICLE.name
    assert doc.title.startswith("Russia-Iran Strategic Partnership")


def test_markdown_keeps_its_text_and_takes_title_from_heading(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("# Briefing note\n\nThe railway is 164 km long.\n", encoding="utf-8")
    doc = load(path)
    assert doc.text == path.read_text(encoding="utf-8")
    assert doc.title == "Briefing note"


def test_html_text_drops_markup_scripts_and_keeps_blocks(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Page title</title><style>p{}</style></head><body>"
        "<h1>Heading</h1><script>var x = 'secret';</script><p>First <b>bold</b> sentence.</p>"
        "<ul><li>Item one.</li><li>Item two.</li></ul><p>A paragraph wrapped\nin the source.</p>"
        "<table><tr><th>City</th><th>Cap</th></tr><tr><td>Paris</td><td>€190</td></tr></table></body></html>",
        encoding="utf-8",
    )
    doc = load(path)
    assert doc.title == "Page title"
    assert doc.text.splitlines() == ["Page title", "Heading", "First bold sentence.", "- Item one.", "- Item two.",
                                     "A paragraph wrapped in the source.", "| City | Cap |", "| Paris | €190 |"]
    assert "secret" not in doc.text


def test_html_site_chrome_is_left_out(tmp_path):
    path = tmp_path / "chapter.html"
    path.write_text(
        "<html><head><title>Duties</title></head><body><div class='related' role='navigation'><a href='i.html'>index</a> | <a>next</a></div>"
        "<nav><a href='/'>Home</a></nav><div role='main'><h1>Duties</h1><p>Vote every year.</p></div>"
        "<div class='sidebar' role='navigation'><h3>Table of Contents</h3><ul><li>Duties</li></ul></div>"
        "<form role='search'><input name='q'></form><aside role='note'>[1] A footnote.</aside>"
        "<footer>Copyright 2023.</footer></body></html>",
        encoding="utf-8",
    )
    # the title already opens the page's text: it is not repeated; a footnote is content
    assert load(path).text.splitlines() == ["Duties", "Vote every year.", "[1] A footnote.", "Copyright 2023."]


def test_pdf_text_is_extracted(tmp_path):
    path = tmp_path / "brief.pdf"
    path.write_bytes(minimal_pdf(["The pipeline capacity is 3 billion cubic meters.", "It opens in 2030."]))
    doc = load(path)
    assert "3 billion cubic meters" in doc.text
    assert "2030" in doc.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "file is empty"),
        ("blob.txt", b"\x00\x01\x02binary", "binary file"),
        ("latin.txt", "café".encode("latin-1"), "not valid UTF-8"),
        ("table.csv", b"a,b\n1,2\n", "unsupported file type '.csv'"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "corrupt or unreadable PDF"),
        ("spaces.md", b"   \n\n  ", "no text in file"),
    ],
)
def test_bad_files_raise_a_clear_error_naming_the_file(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError) as err:
        load(path)
    assert reason in str(err.value)
    assert name in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(LoadError, match="file not found"):
        load(tmp_path / "nope.txt")


def test_document_id_is_stable_per_path(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("one", encoding="utf-8")
    first = document_id(path)
    path.write_text("two", encoding="utf-8")
    assert document_id(path) == first
    assert document_id(Path(tmp_path / "b.txt")) != first
