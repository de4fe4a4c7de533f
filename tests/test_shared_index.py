"""The index's rows on PostgreSQL (DATABASE_URL with VECTOR_BACKEND=milvus), against the
server every machine runs and milvus-lite: counts as FTS5 gives them, an index built in the
data folder moved over once without encoding, and a second worker that sees what another
process ingested."""

from __future__ import annotations

from pathlib import Path

import pytest
from postgres import fresh_database
from test_index import filler_articles
from test_milvus import SENTENCES

from corpus.models import Article
from index import NewsIndex, NewsIndexError
from index.embedder import Embedder
from index.question_encoder import OnnxQuestionEncoder
from services.paths import index_database_url
from services.settings import Settings

pytest.importorskip("pymilvus", reason="Milvus needs the scale extra")

QUESTIONS = [
    "Where did Turkey and Israel hold their talks?",
    "Turkey Israel talks Azerbaijan",
    "what did the coach say after match 7",
]
# words and names as questions hold them: inflections, possessives, hyphens, accents, figures
TERMS = ["stealing", "signs", "bankman", "fried", "sao", "paulo", "1,200", "powell's", "5.25"]
PHRASES = ["Sam Bankman-Fried", "São Paulo", "Federal Reserve held", "signs in 2017", "no such"]


def articles() -> list[Article]:
    extra = Article(
        title="Rates, signs and scandals",
        body=" ".join(SENTENCES),
        source="Wire",
        url="https://wire.example/roundup",
    )
    return [extra, *filler_articles(4)]


def later(n: int) -> Article:
    return Article(
        title=f"Harbour report {n}",
        body=f"The harbour of town {n} reopened after the storm, the port authority said. "
        "Ferries will run on the winter timetable until the breakwater is repaired.",
        source="Coastal Times",
        url=f"https://coastal.example/harbour-{n}",
    )


def shared(
    data_dir: Path, embedder: Embedder, questions: OnnxQuestionEncoder, uri: str, url: str
) -> NewsIndex:
    """A worker's index: its rows at `url`, its vectors and BM25 at `uri`."""
    return NewsIndex(
        data_dir, create=True, embedder=embedder, questions=questions, milvus_uri=uri,
        database_url=url,
    )  # fmt: skip


def test_the_rows_on_postgresql_count_words_and_phrases_as_fts5_does(
    tmp_path: Path, embedder: Embedder, questions: OnnxQuestionEncoder, seed_article: Article
) -> None:
    local = NewsIndex(tmp_path / "local", create=True, embedder=embedder, questions=questions)
    local.ingest([seed_article, *articles()])
    with fresh_database() as url:
        shared = NewsIndex(
            tmp_path / "shared",
            create=True,
            embedder=embedder,
            questions=questions,
            milvus_uri=str(tmp_path / "milvus.db"),
            database_url=url,
        )
        shared.ingest([seed_article, *articles()])
        assert not (tmp_path / "shared" / "news.sqlite").exists()  # nothing on this machine
        for term in TERMS:
            assert shared.store.term_chunks(term) == local.store.term_chunks(term), term
        for phrase in PHRASES:
            assert shared.store.phrase_chunks(phrase) == local.store.phrase_chunks(phrase)
        assert shared.store.phrase_chunks("Sam Bankman-Fried") == 1
        assert shared.store.known_words(["bankman", "coach", "zzz"]) == local.store.known_words(
            ["bankman", "coach", "zzz"]
        )
        for question in QUESTIONS:
            ours, theirs = shared.answer(question), local.answer(question)
            assert ours.found == theirs.found
            assert [c.title for c in ours.citations][:1] == [c.title for c in theirs.citations][:1]
        assert shared.store.term_chunks("azerbaijan") == local.store.term_chunks("azerbaijan") > 0
        assert shared.remove(seed_article.id)
        assert shared.store.phrase_chunks("Turkey and Israel") == 0
        assert shared.store.term_chunks("azerbaijan") == 0  # its counts went with it
        shared.close()
    local.close()


