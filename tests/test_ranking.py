"""Ranking behaviour a reader notices: the passage with the answer sentence comes first, and a
question about two reports gets both of them near the top."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from corpus.models import Article
from index import NewsIndex
from index.chunking import split_sentences
from index.embedder import Embedder
from index.query import QueryAnalyser, claims_in
from index.search import caches


def long_article(title: str, source: str, url: str, fact: str, topic: str, day: int) -> Article:
    """Many sentences on the topic, one of them the fact: several chunks per article."""
    filler = [
        f"Officials discussed the {topic} at length during meeting number {i}, and residents "
        f"shared their views on the {topic} with local reporters."
        for i in range(30)
    ]
    filler.insert(17, fact)
    return article(title, source, url, filler, day)


def article(title: str, source: str, url: str, sentences: list[str], day: int) -> Article:
    return Article(
        title=title,
        body=" ".join(sentences),
        source=source,
        url=url,
        published_at=f"2023-10-{day:02d}T09:00:00Z",
    )


def test_sentence_vectors_come_from_the_passage_pass(embedder: Embedder) -> None:
    text = (
        "Harbour news | Coast Herald. The ferry timetable changes next week. "
        "The new lighthouse in Reykjavik was opened by the mayor on Tuesday."
    )
    second = text.index("The new lighthouse")
    spans = [(text.index("The ferry"), second - 1), (second, len(text))]
    passages, sentences = embedder.encode_passages([text, "A short one."], [spans, []])
    assert np.allclose(passages, embedder.encode([text, "A short one."]), atol=1e-4)
    assert sentences[0].shape == (2, embedder.dim) and sentences[1].shape == (0, embedder.dim)
    question = embedder.encode(["Who opened the lighthouse in Reykjavik?"])[0]
    scores = sentences[0] @ question
    assert scores[1] > scores[0]


def test_every_chunk_keeps_one_vector_per_sentence(news_index: NewsIndex) -> None:
    articles = [
        long_article(f"Bridge story {i}", "Coast Herald", f"https://h.example/{i}",
                     "The bridge reopened on Monday.", "bridge", 3 + i)
        for i in range(3)
    ]  # fmt: skip
    news_index.ingest(articles)
    fact = "The bridge stays closed until spring."
    changed = long_article("Bridge story 0", "Coast Herald", "https://h.example/0", fact,
                           "bridge repairs", 3)  # fmt: skip
    news_index.ingest([changed])
    news_index.remove(articles[1].id)
    store = news_index.store
    ids = [row[0] for row in store.conn.execute("SELECT id FROM chunks")]
    vectors = store.sentence_vectors(ids, news_index.questions.dim)
    assert sorted(vectors) == sorted(ids)  # replaced and removed chunks took theirs along
    for chunk in store.chunks(ids).values():
        assert len(vectors[chunk.id]) == len(split_sentences(chunk.text))


def test_sentence_vectors_kept_for_reuse_stay_within_budget_and_follow_updates(
    news_index: NewsIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = [
        long_article(f"Bridge story {i}", "Coast Herald", f"https://h.example/{i}",
                     f"The bridge reopened on day {i}.", "bridge", 3 + i)
        for i in range(3)
    ]  # fmt: skip
    news_index.ingest(articles)
    store, dim = news_index.store, news_index.questions.dim
    ids = [row[0] for row in store.conn.execute("SELECT id FROM chunks")]
    stored = store.sentence_vectors(ids, dim)
    budget = 2 * max(m.nbytes for m in stored.values())
    monkeypatch.setattr(caches, "SENTENCE_VECTORS_CACHED", budget)
    first = news_index.answer("When did the bridge reopen?")
    assert first.citations
    generation = news_index.searcher.current()
    assert 0 < generation.sentence_vector_bytes <= budget
    kept = generation.sentence_vectors(ids, dim)
    assert all(np.array_equal(kept[i], stored[i]) for i in ids)
    assert generation.sentence_vector_bytes <= budget
    fact = "The bridge stays closed until spring because of cracked cables."
    news_index.ingest([long_article("Bridge story 0", "Coast Herald", "https://h.example/0",
                                    fact, "bridge", 9)])  # fmt: skip
    answer = news_index.answer("Why does the bridge stay closed until spring?")
    assert any(fact in " ".join(c.quotes) for c in answer.citations)


def test_the_passage_holding_the_answer_sentence_comes_first(news_index: NewsIndex) -> None:
    fact = "The council voted to raise the bridge toll to four dollars for trucks."
    news_index.ingest(
        [
            long_article("Bridge debate", "Coast Herald", "https://h.example/a", fact, "bridge", 5),
            long_article("Ferry debate", "Coast Herald", "https://h.example/b",
                         "The ferry kept its old fares.", "ferry", 6),
        ]
    )  # fmt: skip
    assert news_index.stats().chunks >= 4
    passages, abstained = news_index.retrieve("How much is the new bridge toll for trucks?")
    assert not abstained
    assert fact in passages[0].text


def test_a_question_about_two_reports_gets_both_near_the_top(news_index: NewsIndex) -> None:
    herald = [
        long_article(f"Bridge update {i}", "Coast Herald", f"https://h.example/{i}",
                     f"The bridge reopened to traffic after {i + 2} weeks of repairs.",
                     "bridge", 2 + i)
        for i in range(4)
    ]  # fmt: skip
    fact = "The council plans to double the bridge toll next year."
    post = long_article("Toll plans", "Valley Post", "https://p.example/1", fact, "bridge", 9)
    news_index.ingest([*herald, post])
    question = (
        "Did the Coast Herald report that the bridge reopened after repairs, while the Valley "
        "Post article said the council plans to double the bridge toll?"
    )
    passages = news_index.search(question, top=4)
    assert {p.article.source for p in passages[:2]} == {"Coast Herald", "Valley Post"}

    twice = (
        "Between the Coast Herald report on the bridge reopening after 2 weeks and the Coast "
        "Herald report on the bridge reopening after 5 weeks, did the length of repairs change?"
    )
    passages = news_index.search(twice, top=4)
    assert len({p.article.id for p in passages[:2]}) == 2
    assert {p.article.source for p in passages[:2]} == {"Coast Herald"}


def test_question_is_cut_at_each_outlet_mention() -> None:
    analyser = QueryAnalyser(["TechCrunch", "The Verge"])
    intent = analyser.analyse(
        "Did the TechCrunch article say the chip shipped, while The Verge said it slipped, "
        "and did TechCrunch later agree?"
    )
    assert intent.mentions == 3
    assert [sources for _, sources in intent.clauses] == [
        ("TechCrunch",),
        ("The Verge",),
        ("TechCrunch",),
    ]
    assert "chip shipped" in intent.clauses[0][0] and "slipped" in intent.clauses[1][0]
    assert analyser.analyse("What happened to the chip?").clauses == ()


def test_questions_encode_like_passages(embedder: Embedder) -> None:
    """Questions may be encoded in bfloat16 (where the CPU has it); they must land where the
    float32 vectors would, or dense scores against float32 passages drift."""
    questions = ["Who won the election in Argentina?", "What did the central bank decide?"]
    vectors = np.stack([embedder.encode_question(q, [])[0] for q in questions])
    cosines = (vectors * embedder.encode(questions)).sum(axis=1)
    assert cosines.min() > 0.999


def test_question_is_cut_into_claims() -> None:
    claims = claims_in(
        "Which town, whose bridge reopened after six weeks of repairs, froze its ferry fares "
        "for another year and repainted the harbour lighthouse bright red?"
    )
    assert claims == (
        "whose bridge reopened after six weeks of repairs",
        "froze its ferry fares for another year",
        "repainted the harbour lighthouse bright red",
    )
    assert claims_in("Who won?") == ()


def test_parts_of_a_question_get_their_own_vectors(embedder: Embedder) -> None:
    question = "Who opened the lighthouse in Reykjavik, and what did the ferry tickets cost?"
    parts = ["Who opened the lighthouse in Reykjavik", "what did the ferry tickets cost"]
    vector, part_vectors = embedder.encode_question(question, parts)
    assert float(vector @ embedder.encode([question])[0]) > 0.999
    sentences = embedder.encode(
        ["The mayor opened the new lighthouse in Reykjavik.", "Ferry tickets now cost ten euros."]
    )
    scores = part_vectors @ sentences.T
    assert scores[0, 0] > scores[0, 1] and scores[1, 1] > scores[1, 0]


def test_each_claim_of_a_many_part_question_gets_its_evidence_near_the_top(
    news_index: NewsIndex,
) -> None:
    """Three claims, three reports: the third report's sentence beats more chunks of the
    two reports already shown, though those match more of the question's words."""
    bridge = [
        f"At meeting {i} the town said the bridge reopened after six weeks of repairs, and the "
        f"bridge repairs took six weeks as the town had said."
        for i in range(24)
    ]
    ferry = [
        f"At meeting {i} the town froze ferry fares for another year, and ferry fares stay "
        f"frozen for another year as the town said."
        for i in range(24)
    ]
    lighthouse = "The harbour lighthouse was repainted bright red."
    news_index.ingest(
        [
            article("Bridge news", "Coast Herald", "https://h.example/b", bridge, 3),
            article("Ferry news", "Coast Herald", "https://h.example/f", ferry, 4),
            article("Harbour news", "Coast Herald", "https://h.example/l",
                    ["Gulls nested on the pier.", lighthouse, "Fishing boats left at dawn."], 5),
        ]
    )  # fmt: skip
    assert news_index.stats().chunks >= 6
    question = (
        "Which town, whose bridge reopened after six weeks of repairs, froze its ferry fares "
        "for another year and repainted the harbour lighthouse bright red?"
    )
    passages = news_index.search(question, top=3)
    assert {p.article.title for p in passages} == {"Bridge news", "Ferry news", "Harbour news"}
    assert any(lighthouse in p.text for p in passages)


