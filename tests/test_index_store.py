"""The index database's schema: numbered migrations, files from older and newer code."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from index import NewsIndex, NewsIndexError
from index.store import MIGRATIONS, Store

# The tables as the first release wrote them: no numbered schema (user_version 0), a
# meta.schema_version row nobody read, no vocabulary and no sentence vectors.
FIRST_RELEASE = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT, url TEXT, author TEXT,
    published_at TEXT, updated_at TEXT, category TEXT, highlights TEXT NOT NULL DEFAULT '[]',
    body TEXT NOT NULL, content_hash TEXT NOT NULL, body_hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    title, text, tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO articles VALUES ('a1', 'Harbour strike', 'Coast Herald', 'https://h.example/1',
    NULL, '2023-10-05T09:00:00+00:00', NULL, NULL, '[]', 'Dockers walked out.', 'h1', 'b1',
    '2023-10-05T10:00:00+00:00');
INSERT INTO chunks(article_id, position, text) VALUES ('a1', 0, 'Dockers walked out today.');
INSERT INTO chunks_fts(rowid, title, text) VALUES (1, 'Harbour strike', 'Dockers walked out.');
"""


def first_release_file(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(FIRST_RELEASE)
    conn.close()
    return path


def test_a_first_release_index_opens_and_says_what_it_lacks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = first_release_file(tmp_path / "news.sqlite")
    with caplog.at_level(logging.WARNING), Store(path) as store:
        assert store.version == len(MIGRATIONS)
        assert store.articles(["a1"])["a1"].title == "Harbour strike"
        assert store.known_words(["dockers", "walked"]) == {"dockers": 1, "walked": 1}
        assert store.missing_sentence_vectors() == 1
        assert store.get_meta("schema_version") is None  # user_version is the record now
    assert "re-ingest needed: 1 chunks have no sentence vectors" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING), Store(path) as store:  # migrations ran once
        assert store.version == len(MIGRATIONS)
    assert "re-ingest needed" not in caplog.text


def test_an_unnumbered_index_with_every_table_is_left_as_it_is(tmp_path: Path) -> None:
    path = first_release_file(tmp_path / "news.sqlite")
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE vocabulary (word TEXT PRIMARY KEY, chunks INTEGER NOT NULL) WITHOUT ROWID;"
        "INSERT INTO vocabulary VALUES ('dockers', 7);"
        "CREATE TABLE sentence_vectors (chunk_id INTEGER PRIMARY KEY, vectors BLOB NOT NULL);"
        "INSERT INTO sentence_vectors VALUES (1, x'00');"
    )
    conn.close()
    with Store(path) as store:
        # the tables stay; the vocabulary is counted again from the chunks (possessives)
        assert store.known_words(["dockers", "walked"]) == {"dockers": 1, "walked": 1}
        assert store.missing_sentence_vectors() == 0


def test_an_older_vocabulary_learns_the_names_it_had_only_as_possessives(tmp_path: Path) -> None:
    """Older code left "Puth's" out of the vocabulary, so a question's "Puth" was corrected
    to "put"; opening the index counts the words again."""
    path = tmp_path / "news.sqlite"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "INSERT INTO articles VALUES ('a1', 'Voices', 'Coast Herald', NULL, NULL, NULL, NULL,"
        " NULL, '[]', 'x', 'h1', 'b1', '2023-10-05T10:00:00+00:00');"
        "INSERT INTO chunks(article_id, position, text) VALUES"
        " ('a1', 0, 'Charlie Puth’s voice is on there.');"
        "INSERT INTO vocabulary VALUES ('charlie', 1), ('voice', 1), ('there', 1);"
        f"PRAGMA user_version = {len(MIGRATIONS) - 1};"
    )
    conn.close()
    with Store(path) as store:
        assert store.version == len(MIGRATIONS)
        assert store.known_words(["puth", "charlie"]) == {"puth": 1, "charlie": 1}


def test_an_index_from_newer_code_is_refused_clearly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    Store(data / "news.sqlite").close()
    conn = sqlite3.connect(data / "news.sqlite")
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(NewsIndexError, match=r"schema version \d+; this version of newsbot"):
        NewsIndex(data)


def test_the_vocabulary_is_counted_again_on_postgresql_too() -> None:
    """The same data migration on the scaled backend's store."""
    from tests.postgres import fresh_database

    with fresh_database() as url:
        store = Store(url)
        with store.write() as conn:
            conn.execute(
                "INSERT INTO articles VALUES ('a1', 'Voices', 'Coast Herald', NULL, NULL, NULL,"
                " NULL, NULL, '[]', 'x', 'h1', 'b1', '2023-10-05T10:00:00+00:00')"
            )
            conn.execute(
                "INSERT INTO chunks(article_id, position, text, title_terms, text_terms) VALUES"
                " ('a1', 0, 'Charlie Puth’s voice is on there.', '', '')"
            )
            conn.execute("DELETE FROM vocabulary")
            conn.execute("UPDATE newsbot_schema SET version = 1 WHERE store = 'index'")
        store.close()
        with Store(url) as store:
            assert store.known_words(["puth", "charlie"]) == {"puth": 1, "charlie": 1}
