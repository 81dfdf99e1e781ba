"""Turn one file into the text that gets chunked and cited, one function per format.

For ``.txt`` and ``.md`` the document text is the file's UTF-8 text exactly, so citation
offsets index straight into the file. HTML and PDF are converted to plain text once; that
text is stored with the document so their citations are checkable too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
# Bigger files are refused rather than read whole into memory.
MAX_FILE_BYTES = 50 * 1024 * 1024


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
    if suffix in (".txt", ".md"):
        text = _decode_text(path, data)
        title = _first_line(text)
    elif suffix in (".html", ".htm"):
        text, title = _html_text(path, data)
    else:
        text, title = _pdf_text(path, data)
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
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        if tag.name == "head":
            continue
        tag.decompose()
    title_tag = soup.find("title") or soup.find("h1")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if soup.head:
        soup.head.decompose()
    # One block element per line, so headings and paragraphs segment like a text file.
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    text = "\n".join(line for line in lines if line)
    return text, title


def _pdf_text(path: Path, data: bytes) -> tuple[str, str]:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoadError(path, "PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoadError(path, f"corrupt or unreadable PDF ({exc.__class__.__name__}: {exc})") from exc
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    return text, str(title).strip() or _first_line(text)
