"""What each chunk is searched and weighed with: its heading, a table row's header row, a list item's lead-in."""

import pytest

from service.rag.store import Chunk
from service.rag.views import LEAD_IN_REACH, headings, table_headers


def _chunks(*texts_and_kinds):
    return [Chunk(f"c{i}", "d", "doc.md", i, i * 10, i * 10 + 5, kind, text)
            for i, (kind, text) in enumerate(texts_and_kinds)]


def test_a_table_row_is_read_under_its_header_row():
    chunks = _chunks(("heading", "Allowances"), ("sentence", "| City | Hotel cap |"), ("sentence", "| London | £200 |"))
    assert table_headers(chunks) == [None, None, chunks[1]]
    assert headings(chunks)[2] == "Allowances | City | Hotel cap |"


@pytest.mark.parametrize("offset, has_lead_in", [(1, True), (LEAD_IN_REACH, True), (LEAD_IN_REACH + 1, False)])
def test_list_items_are_read_with_the_sentence_that_introduces_them(offset, has_lead_in):
    lead_in = "The approval chain depends on the type of trip:"
    items = [("sentence", f"Item {n}: the line manager.") for n in range(1, LEAD_IN_REACH + 2)]
    chunks = _chunks(("heading", "Approval"), ("sentence", lead_in), *items)
    assert (lead_in in headings(chunks)[1 + offset]) is has_lead_in


def test_a_new_heading_ends_the_list():
    chunks = _chunks(("heading", "A"), ("sentence", "Rates are:"), ("sentence", "45p a mile."),
                     ("heading", "B"), ("sentence", "Taxis need a receipt."))
    assert headings(chunks) == ["", "A", "A Rates are:", "A Rates are:", "B"]
