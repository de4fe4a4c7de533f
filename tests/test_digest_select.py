"""What goes into a digest: only new articles, on topic, one entry per story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from corpus.models import Article
from index import NewsIndex
from index.digest import select_digest

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def story(title: str, body: str, source: str, slug: str, **fields: object) -> Article:
    return Article(
        title=title,
        body=body,
        source=source,
        url=f"https://{source.lower().replace(' ', '')}.example/{slug}",
        published_at=fields.pop("published_at", T0 - timedelta(days=30)),
        **fields,
    )


QUAKE = (
    "A strong earthquake struck southern Turkey near the Syrian border on Tuesday, "
    "collapsing buildings in several cities. Rescue teams worked through the night to reach "
    "people trapped under rubble, officials said."
)
FOOTBALL = (
    "The home side won the derby three goals to one after a second-half comeback. "
    "The coach praised the midfield and said the title race is open again."
)
CLIMATE = (
    "Negotiators at the climate summit agreed on a fund for loss and damage caused by global "
    "warming. Campaigners said the deal on emissions did not go far enough."
)


def test_only_new_articles_and_same_story_merged(news_index: NewsIndex) -> None:
    old = story("Old climate deal", CLIMATE, "Planet Post", "old")
    news_index.ingest([old], now=T0 - timedelta(days=2))
    fresh = [
        story(
            "Earthquake hits southern Turkey",
            QUAKE,
            "Wire One",
            "quake1",
            highlights=["A strong earthquake struck southern Turkey."],
        ),
        story(
            "Strong quake strikes Turkey near Syria",
            QUAKE.replace("Tuesday", "Tuesday morning"),
            "Daily Two",
            "quake2",
        ),
        story("Derby ends three-one", FOOTBALL, "Sport Three", "derby"),
    ]
    news_index.ingest(fresh, now=T0)
    items = select_digest(news_index, since=T0 - timedelta(hours=24), until=T0 + timedelta(1))
    titles = [i.article.title for i in items]
    assert "Old climate deal" not in titles
    assert len(items) == 2  # the two quake reports are one story
    quake = items[0]
    assert "quake" in quake.article.title.lower()
    assert [o.source for o in quake.also] in (["Daily Two"], ["Wire One"])
    assert quake.line  # a highlight or best sentence


def test_topic_keeps_unrelated_articles_out(news_index: NewsIndex) -> None:
    news_index.ingest(
        [
            story("Derby ends three-one", FOOTBALL, "Sport Three", "derby"),
            story("Summit agrees loss and damage fund", CLIMATE, "Planet Post", "cop"),
        ],
        now=T0,
    )
    window = {"since": T0 - timedelta(hours=24), "until": T0 + timedelta(hours=1)}
    climate = select_digest(news_index, topic="climate", **window)
    assert [i.article.title for i in climate] == ["Summit agrees loss and damage fund"]
    assert select_digest(news_index, topic="earthquake in Japan", **window) == []
