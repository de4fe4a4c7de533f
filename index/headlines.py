"""Messages with no topic in them. "latest news", "what happened today", "top stories" ask
for the news in general: the newest reporting answers them, one article per outlet, each
quoted by its opening sentence (not sentences that happen to say "latest" or "today").
"hi", "thanks" are small talk: they get the usage hint, not quotes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from corpus.clean import is_boilerplate
from index.answer import Answer, Citation
from index.query import QueryIntent
from index.search import Filters
from index.search.caches import Generation
from index.store import ArticleRow, Store
from index.text import words

SMALL_TALK = frozenset(
    "hi hello hey hiya yo thanks thank thx cheers ok okay cool great bye help start test".split()
)
# words that ask for news without naming any
NEWS_WORDS = frozenset(
    "latest new newest news headlines headline happening happened happen stories story top "
    "updates update going world today recent recently breaking biggest big main important "
    "lately anything everything give show tell whats".split()
)
# of those, the ones that ask for news on their own ("new" or "big" alone may be a topic)
_ASKING = frozenset("news headlines headline stories happening happened going updates".split())


def small_talk(intent: QueryIntent) -> bool:
    return bool(intent.terms) and set(intent.terms) <= SMALL_TALK


def asks_for_headlines(intent: QueryIntent) -> bool:
    """Every word asks for news and none names a topic ("news", "latest news", "what happened
    yesterday", "guardian headlines"); an outlet or a time may be named."""
    if not set(intent.terms) <= NEWS_WORDS:
        return False
    said = set(words(intent.question))  # lower-cased
    return bool(said & _ASKING or intent.recent or intent.periods)


def newest_reporting(
    store: Store,
    gen: Generation,
    intent: QueryIntent,
    top: int,
    filters: Filters | None,
    now: datetime,
) -> Answer:
    """The headlines: the newest articles (of the outlets and the time the question names)."""
    period = intent.period()
    chosen = filters or Filters()
    if intent.sources:
        chosen = replace(chosen, sources=intent.sources)
    if period is not None:
        chosen = chosen.within(*period.window(now))
    rows = store.list_articles(chosen, limit=top * 20)  # enough for one per outlet
    return headlines(intent, rows, gen, top, period.label if period else None)


def headlines(
    intent: QueryIntent,
    articles: Iterable[ArticleRow],
    gen: Generation,
    top: int,
    period: str | None = None,
) -> Answer:
    """The newest of `articles` (newest first), one per outlet, each quoted by its opening
    sentence."""
    chosen: list[ArticleRow] = []
    outlets: set[str | None] = set()
    for article in articles:
        if article.source not in outlets:
            chosen.append(article)
            outlets.add(article.source)
            if len(chosen) >= top:
                break
    texts = gen.article_sentences([a.id for a in chosen])
    citations = []
    for article in chosen:
        split = texts.get(article.id)
        opening = _opening(list(split.sentences) if split else [])
        citations.append(Citation.of(article, (opening,) if opening else (), 0.0, opening))
    return Answer(
        intent.question,
        tuple(citations),
        abstained=not citations,
        period=period,
        headlines=True,
    )


def _opening(sentences: list[str]) -> str:
    """The first sentence that says something: not a byline, a heading or page furniture."""
    for sentence in sentences:
        text = sentence.strip()
        if len(text.split()) >= 6 and text[-1:] in '.!?"”’' and not is_boilerplate(text):
            return text
    return sentences[0] if sentences else ""
