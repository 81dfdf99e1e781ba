"""Turn one file into the text that gets chunked and cited, one function per format.

For ``.txt`` and ``.md`` the document text is the file's UTF-8 text exactly, so citation
offsets index straight into the file. HTML and PDF are converted to plain text once; that
text is stored with the document so their citations are checkable too.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
# Bigger files are refused rather than read whole into memory.
log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
# Nor may a small file expand into more text than the largest file could hold (a compressed PDF can).
MAX_TEXT_CHARS = MAX_FILE_BYTES


class LoadError(Exception):
    """A file that cannot be ingested; the message says why and names the file."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class LoadedDocument:
    path: Path
    source: str  # file name shown in citations
    text: str
    title: str
    sha256: str


def document_id(path: Path) -> str:
    """Stable id of the document at this path: the same file keeps its id when its content changes."""
    return hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:16]


def read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise LoadError(path, "file not found")
    if not path.is_file():
        raise LoadError(path, "not a regular file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(path, f"unsupported file type '{suffix or '(none)'}'; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    size = path.stat().st_size
    if size == 0:
        raise LoadError(path, "file is empty")
    if size > MAX_FILE_BYTES:
        raise LoadError(path, f"file is too large ({size} bytes; limit {MAX_FILE_BYTES})")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot read file ({exc.strerror or exc})") from exc


def load(path: Path, data: bytes | None = None) -> LoadedDocument:
    """Load one file; raises LoadError with a clear reason for anything that is not a usable document."""
    data = read_bytes(path) if data is None else data
    suffix = path.suffix.lower()
    try:
        if suffix in (".txt", ".md"):
            text = _decode_text(path, data)
            title = _first_line(text)
        elif suffix in (".html", ".htm"):
            text, title = _html_text(path, data)
        else:
            text, title = _pdf_text(path, data)
    except LoadError:
        raise
    except Exception as exc:  # RecursionError and MemoryError included
        # A parser failing on a hostile or broken file costs that file only, never the rest of the ingest.
        log.warning("cannot parse %s", path, exc_info=True)
        raise LoadError(path, f"cannot parse the file ({exc.__class__.__name__})") from exc
    if len(text) > MAX_TEXT_CHARS:
        raise LoadError(path, f"too much text ({len(text)} characters; limit {MAX_TEXT_CHARS})")
    if not text.strip():
        raise LoadError(path, "no text in file" if suffix != ".pdf" else "no extractable text (scanned or image-only PDF?)")
    return LoadedDocument(
        path=path, source=path.name, text=text, title=title or path.stem, sha256=hashlib.sha256(data).hexdigest()
    )


def _decode_text(path: Path, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise LoadError(path, "binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(path, f"not valid UTF-8 text (byte {exc.start})") from exc


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return ""


_HTML_BLOCKS = (
    "p", "div", "section", "article", "header", "footer", "li", "tr", "br", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "table", "ul", "ol", "dd", "dt", "title",
)


def _html_text(path: Path, data: bytes) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    if b"\x00" in data[:8192]:
        raise LoadError(path, "binary file, not HTML")
    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    # Site chrome (navigation bars, search boxes, sidebars) repeats on every page of a site and says nothing
    # about the page: left in, "previous | next | index" lines are retrieved and quoted like sentences.
    for tag in soup.find_all(_is_site_chrome):
        tag.decompose()
    title_tag = soup.find("title") or soup.find("h1")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if soup.head:
        soup.head.decompose()
    lines = [" ".join(line.split()) for line in _block_text(soup).splitlines()]
    lines = [line for line in lines if line]
    if title and (not lines or lines[0] != title):
        # The page's title opens the text, as a text file's title line does: it is often the only place that
        # names the document (a manual's version, say), and a citation can only point into the text.
        lines.insert(0, title)
    return "\n".join(lines), title


_CHROME_ROLES = {"navigation", "search"}


def _is_site_chrome(tag) -> bool:
    return tag.name in ("nav", "form") or str(tag.get("role", "")).lower() in _CHROME_ROLES


def _block_text(root) -> str:
    """The visible text with one block element per line, so headings and paragraphs segment like a text file.

    Line breaks inside an element are only the HTML source's wrapping: they become spaces, so that each line of
    the text is one whole block. List items start with "- " and table rows read "| cell | cell |", as in Markdown.

    One pass with an explicit stack: linear however deeply the tags nest (unclosed <p> and <div> nest in the tree,
    and bs4's own insert/get_text helpers walk the subtree each time, which is quadratic there)."""
    from bs4 import CData, NavigableString

    out: list[str] = []
    stack: list[tuple[object, str | None]] = [(root, None)]
    while stack:
        node, closing = stack.pop()
        if closing is not None:
            out.append(closing)
        elif isinstance(node, NavigableString):
            if type(node) in (NavigableString, CData):  # not comments, doctypes or processing instructions
                out.append(" ".join(str(node).split("\n")))
        else:
            name = node.name
            if name in ("td", "th"):
                out.append(" ")
                stack.append((node, " |"))
            elif name == "tr":
                out.append("\n|")
                stack.append((node, "\n"))
            elif name in _HTML_BLOCKS:
                out.append("\n- " if name == "li" else "\n")
                stack.append((node, "\n"))
            stack.extend((child, None) for child in reversed(node.contents))
    return "".join(out)


def _pdf_text(path: Path, data: bytes) -> tuple[str, str]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoadError(path, "PDF is encrypted")
        pages, chars = [], 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            chars += len(pages[-1])
            if chars > MAX_TEXT_CHARS:  # stop before a huge PDF's text fills memory
                raise LoadError(path, f"too much text (over {MAX_TEXT_CHARS} characters)")
        title = (reader.metadata.title if reader.metadata else None) or ""
    except LoadError:
        raise
    except LimitReachedError as exc:
        # pypdf stops inflating a stream at its output limit: a decompression bomb, or a page too big to read.
        raise LoadError(path, f"PDF content expands beyond the size limit ({exc})") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoadError(path, f"corrupt or unreadable PDF ({exc.__class__.__name__}: {exc})") from exc
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    return text, str(title).strip() or _first_line(text)
