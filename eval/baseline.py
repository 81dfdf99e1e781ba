"""The usual approach, measured in the same run: a plain LlamaIndex VectorStoreIndex over the same
documents and the same MiniLM embeddings, 256-token chunks, top-k 2, answering with its top passage."""

from __future__ import annotations

import time

CHUNK_TOKENS = 256
TOP_K = 2


class Baseline:
    name = "baseline"

    def __init__(self, container):
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        records = container.store.documents(with_text=True)
        documents = [Document(text=r.text, id_=r.doc_id, metadata={"source": r.source}) for r in records]
        nodes = SentenceSplitter(chunk_size=CHUNK_TOKENS, chunk_overlap=20).get_nodes_from_documents(documents)
        index = VectorStoreIndex(nodes, embed_model=container.embed_model)
        self.retriever = index.as_retriever(similarity_top_k=TOP_K)

    def retrieve(self, question: str) -> list:
        return self.retriever.retrieve(question)

    def ask(self, question: str, conversation_id: str | None = None, mode: str | None = None) -> dict:
        started = time.perf_counter()
        hits = self.retrieve(question)
        elapsed = (time.perf_counter() - started) * 1000
        citations = [
            {
                "n": n,
                "source": hit.node.metadata.get("source", ""),
                "doc_id": hit.node.ref_doc_id,
                "quote": hit.node.get_content(),
                "start_char": hit.node.start_char_idx,
                "end_char": hit.node.end_char_idx,
                "score": float(hit.score or 0.0),
            }
            for n, hit in enumerate(hits[:1], start=1)
        ]
        return {
            "answer": citations[0]["quote"] if citations else "",
            "abstained": False,  # it always answers with its top passage
            "mode": self.name,
            "conversation_id": "",
            "citations": citations,
            "timings_ms": {"retrieve": elapsed, "answer": 0.0, "total": elapsed},
        }
