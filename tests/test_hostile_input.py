"""Hostile and odd input, property-based (hypothesis): questions, /subscribe arguments,
article files and feeds of any shape never crash what reads them, and every reply is HTML
Telegram accepts (the emulator's strict parser decides)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render import render_answer, render_inline_result
from corpus.loaders import load_path
from corpus.loaders.feeds import parse_feed
from corpus.models import Article
from emulator.entities import parse_html
from index import NewsIndex
from services.subscriptions.requests import UsageError, parse_subscribe_args

ODD = st.sampled_from(
    ["\u200f", "\u200b", "\u202e", "\ufeff", "<b>", "</i>", "&amp;", "&#0;", "<a href=x>", "🇦🇷"]
)
QUESTIONS = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(ODD, st.text(max_size=12)), max_size=30).map("".join),
    st.text(alphabet="0123456789 ", max_size=50),
    st.text(alphabet="😀🔥📰🇺🇸", max_size=40),
    st.just("why " * 2500),  # 10,000 characters
)
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def index(
    tmp_path_factory: pytest.TempPathFactory, embedder: object, questions: object
) -> NewsIndex:
    news = NewsIndex(
        tmp_path_factory.mktemp("hostile") / "data", create=True, embedder=embedder,
        questions=questions,
    )  # fmt: skip
    news.ingest(
        [
            Article(
                title="Harbour <b>reopens</b> & ferries <run>",
                body="The harbour reopened on Monday after storms. Ferries run again; "
                "tickets cost 5 € <i>and</i> more. ‏Arabic: الميناء مفتوح.",
                source="Coast <Herald> & Co",
                url="https://h.example/a?x=1&y=<2>",
            )
        ]
    )
    return news


@EXAMPLES
@given(question=QUESTIONS)
def test_any_question_gets_html_telegram_accepts(index: NewsIndex, question: str) -> None:
    answer = index.answer(question)
    for message in render_answer(answer):
        parse_html(message)  # raises where Telegram would answer 400
        assert 0 < len(message) <= 4096
    for citation in answer.citations:
        _title, _description, text = render_inline_result(citation)
        parse_html(text)


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.text(max_size=40), max_size=8))
def test_subscribe_arguments_parse_or_say_how(words: list[str]) -> None:
    try:
        request = parse_subscribe_args(words, "UTC")
    except UsageError as exc:
        assert str(exc)  # a message for the user, never a crash
        return
    assert len(request.hhmm) == 5 and request.tz


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
ARTICLE_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "title": JSONISH,
        "body": JSONISH | st.text(max_size=2000),
        "source": JSONISH,
        "url": JSONISH,
        "published_at": JSONISH | st.sampled_from(["2023-10-07", "yesterday", "2023-13-45"]),
    },
)


@settings(max_examples=80, deadline=None)
@given(content=st.one_of(st.lists(ARTICLE_FIELDS, max_size=5), JSONISH))
def test_article_files_of_any_shape_are_read_or_reported(
    tmp_path_factory: pytest.TempPathFactory, content: object
) -> None:
    path = tmp_path_factory.mktemp("odd") / "articles.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    result = load_path(path)
    assert all(isinstance(a, Article) and a.body.strip() for a in result.articles)
    assert all(str(error) for error in result.errors)


@settings(max_examples=80, deadline=None)
@given(raw=st.binary(max_size=3000) | st.text(max_size=3000).map(str.encode))
def test_feeds_of_any_bytes_parse_or_report(raw: bytes) -> None:
    result = parse_feed(raw, "https://feeds.example/rss.xml")
    assert all(isinstance(a, Article) for a in result.articles)


def test_a_billion_laughs_feed_is_not_expanded() -> None:
    lol = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
            for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
        + ']><rss version="2.0"><channel><title>t</title><item><title>&h;</title>'
        "<description>x</description><link>https://e.example/1</link></item></channel></rss>"
    )
    result = parse_feed(lol.encode(), "https://feeds.example/lol.xml")
    assert all(len(a.title or "") < 100_000 for a in result.articles)


def test_a_huge_body_with_control_characters_is_ingested(tmp_path: Path) -> None:
    body = ("Storm \x00\x07 damage \x1b[31m closed the port. " * 20_000)[:600_000]
    path = tmp_path / "huge.json"
    path.write_text(json.dumps([{"title": "Port", "body": body, "url": "https://p/1"}]))
    result = load_path(path)
    assert result.articles or result.errors
    for article in result.articles:
        assert "\x00" not in article.body and "\x1b" not in article.body
