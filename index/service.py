"""`NewsIndex`: the one entry point the CLI and the bot use to ingest, search and answer.

Embeddings / ANN / database stay separate (embedder.py, vectors.py or milvus.py, store/); this
module ties them together, keeps the vector generation and the SQLite rows in step, and lets
searches run while an ingest writes: a search uses the `Vectors` current when it started; an
ingest builds a new one and swaps it in after its commit (Milvus: one live collection).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from corpus.models import Article
from index import backends
from index import ingest as writing
from index.answer import Answer, QuoteWeights, build_answer, build_timeline, on_topic
from index.embedder import DEFAULT_MODEL, Embedder
from index.headlines import asks_for_headlines, newest_reporting, small_talk
from index.ingest import IngestReport, NewsIndexError, ProgressCallback
from index.milvus import MilvusChunks
from index.query import QueryIntent
from index.question_encoder import QuestionEncoder, load_or_export
from index.search import Filters, Passage, RetrievalConfig, Searcher
from index.stats import IndexStats
from index.store import ArticleRow
from index.vectors import Vectors
from index.warm import Warmer
from index.when import Period

DB_NAME = "news.sqlite"
ASK_HINT = "Ask me about the news, for example: Where did Turkey and Israel hold their talks?"
TIMELINE_HINT = "Name a story to follow, for example: /timeline Sam Altman OpenAI"
AFTER_NEWEST = (
    "I have nothing from %s: my newest reporting is from %s. Ask without the date for what "
    "was reported before."
)
UNKNOWN_WORDS_HINT = (
    "None of those words appear in the reporting I have. Try other words, or ask a question "
    "about the news."
)


class NewsIndex:
    """Articles in one data directory: SQLite rows + vectors (FAISS files or Milvus) + model."""

    def __init__(
        self,
        data_dir: str | Path,
        model: str = DEFAULT_MODEL,
        *,
        create: bool = False,
        embedder: Embedder | None = None,
        questions: QuestionEncoder | None = None,
        question_backend: str = "onnx",
        ingest_threads: int | None = None,
        config: RetrievalConfig | None = None,
        max_chunk_tokens: int = 256,
        milvus_uri: str | None = None,
        database_url: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.model_name = model
        self.max_chunk_tokens = max_chunk_tokens
        self.database_url = database_url  # the index's rows on PostgreSQL, not in data_dir
        self.store = backends.open_store(self.data_dir / DB_NAME, create, database_url, milvus_uri)
        stored_model = self.store.get_meta("model")
        if stored_model and stored_model != model:
            raise NewsIndexError(
                f"the index in {self.data_dir} was built with the embedding model "
                f"{stored_model!r}, but EMBEDDING_MODEL is {model!r}. Set EMBEDDING_MODEL="
                f"{stored_model} or use another NEWSBOT_DATA_DIR and ingest again."
            )
        # An ingest encodes for seconds at a time; questions get a model of their own (the ONNX
        # export, or a second torch instance) so they never queue behind it. A caller-supplied
        # embedder serves both unless `questions` is given too.
        self._questions: QuestionEncoder | None = questions or embedder
        self._ingest_embedder = embedder
        if question_backend not in ("onnx", "torch"):
            raise ValueError(f"QUESTION_BACKEND must be onnx or torch, not {question_backend!r}")
        self.question_backend = question_backend
        self.ingest_threads = ingest_threads
        self._embedder_lock = threading.Lock()
        self._ingest_lock = threading.Lock()
        self._published: tuple[int, Vectors | MilvusChunks] | None = None
        # vectors and BM25 on Milvus (the scaled backend) instead of FAISS files and FTS5
        self.milvus_uri = milvus_uri
        self._milvus: MilvusChunks | None = None
        self.reload()
        self.quote_tuning = QuoteWeights()
        self.searcher = Searcher(
            self.store,
            self._encode,
            self.published,
            config,
            common_word=lambda word: self.questions.is_common_word(word),
        )
        self.warmer = Warmer(self.searcher)  # nudged by a long-running process (the bot)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def questions(self) -> QuestionEncoder:
        """The model for questions; loaded on first use, so `stats` and friends start instantly.

        By default the ONNX export in the data directory (made on first use, or by the last
        ingest): `ask` then never imports torch. QUESTION_BACKEND=torch keeps questions on the
        sentence-transformers model, as does a model that cannot be exported."""
        with self._embedder_lock:
            if self._questions is None:
                encoder = None
                if self.question_backend == "onnx":
                    encoder = load_or_export(self.data_dir, self.model_name, self._ingest_embedder)
                self._questions = encoder or self._load_model()
                self._check_dim(self._questions.dim)
            return self._questions

    @property
    def ingest_embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._ingest_embedder is None:
                self._ingest_embedder = self._load_model(self.ingest_threads)
            return self._ingest_embedder

    def _load_model(self, threads: int | None = None) -> Embedder:
        embedder = Embedder(self.model_name, threads=threads)
        self._check_dim(embedder.dim)
        return embedder

    def _check_dim(self, dim: int) -> None:
        stored_dim = self.store.get_meta("dim")
        if stored_dim and int(stored_dim) != dim:
            raise NewsIndexError(
                f"the index holds {stored_dim}-dimensional vectors but the model "
                f"{self.model_name!r} makes {dim}-dimensional ones"
            )

    def prepare_questions(self) -> None:
        """Export the question model now, from the ingest model already in memory, so the next
        `ask` starts without torch."""
        if self.question_backend == "onnx" and self._questions is None:
            load_or_export(self.data_dir, self.model_name, self.ingest_embedder, load=False)

    def _encode(self, question: str, parts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.questions.encode_question(question, parts)

    @property
    def generation(self) -> int:
        """The FAISS generation in use (the one `meta.generation` names)."""
        return self.published()[0]

    def vectors(self) -> Vectors:
        return self.published()[1]

    def reload(self) -> bool:
        """Pick up a newer generation written by another process; True when it changed."""
        generation = int(self.store.get_meta("generation") or 0)
        if self._published is not None and generation == self.generation:
            return False
        dim = int(self.store.get_meta("dim") or 0)
        if self.milvus_uri and dim:
            vectors: Vectors | MilvusChunks = self.milvus(dim)
        else:
            vectors = self.faiss_vectors(generation, dim)
        self._published = (generation, vectors)
        return True

    def faiss_vectors(self, generation: int | None = None, dim: int | None = None) -> Vectors:
        """The FAISS segments of a generation (the committed one by default)."""
        return backends.faiss_generation(self.store, self.data_dir, generation, dim)

    def milvus(self, dim: int) -> MilvusChunks:
        """The Milvus collection of this index, opened (or created, and filled) on first use."""
        if self._milvus is None:
            assert self.milvus_uri
            self._milvus = backends.open_milvus(
                self.milvus_uri, dim, self.store, self.faiss_vectors
            )
        return self._milvus

    def close(self) -> None:
        if self._milvus is not None:
            self._milvus.close()
        self.store.close()

    # -- writing ----------------------------------------------------------------------------

    def ingest(
        self,
        articles: Iterable[Article],
        *,
        progress: ProgressCallback | None = None,
        batch_chunks: int = 4096,
        on_chunked: Callable[[int], None] | None = None,
        now: datetime | None = None,
    ) -> IngestReport:
        """Add new and changed articles; unchanged ones cost nothing.

        Work is committed in batches of about `batch_chunks` chunks, each batch atomically, so
        an interrupted ingest keeps the batches already done and never a half batch.
        `progress` is called with the number of chunks embedded so far; `now` is the arrival
        time recorded for digests (the clock's time by default).
        """
        self._writable()
        with self._ingest_lock:
            self.reload()  # another process may have written since: build on its generation
            return writing.ingest(self, articles, progress, batch_chunks, on_chunked, now)

    def remove(self, article_id: str) -> bool:
        """Delete one article and its chunks; False when there is no such article."""
        self._writable()
        with self._ingest_lock:
            self.reload()
            return writing.remove(self, article_id)

    def _writable(self) -> None:
        """Refuse a change at once, before any work, when the data folder is read-only."""
        if self.store.read_only:
            raise NewsIndexError(
                f"the data folder {self.data_dir} is read-only: it can be searched but "
                "nothing can be added to it or removed (make it writable, or point "
                "NEWSBOT_DATA_DIR at a writable copy)"
            )

    def published(self) -> tuple[int, Vectors | MilvusChunks]:
        """The current generation and its vectors, read together."""
        assert self._published is not None
        return self._published

    def publish(
        self, generation: int, vectors: Vectors | MilvusChunks, previous: Vectors | MilvusChunks
    ) -> None:
        """Swap in a committed generation (one reference: readers see the old pair or the
        new one) and delete segment files neither it nor `previous` uses."""
        self._published = (generation, vectors)
        Vectors.prune(self.data_dir, keep={*vectors.names, *previous.names})

    # -- reading ----------------------------------------------------------------------------

    def parse(self, question: str, now: datetime | None = None) -> QueryIntent:
        """The question parsed once (spelling, outlets, names, times) for every stage."""
        return self.searcher.parse(question, now)

    def search(
        self, question: str | QueryIntent, top: int = 10, filters: Filters | None = None
    ) -> list[Passage]:
        intent = question if isinstance(question, QueryIntent) else self.parse(question)
        return self.searcher.search(intent, top, filters)

    def retrieve(
        self,
        question: str | QueryIntent,
        top: int = 10,
        filters: Filters | None = None,
        now: datetime | None = None,
    ) -> tuple[list[Passage], bool]:
        """Ranked passages and whether they are too weak to count as relevant reporting."""
        intent = question if isinstance(question, QueryIntent) else self.parse(question, now)
        passages = self.searcher.search(intent, top, filters)
        return passages, self.searcher.abstain(intent, passages)

    def answer(
        self,
        question: str | QueryIntent,
        top: int = 5,
        filters: Filters | None = None,
        now: datetime | None = None,
        refuse: bool = True,
    ) -> Answer:
        """Cited excerpts for a question, as every front end shows them.

        A question that names a time ("last week", "in December") is answered from that time;
        when nothing from then answers it, from the closest reporting on the topic, the period
        named. "Latest news" gets the newest reporting; an empty question, small talk or words
        no article uses, a hint. `refuse=False` cites the best matches even when weak (a
        keyword alert judges by its own rule). A question already parsed is not parsed again.
        """
        asked = question.question if isinstance(question, QueryIntent) else question
        if not asked.strip():
            return Answer(asked, abstained=True, hint=ASK_HINT)
        intent = question if isinstance(question, QueryIntent) else self.parse(question, now)
        if asks_for_headlines(intent):
            gen, at = self.searcher.current(), now or datetime.now(UTC)
            return newest_reporting(self.store, gen, intent, top, filters, at)
        if not intent.terms or small_talk(intent):
            return Answer(asked, abstained=True, hint=ASK_HINT)
        if self.searcher.unknown_words(intent):
            return Answer(asked, abstained=True, hint=UNKNOWN_WORDS_HINT)
        if intent.story:
            return self.timeline(intent, now=now, filters=filters)
        depth = max(10, top * 3)
        period = intent.period() if len(intent.clauses) < 2 else None
        hint = self._after_reporting(period, intent) if period is not None and refuse else None
        if hint is not None:
            return Answer(asked, abstained=True, period=period.label, hint=hint)
        if period is not None:
            narrowed = (filters or Filters()).within(*period.window(now or datetime.now(UTC)))
            passages, abstained = self.retrieve(intent, depth, narrowed)
            if passages and not (refuse and abstained):
                return self._build(intent, passages, top)
        passages = self.searcher.search(intent, depth, filters)
        confidence = self.searcher.config.fallback_confidence if period else 0.5
        if not passages or (refuse and self.searcher.abstain(intent, passages, confidence)):
            return Answer(asked, (), abstained=True, searched=intent.text)
        answer = self._build(intent, passages, top)
        return replace(answer, period=period.label) if period is not None else answer

    def _after_reporting(self, period: Period, intent: QueryIntent) -> str | None:
        """What to say when the question asks what happened in a time after the newest
        reporting (`Searcher.reported_before`); None otherwise."""
        newest = self.searcher.reported_before(period, intent)
        return AFTER_NEWEST % (period.label, f"{newest:%-d %b %Y}") if newest else None

    def timeline(
        self,
        topic: str | QueryIntent,
        limit: int = 10,
        filters: Filters | None = None,
        now: datetime | None = None,
    ) -> Answer:
        """The reports on a story in date order, one sentence each (at most `limit`)."""
        asked = topic.question if isinstance(topic, QueryIntent) else topic
        if not asked.strip():
            return Answer(asked, abstained=True, hint=TIMELINE_HINT)
        intent = topic if isinstance(topic, QueryIntent) else self.parse(topic, now)
        if not intent.terms:
            return Answer(asked, abstained=True, hint=TIMELINE_HINT)
        passages, abstained = self.retrieve(intent, max(40, limit * 4), filters)
        if abstained:
            return Answer(asked, (), abstained=True, timeline=True, searched=intent.text)
        answer = build_timeline(intent.text, passages, self.searcher.weights(intent), limit=limit)
        return replace(answer, question=asked, searched=intent.text)

    def _build(self, intent: QueryIntent, passages: list[Passage], top: int) -> Answer:
        return replace(
            build_answer(
                intent.text,
                passages,
                intent.quote_weights(self.searcher.weights(intent)),
                max_articles=top,
                kind=intent.asks,
                tuning=self.quote_tuning,
                article_sentences=lambda ids: self.searcher.article_sentences(intent, ids),
                relevant=lambda passage: not self.searcher.abstain(intent, [passage]),
            ),
            question=intent.question,
            searched=intent.text,
        )

    def latest(self, limit: int = 10, topic: str | None = None) -> list[ArticleRow]:
        """The newest articles, optionally only those on `topic` (most of its words in them)."""
        if not topic:
            return self.store.latest(limit)
        intent = self.parse(topic)
        answer = self.answer(intent, top=max(limit * 3, 10), refuse=False)
        weights = self.searcher.weights(intent)
        ids = [c.article_id for c in answer.citations if on_topic(c, weights)]
        found = [row for i, row in self.store.articles(ids).items() if i in ids]
        found.sort(key=lambda a: a.published_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        return found[:limit]

    def suggestions(self, count: int = 3) -> list[str]:
        """Things to ask that this index answers well: the titles of recent articles from
        different outlets that find their own article first."""
        chosen: list[str] = []
        outlets: set[str | None] = set()
        for article in self.store.latest(count * 8):
            if len(chosen) >= count:
                break
            if article.source in outlets or len(article.title.split()) < 4:
                continue
            answer = self.answer(article.title, top=1)
            if answer.found and answer.citations[0].article_id == article.id:
                chosen.append(article.title)
                outlets.add(article.source)
        return chosen

    def stats(self) -> IndexStats:
        first, last = self.store.published_range()
        files = self.data_dir.iterdir() if self.data_dir.is_dir() else ()
        size = sum(p.stat().st_size for p in files if p.is_file())
        dim = self.store.get_meta("dim")
        return IndexStats(
            articles=self.store.article_count(),
            chunks=self.store.chunk_count(),
            sources=self.store.sources(),
            first=first,
            last=last,
            model=self.store.get_meta("model"),
            dim=int(dim) if dim else None,
            generation=self.generation,
            size_bytes=size,
            missing_sentence_vectors=self.store.missing_sentence_vectors(),
            damaged_vector_files=tuple(self.vectors().damaged),
        )
