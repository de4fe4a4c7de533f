"""Chunks respect the model's token window, keep whole sentences and overlap."""

from __future__ import annotations

import itertools

from corpus.models import Article
from index.chunking import chunk_article, split_sentences
from index.embedder import Embedder


def test_split_sentences_handles_abbreviations_and_quotes() -> None:
    text = 'Mr. Smith met U.S. officials. He said "we agree." Then he left!\nNext paragraph'
    assert split_sentences(text) == [
        "Mr. Smith met U.S. officials.",
        'He said "we agree."',
        "Then he left!",
        "Next paragraph",
    ]


def test_chunks_fit_window_and_overlap(embedder: Embedder) -> None:
    sentences = [f"Sentence number {i} talks about the harbour of city {i}." for i in range(200)]
    article = Article(title="Ports", body=" ".join(sentences), source="Daily")
    chunks = chunk_article(article, embedder.count_tokens, max_tokens=256)
    assert len(chunks) > 5
    for chunk in chunks:
        real = len(embedder.tokenizer(chunk.embed_text)["input_ids"])  # with [CLS]/[SEP]
        assert real <= 256
        assert chunk.embed_text.startswith("Ports | Daily")
    for before, after in itertools.pairwise(chunks):
        assert split_sentences(before.text)[-1] == split_sentences(after.text)[0]
    covered = {s for c in chunks for s in split_sentences(c.text)}
    assert covered == set(sentences)


def test_overlong_sentence_is_cut_at_words(embedder: Embedder) -> None:
    article = Article(title="Long", body=" ".join(["word"] * 1000) + ".")
    chunks = chunk_article(article, embedder.count_tokens, max_tokens=128)
    assert len(chunks) >= 8
    assert all(len(embedder.tokenizer(c.embed_text)["input_ids"]) <= 128 for c in chunks)
