"""The same documents and questions give the same answers, whatever folder the documents were ingested from and
in whatever order (document ids hash the path; nothing an answer depends on may)."""

import shutil

from eval.run import DATASETS_DIR, EVAL_CORPUS, load_cases
from tests.conftest import make_container


def _copy_corpus(folder):
    files = [p for corpus in EVAL_CORPUS for p in sorted(corpus.iterdir()) if p.is_file()]
    folder.mkdir(parents=True)
    for path in files:
        shutil.copy(path, folder / path.name)
    return sorted(folder.iterdir())


def _answers(container, cases):
    out = {}
    for case in cases:
        conversation_id = None
        for turn in case.get("turns") or [case["question"]]:
            answer = container.engine.ask(turn, conversation_id=conversation_id, mode="extractive")
            conversation_id = answer["conversation_id"]
        out[case["id"]] = (answer["answer"], answer["abstained"],
                           [(c["source"], c["start_char"], c["end_char"]) for c in answer["citations"]])
    return out


def test_every_eval_answer_is_the_same_from_two_folders_ingested_in_opposite_orders(tmp_path):
    first = make_container(tmp_path / "index-a")
    files_a = _copy_corpus(tmp_path / "somewhere" / "docs")
    assert not first.ingest(files_a).failed
    second = make_container(tmp_path / "index-b", share_model_with=first)
    files_b = _copy_corpus(tmp_path / "elsewhere" / "deeper" / "copy")
    assert not second.ingest(list(reversed(files_b))).failed
    assert {d.doc_id for d in first.store.documents()}.isdisjoint({d.doc_id for d in second.store.documents()})

    cases = load_cases(DATASETS_DIR)
    a, b = _answers(first, cases), _answers(second, cases)
    differing = [case_id for case_id in a if a[case_id] != b[case_id]]
    assert not differing, differing