def test_time_words_pick_the_period_and_say_when_it_has_nothing(news_index: NewsIndex) -> None:
    news_index.ingest(
        [
            article("Ferry fares rise", "Coast Herald", "https://h.example/old",
                    ["The ferry company raised fares by ten percent for the winter season."], 3),
            article("Ferry fares cut", "Coast Herald", "https://h.example/new",
                    ["The ferry company cut fares by five percent after complaints."], 24),
        ]
    )  # fmt: skip
    asked = datetime(2023, 10, 26, 9, tzinfo=UTC)  # a Thursday; the 24th is this week
    this_week = news_index.answer("what happened to ferry fares this week", now=asked)
    assert this_week.citations[0].title == "Ferry fares cut" and this_week.note is None
    early = news_index.answer("what happened to ferry fares on 3 october", now=asked)
    assert early.citations[0].title == "Ferry fares rise"
    # nothing from then: said so, and the closest reporting offered with its date
    later = news_index.answer("ferry fares in december", now=datetime(2024, 1, 5, tzinfo=UTC))
    assert later.found and later.note is not None
    assert later.note.startswith("Nothing from December 2023")
    assert "24 Oct 2023" in later.note
    # a time named with its year, after the newest reporting: what happened then is not in
    # older reports, so nothing is quoted and the reader is told how far the reporting goes
    june = datetime(2024, 6, 1, tzinfo=UTC)
    after = news_index.answer("did ferry fares go up in march 2024", now=june)
    assert not after.found and after.hint is not None
    assert "March 2024" in after.hint and "24 Oct 2023" in after.hint
    # ... unless it asks what was planned for then, which older reporting can tell
    plans = news_index.answer("will ferry fares go up in march 2024", now=june)
    assert plans.found and plans.note is not None and plans.note.startswith("Nothing from March")
    # a day after the newest reporting ("yesterday", "last night") asked how it went: the same
    night = news_index.answer("did the ferry company cut fares again last night", now=june)
    assert not night.found and night.hint is not None and "24 Oct 2023" in night.hint
    # ... unless some report has no date: it may be from last night
    undated = Article(
        title="Ferry fares cut again",
        body="The ferry company cut fares again, by three percent, after a quiet summer.",
        source="Coast Herald",
        url="https://h.example/again",
    )
    news_index.ingest([undated])
    night = news_index.answer("did the ferry company cut fares again last night", now=june)
    assert night.found and "Ferry fares cut again" in [c.title for c in night.citations]


