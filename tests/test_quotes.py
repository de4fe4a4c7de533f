"""Which sentences of an article are quoted: the ones that answer, not captions, embeds or
the same line twice. Vectors are given per sentence as the index stores them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.kinds import answer_kind, kind_test
from index.query import QueryAnalyser
from index.quotes import (
    _CLOSED,
    _EMBED,
    FEATURES,
    QuoteWeights,
    _described,
    pick_quotes,
    sentence_features,
)

SPHERE = [
    "The Sphere opened in Las Vegas in September with a residency by U2.",
    "U2 perform at the Sphere in Las Vegas.",
    "Inside, there are 157,000 speakers that can aim sound at a single seat.",
    "The venue cost about $2.3 billion to build, its owner said.",
    "U2 perform at the Sphere in Las Vegas.",
    "Sign up for our newsletter",
]
WEIGHTS = {
    "speakers": 4.3,
    "installed": 5.0,
    "inside": 3.8,
    "las": 4.1,
    "vegas": 4.6,
    "sphere": 6.2,
}


def test_a_how_many_question_quotes_the_sentence_with_the_number() -> None:
    question = "How many speakers are installed inside the Las Vegas Sphere?"
    cosines = [0.45, 0.49, 0.52, 0.30, 0.49, 0.05]
    quotes = pick_quotes(SPHERE, WEIGHTS, cosines=cosines, kind=answer_kind(question))
    assert quotes[0] == SPHERE[2]


def test_the_same_caption_is_never_quoted_twice_nor_page_furniture() -> None:
    cosines = [0.2, 0.9, 0.1, 0.1, 0.9, 0.9]
    quotes = pick_quotes(SPHERE, {"u2": 5.0, "perform": 3.0}, cosines=cosines)
    assert len(quotes) == len(set(quotes)) == 2
    assert "Sign up for our newsletter" not in quotes


def test_two_sentences_are_quoted_best_first_and_one_when_asked() -> None:
    cosines = [0.45, 0.49, 0.52, 0.30, 0.49, 0.05]
    two = pick_quotes(SPHERE, WEIGHTS, cosines=cosines, kind="number")
    one = pick_quotes(SPHERE, WEIGHTS, cosines=cosines, kind="number", limit=1)
    assert len(two) == 2 and one == two[:1]
    assert pick_quotes([], WEIGHTS) == ()


def test_the_number_a_question_names_itself_is_not_the_answer() -> None:
    question = "How many votes did Jim Jordan get on his third try in 2024?"
    holds = kind_test(answer_kind(question), {"votes", "jim", "jordan", "third", "try", "2024"})
    assert not holds("Jordan tried again in 2024.")
    assert holds("Friday's vote was 194 for Jordan, his lowest tally yet.")
    assert holds("He lost by 1,479 votes in 2024.")  # a number besides the year
    # a question naming no number takes any number
    assert kind_test("number", {"votes", "jordan"})("Jordan tried again in 2024.")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("why did dre greenlaw get ejected vs the eagles", "reason"),
        ("what caused the outage at cloudflare", "reason"),
        ("how much is norway fining meta each day", "money"),
        ("how many goals did palmer score", "number"),
        ("who ended up catching the hail mary", "person"),
        ("nascar tv deal networks", None),
    ],
)
def test_the_kind_of_answer_asked_for(question: str, kind: str | None) -> None:
    assert answer_kind(question) == kind


def test_a_reason_question_prefers_the_sentence_that_gives_one() -> None:
    sentences = [
        "Dre Greenlaw was ejected in the third quarter against the Eagles.",
        "Greenlaw was ejected because he struck the Eagles' security chief in the face.",
    ]
    weights = {"greenlaw": 7.5, "ejected": 6.5, "eagles": 4.1}
    quotes = pick_quotes(sentences, weights, cosines=[0.8, 0.7], kind="reason", limit=1)
    assert quotes == (sentences[1],)


def test_every_sentence_gets_one_value_per_feature_and_weight() -> None:
    rows = sentence_features(SPHERE, WEIGHTS, [0.1] * len(SPHERE), "number")
    assert len(rows) == len(SPHERE)
    assert all(len(row) == len(FEATURES) == len(QuoteWeights.__dataclass_fields__) for row in rows)


# A sentence's own features are read without a regex where a plain string test says the same
# (quoting reads a whole article's sentences per citation): each must agree with the pattern.
ENDINGS = st.sampled_from(["", ".", "!", "?", "…", '."', ".”", ".’)", '"', ")", " ", "\n", ". "])
ODD_TEXT = st.text(alphabet=st.sampled_from('ab @(/).:"”’]w—\n\t'), max_size=30)


@given(body=st.one_of(ODD_TEXT, st.text(max_size=40)), ending=ENDINGS, tail=ENDINGS)
@settings(max_examples=400, deadline=None)
def test_sentence_shape_agrees_with_the_patterns(body: str, ending: str, tail: str) -> None:
    sentence = body + ending + tail
    about = _described(sentence)
    assert about.heading == float(not _CLOSED.search(sentence))
    assert about.embed == float(bool(_EMBED.search(sentence)))


@pytest.mark.parametrize(
    "sentence",
    [
        "Watch: the moment it landed pic.twitter.com/abc123",
        "— Jane Doe (@janedoe) October 7, 2023",
        "Read more at www.example.com today.",
        "@newsdesk says the vote is off",
        'He said: "It is over."',
        "The headline without a stop",
        "The end.)  ",
    ],
)
def test_embeds_and_headings_in_real_shapes(sentence: str) -> None:
    about = _described(sentence)
    assert about.heading == float(not _CLOSED.search(sentence))
    assert about.embed == float(bool(_EMBED.search(sentence)))


LUCASHENKO = [
    "Melissa Lucashenko gave this interview at her home, west of Brisbane.",
    "Her novel Too Much Lip won the Miles Franklin in 2019.",
    "Her new novel, Edenglassie, came out last week.",
    "The novel is set in colonial Brisbane in the 1850s.",
    "Lucashenko writes every morning before dawn.",
]


def test_a_question_that_first_says_which_story_quotes_what_it_then_asks() -> None:
    """ "the age interview with melissa lucashenko, what's her new novel called": the words
    before the comma say which article, those after it which sentence."""
    intent = QueryAnalyser(["The Age"]).analyse(
        "the age interview with melissa lucashenko, what's her new novel called"
    )
    idf = {"interview": 3.0, "melissa": 4.0, "lucashenko": 6.0, "new": 1.0, "novel": 3.5,
           "called": 1.0}  # fmt: skip
    weights = {t: idf.get(t, 1.0) for t in intent.terms}
    cosines = [0.5] * len(LUCASHENKO)
    [quote] = pick_quotes(LUCASHENKO, intent.quote_weights(weights), cosines=cosines, limit=1)
    assert quote == LUCASHENKO[2]
    # a question that only asks weighs all its words alike
    plain = QueryAnalyser([]).analyse("what is melissa lucashenko's new novel called")
    assert plain.quote_weights(weights) == weights


PROP_BETS = [
    "Betting guides are everywhere in the weeks before the Super Bowl.",
    "What is a prop bet?",
    "A prop bet is a side bet with a sportsbook on a specific event within the game.",
    "City decided he could leave and Chelsea paid £42.5m. “Who knows what happens if I stay?”",
    "He has started every game since.",
]


def test_a_question_the_article_asks_itself_is_answered_by_the_next_sentence() -> None:
    """An FAQ heading or an interviewer's question matches the reader's question best, but
    quoting it back answers nothing: the article's answer, the sentence after it, is quoted."""
    weights = {"prop": 6.0, "bet": 4.0}
    cosines = [0.3, 0.9, 0.6, 0.1, 0.1]
    [quote] = pick_quotes(PROP_BETS, weights, cosines=cosines, limit=1)
    assert quote == PROP_BETS[2]
    # a question inside someone's quoted words ends a sentence that says something itself
    weights = {"chelsea": 5.0, "paid": 3.0}
    [quote] = pick_quotes(PROP_BETS, weights, cosines=[0.1, 0.1, 0.1, 0.8, 0.2], limit=1)
    assert quote == PROP_BETS[3]


@pytest.mark.parametrize(
    "question",
    [
        "how cheap is the m1 macbook air on amazon right now",
        "sony xm5 headphones black friday price",
        "How much does the Alzheimer's drug lecanemab cost per year?",
        "how much is norway fining meta each day",
    ],
)
def test_a_price_question_quotes_the_amount_not_any_number(question: str) -> None:
    """ "M1", "15-inch" and "8GB" are numbers; a reader asking what it costs wants the price."""
    sentences = [
        "The base MacBook Air with the M1 chip comes with 8GB of RAM and 256GB of storage.",
        "It usually sells for $999, but Amazon is discounting it to $749.99 this week.",
        "Retailers in 15 states said the deal, like last year's, would end on Monday.",
    ]
    weights = {"macbook": 5.0, "air": 3.0, "amazon": 2.5, "m1": 5.5}
    assert answer_kind(question) == "money"
    [quote] = pick_quotes(sentences, weights, cosines=[0.5, 0.45, 0.2], kind="money", limit=1)
    assert quote == sentences[1]
    [quote] = pick_quotes(sentences, weights, cosines=[0.5, 0.45, 0.2], kind="number", limit=1)
    assert quote == sentences[0]  # any number will do for "how many"