def test_an_index_built_in_the_data_folder_moves_to_postgresql_once(
    tmp_path: Path, embedder: Embedder, questions: OnnxQuestionEncoder, seed_article: Article
) -> None:
    """A deployment that ran on one machine sets DATABASE_URL and VECTOR_BACKEND=milvus: its
    articles, chunks (same ids), sentence vectors and vocabulary move to PostgreSQL and its
    vectors to Milvus, nothing encoded; answers hold, and new articles get new ids."""
    data_dir = tmp_path / "data"
    index = NewsIndex(data_dir, create=True, embedder=embedder, questions=questions)
    index.ingest([seed_article, *articles()])
    before = [index.answer(q) for q in QUESTIONS]
    stats = index.stats()
    ids = index.store.chunk_ids()
    index.close()

    with fresh_database() as url:
        settings = Settings(NEWSBOT_DATA_DIR=data_dir, VECTOR_BACKEND="milvus", DATABASE_URL=url)
        assert index_database_url(settings) == url
        assert index_database_url(settings.model_copy(update={"vector_backend": "faiss"})) is None
        moved = NewsIndex(
            data_dir,
            embedder=embedder,
            questions=questions,
            milvus_uri=str(data_dir / "milvus.db"),
            database_url=url,
        )
        assert moved.store.postgres and moved.store.chunk_ids() == ids
        assert (moved.stats().articles, moved.stats().chunks) == (stats.articles, stats.chunks)
        assert moved.store.missing_sentence_vectors() == 0
        assert len(moved.vectors()) == stats.chunks  # copied from the FAISS files
        for old, new in zip(before, (moved.answer(q) for q in QUESTIONS), strict=True):
            assert new.found == old.found
            assert [(c.title, c.quotes) for c in new.citations] == [
                (c.title, c.quotes) for c in old.citations
            ]
        report = moved.ingest([later(1), later(2)])
        assert report.new == 2 and min(moved.store.chunk_ids()[len(ids) :]) > max(ids)
        moved.close()
        # a second start copies nothing again (the rows are there)
        again = shared(data_dir, embedder, questions, str(data_dir / "milvus.db"), url)
        assert again.stats().articles == stats.articles + 2
        again.close()


def test_a_worker_finds_what_another_process_ingested_after_a_reload(
    tmp_path: Path, embedder: Embedder, questions: OnnxQuestionEncoder, seed_article: Article
) -> None:
    """Two workers on one PostgreSQL and one Milvus, in two data folders (two machines): the
    second answers from an article the first ingested once it reloads (the bot reloads every
    few seconds), and an ingest built on a stale generation is refused, not merged."""
    uri = str(tmp_path / "milvus.db")
    with fresh_database() as url:
        workers = [shared(tmp_path / n, embedder, questions, uri, url) for n in ("one", "two")]
        one, two = workers
        one.ingest(filler_articles(3))
        assert two.reload()
        assert not two.answer("Turkey Israel talks Azerbaijan").found
        one.ingest([seed_article])
        assert two.reload() and two.generation == one.generation
        answer = two.answer("Turkey Israel talks Azerbaijan")
        assert answer.found and answer.citations[0].title == seed_article.title
        with pytest.raises(NewsIndexError, match="another newsbot process"):
            from index import ingest as writing

            writing._check_base(two, two.store.conn, two.generation - 1)
        for worker in workers:
            worker.close()


def test_the_rows_go_to_postgresql_only_with_milvus(tmp_path: Path) -> None:
    with pytest.raises(NewsIndexError, match="VECTOR_BACKEND=milvus"):
        NewsIndex(tmp_path, create=True, database_url="postgresql://nowhere/none")


def test_the_command_line_keeps_the_index_on_postgresql_when_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`newsbot ingest`, `ask` and `stats` with DATABASE_URL and VECTOR_BACKEND=milvus: the
    data folder holds no index file; stats says where the articles are (no password)."""
    from cli.main import main
    from corpus.loaders import seed_path

    data_dir = tmp_path / "data"
    with fresh_database() as url:
        secret = url.replace("postgres@", "postgres:hunter2@")
        monkeypatch.setenv("NEWSBOT_DATA_DIR", str(data_dir))
        monkeypatch.setenv("VECTOR_BACKEND", "milvus")
        monkeypatch.setenv("DATABASE_URL", secret)
        assert main(["ingest", str(seed_path())]) == 0
        assert "1 new" in capsys.readouterr().out
        assert not (data_dir / "news.sqlite").exists()
        assert main(["ask", "Turkey Israel talks Azerbaijan"]) == 0
        assert "Turkey and Israel negotiate" in capsys.readouterr().out
        assert main(["stats"]) == 0
        out = capsys.readouterr().out
        assert "1 article," in out and "articles and chunks: postgresql://postgres:***@" in out
        assert "hunter2" not in out and "Milvus at" in out
