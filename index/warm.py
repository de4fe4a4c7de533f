"""Reading ahead, in the background, what the first questions after a start or an ingest would
otherwise read for the first time: the BM25 postings of the words most chunks hold, and the
sentences of the newest passages as the rerank and quoting describe them. Questions keep the
caches warm themselves once they flow; this spares the first ones after a restart or a new
generation. It gives way to any search running (`Searcher.wait_idle`).

What it read is long-lived, so it is then frozen out of Python's cyclic garbage collector
(`gc.freeze`): a full collection walked every cached sentence and posting, 40-200 ms in the
middle of a question, several times in the first few hundred questions after a start.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass

from index.chunking import passage_sentences
from index.quotes import read_ahead as describe_sentences
from index.search import Searcher
from index.search.bm25 import TermScores
from index.search.sentences import sentence_index

log = logging.getLogger(__name__)

COMMON_WORDS = 2000  # at most; and only while the postings cache is less than half full
NEWEST_CHUNKS = 8192  # what the rerank's sentence cache keeps (`sentence_index`)
BATCH = 16  # chunks read between two checks for a running search


@dataclass(frozen=True)
class Warmed:
    generation: int
    words: int  # words whose postings were read
    chunks: int  # chunks whose sentences were described
    seconds: float


def warm(searcher: Searcher, words: int = COMMON_WORDS, chunks: int = NEWEST_CHUNKS) -> Warmed:
    """Fill the current generation's caches (and the sentence caches) ahead of questions."""
    start = time.perf_counter()
    gen = searcher.current()
    read = 0
    postings = gen.text_search
    if isinstance(postings, TermScores):  # Milvus computes BM25 itself
        for word in searcher.store.common_words(words):
            searcher.wait_idle()
            if not postings.read_ahead(word, searcher.config.title_weight):
                break
            read += 1
    texts = searcher.store.newest_chunk_texts(chunks)
    for k in range(0, len(texts), BATCH):
        searcher.wait_idle()
        for text in texts[k : k + BATCH]:
            sentence_index(text)
            describe_sentences(passage_sentences(text))
    # garbage with cycles is collected first (here, in the background: after a start the one
    # long pass, later only what came since the last freeze); what is left lives on
    gc.collect()
    gc.freeze()
    return Warmed(gen.number, read, len(texts), time.perf_counter() - start)


class Warmer:
    """Warms each new generation once, in one background thread at a time: `nudge()` after
    the index is loaded, reloaded or ingested into."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.last: Warmed | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def nudge(self) -> None:
        """Start warming unless a warm-up is running (it checks for a newer generation before
        it ends) or the current generation is warm already."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if self._warm():
                return
            self._thread = threading.Thread(target=self._run, name="warm index", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> Warmed | None:
        """The last warm-up, once the one running (if any) has ended."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.last

    def _warm(self) -> bool:
        return self.last is not None and self.last.generation == self.searcher.current().number

    def _run(self) -> None:
        while not self._warm():
            try:
                self.last = warm(self.searcher)
            except Exception:  # a cache left cold only costs the next questions time
                log.exception("could not warm the index's caches")
                return
            log.info(
                "warmed generation %d: %d words' postings, %d passages in %.1f s",
                self.last.generation,
                self.last.words,
                self.last.chunks,
                self.last.seconds,
            )
