"""Misspelled questions corrected against what the index holds, as people type them."""

from __future__ import annotations

from index import NewsIndex
from tests.conftest import make_article

BODIES = [
    "Victor Wembanyama's wingspan is eight feet. Wembanyama blocked five shots.",
    "Wembanyama's rookie season began in San Antonio, where fans grow more hopeful.",
    "Charlie Puth’s voice is on there, with other singers who grow their audience.",
    "Farmers grow wheat on the plains. Farmers grow barley when rain is short.",
]


def spelled(index: NewsIndex, question: str) -> str:
    return index.parse(question).text


def test_a_misspelled_name_is_corrected_and_a_real_one_kept(news_index: NewsIndex) -> None:
    news_index.ingest(
        [make_article(f"Story {k}", body, url=f"https://s.example/{k}") for k, body in
         enumerate(BODIES)]
    )  # fmt: skip
    # a possessive is corrected as its name, and the "'s" kept
    assert spelled(news_index, "how long is wembanyma's wingspan") == (
        "how long is wembanyama's wingspan"
    )
    # a name the articles only have as a possessive ("Puth's") is a word they hold
    assert spelled(news_index, "Is Charlie Puth on it?") == "Is Charlie Puth on it?"
    # a capitalised word the index lacks is a name: not turned into an everyday word
    asked = "What did Grok's image tool do?"
    assert spelled(news_index, asked) == asked
    # ... but typed in lower case there is no telling, and a typo of an everyday word is fixed
    assert spelled(news_index, "do farmers groww barley") == "do farmers grow barley"
    # an English word a small index lacks is not a typo of one it has ("grow" for "grew")
    assert spelled(news_index, "did farmers grew barley") == "did farmers grew barley"


def test_the_answer_says_what_a_misspelled_word_was_read_as(news_index: NewsIndex) -> None:
    """Above the citations (and under "no relevant reporting", tests/test_render.py): the
    reader sees what was searched for, a wrong correction included."""
    news_index.ingest(
        [make_article(f"Story {k}", body, url=f"https://s.example/{k}") for k, body in
         enumerate(BODIES)]
    )  # fmt: skip
    answer = news_index.answer("how many shots did wembanyma block")
    assert answer.found and answer.note == "Read “wembanyma” as “wembanyama”."
    assert news_index.answer("how many shots did wembanyama block").note is None


def test_a_name_misspelled_beside_its_first_name_is_corrected_from_one_article(
    news_index: NewsIndex,
) -> None:
    """A name most often comes up in one article: too rare to be anyone's correction alone,
    but "jennifer anniston" is the "Jennifer Aniston" that article has, word beside word."""
    news_index.ingest(
        [
            make_article(
                "Sleep", "Jennifer Aniston's trick for insomnia is a cup of tea.", url="https://s/1"
            ),
            make_article("Town", "Anniversary sales in the town of Annistown.", url="https://s/2"),
        ]
    )
    assert spelled(news_index, "what is jennifer anniston's trick") == (
        "what is jennifer aniston's trick"
    )
    # alone, or beside a word the article does not have it beside, it is left as typed
    assert spelled(news_index, "what is anniston's trick") == "what is anniston's trick"
    assert spelled(news_index, "is mary anniston ok") == "is mary anniston ok"


def test_two_words_written_as_one_are_split(news_index: NewsIndex) -> None:
    news_index.ingest(
        [
            make_article(f"Deals {k}", f"Black Friday deals on headphones, part {k}.",
                         url=f"https://d/{k}")
            for k in range(2)
        ]
    )  # fmt: skip
    assert spelled(news_index, "blackfriday headphones") == "black friday headphones"
    # only into words the index has side by side
    assert spelled(news_index, "fridayblack headphones") == "fridayblack headphones"


def test_the_correction_that_stands_beside_its_neighbour_wins_over_a_commoner_one(
    news_index: NewsIndex,
) -> None:
    """A question's "boris beker" is one edit from "becker" and from the commoner "baker": the
    article that has "Boris Becker" side by side decides, as a reader would."""
    bakers = [
        make_article(f"Bakery {k}", f"The baker opened at dawn, and a second baker joined {k}.",
                     url=f"https://b/{k}")
        for k in range(3)
    ]  # fmt: skip
    tennis = [
        make_article(f"Tennis {k}", f"Boris Becker spoke about prison, part {k}.",
                     url=f"https://t/{k}")
        for k in range(2)
    ]  # fmt: skip
    news_index.ingest([*bakers, *tennis])
    assert spelled(news_index, "how long was boris beker in prison") == (
        "how long was boris becker in prison"
    )
    # with no neighbour to go by, the commonest correction stays
    assert spelled(news_index, "beker") == "baker"
    # a neighbour neither stands beside: the commonest too
    assert spelled(news_index, "the famous beker") == "the famous baker"
