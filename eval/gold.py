"""Find the character offsets of a passage in a document, as the service sees the document's text.

Used when writing evaluation cases: the gold span of a case is given by its offsets into the text that
ingest stores (the file itself for .txt and .md, the converted text for HTML and PDF).

    python -m eval.gold eval/corpus/developer-duties.html "must be kept up to date"
    python -m eval.gold --show eval/corpus/developer-duties.html      # print the converted text
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ingest.loaders import load


def find_span(text: str, quote: str) -> tuple[int, int]:
    """Offsets of the only occurrence of quote in text; ValueError when it is missing or ambiguous."""
    start = text.find(quote)
    if start < 0:
        raise ValueError(f"not found: {quote!r}")
    if text.find(quote, start + 1) >= 0:
        raise ValueError(f"found more than once (quote a longer passage): {quote!r}")
    return start, start + len(quote)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.gold", description=__doc__.splitlines()[0])
    parser.add_argument("document", type=Path)
    parser.add_argument("quotes", nargs="*", help="exact passages of the document's text")
    parser.add_argument("--show", action="store_true", help="print the document's text as stored")
    args = parser.parse_args(argv)
    document = load(args.document)
    if args.show:
        sys.stdout.write(document.text)
        return 0
    status = 0
    for quote in args.quotes:
        try:
            start, end = find_span(document.text, quote)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        print(json.dumps({"source": document.source, "start_char": start, "end_char": end}))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
