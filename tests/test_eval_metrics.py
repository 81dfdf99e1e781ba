from eval.metrics import answer_correct, citation_exact, citation_supported, key_points_cited, percentile


def test_answer_correct_needs_every_pattern():
    assert answer_correct("The loan was €1.3 billion in 2023.", [r"1\.3 billion", "2023"])
    assert not answer_correct("The loan was €1.3 billion.", [r"1\.3 billion", "2023"])
    assert not answer_correct("anything", [])


def test_citation_exact_checks_offsets_and_text():
    text = "Alpha. Beta gamma."
    assert citation_exact({"quote": "Beta gamma.", "start_char": 7, "end_char": 18}, text)
    assert not citation_exact({"quote": "Beta gamma", "start_char": 7, "end_char": 18}, text)
    assert not citation_exact({"quote": "x", "start_char": 17, "end_char": 99}, text)
    assert not citation_exact({"quote": "x", "start_char": 0, "end_char": 1}, None)


def test_citation_supported_by_overlap_with_a_gold_span_of_the_same_source():
    gold = [{"source": "a.txt", "start_char": 10, "end_char": 20}]
    assert citation_supported([{"source": "a.txt", "start_char": 15, "end_char": 30}], gold)
    assert not citation_supported([{"source": "a.txt", "start_char": 20, "end_char": 30}], gold)
    assert not citation_supported([{"source": "b.txt", "start_char": 15, "end_char": 30}], gold)


def test_percentile():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50.5
    assert percentile([], 50) == 0.0
    assert percentile([3.0], 95) == 3.0


def test_a_broad_answer_passes_when_every_key_point_is_stated_and_cited():
    cited = [{"quote": "Standard class is the default."}, {"quote": "First class may be\n booked when it is long."}]
    points = ["standard class", "first class"]
    assert key_points_cited("Standard class is the default. First class may be booked.", cited, points)
    # stated but not in any cited passage
    assert not key_points_cited("Standard class is the default. First class may be booked.", cited[:1], points)
    # cited but not stated
    assert not key_points_cited("Standard class is the default.", cited, points)