def test_a_period_includes_the_reporting_just_after_it(news_index: NewsIndex) -> None:
    """What happened last week is often reported days later: asked on Wednesday, Tuesday's
    report answers "last week" and nothing is said about the period having no reporting."""
    news_index.ingest(
        [
            article("Court takes up ferry case", "Coast Herald", "https://h.example/court",
                    ["Last week the high court agreed to hear the ferry operators' appeal."], 24),
            article("Ferry fares cut", "Coast Herald", "https://h.example/fares",
                    ["The ferry company cut fares by five percent after complaints."], 3),
        ]
    )  # fmt: skip
    wednesday = datetime(2023, 10, 25, 9, tzinfo=UTC)  # last week: 16-22 October
    answer = news_index.answer(
        "which appeal did the high court agree to hear last week", now=wednesday
    )
    assert answer.citations[0].title == "Court takes up ferry case"
    assert answer.note is None
    # two weeks on, that report is not about "last week"
    later = datetime(2023, 11, 8, 9, tzinfo=UTC)
    late = news_index.answer("which appeal did the high court agree to hear last week", now=later)
    assert late.note is not None and late.note.startswith("Nothing from last week")


def test_a_story_timeline_is_in_date_order(news_index: NewsIndex) -> None:
    days = [20, 4, 12]
    news_index.ingest(
        [
            article(f"Bridge strike day {day}", f"Outlet {day}", f"https://s.example/{day}",
                    [f"Bridge workers went on strike for the {n}th day as talks on pay stalled.",
                     "Commuters faced long queues at the ferry terminal."], day)
            for n, day in enumerate(days, start=1)
        ]
    )  # fmt: skip
    timeline = news_index.timeline("bridge workers strike")
    assert timeline.timeline
    assert [c.published_at.day for c in timeline.citations] == sorted(days)
    assert all("strike" in c.quotes[0] for c in timeline.citations)
    story = news_index.answer("how did the bridge workers strike unfold")
    assert story.timeline and len(story.citations) == 3
