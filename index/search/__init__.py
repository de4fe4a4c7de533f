"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25) candidates, fused into one ranking,
re-ranked by sentences; and whether the result answers the question.

Stages, each in its own module: `candidates` (BM25 from `bm25`), `fusion`, `rerank` (with
`sentences`), `evidence` (the refusal model); `searcher` runs them; `caches` holds what one
index generation answers again and again; `config` holds every setting (`RetrievalConfig`).
"""

from index.search.config import Filters, Passage, RetrievalConfig
from index.search.evidence import Evidence
from index.search.searcher import Searcher

__all__ = ["Evidence", "Filters", "Passage", "RetrievalConfig", "Searcher"]
