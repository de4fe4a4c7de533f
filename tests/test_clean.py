"""Article bodies lose the page furniture scraped with them, and keep every line of the story.

The boilerplate lines are real ones from the MultiHop-RAG corpus (Fox News, The Independent,
The Guardian, Engadget, The Verge, Globes)."""

from __future__ import annotations

import json

import pytest

from corpus.clean import clean_body, is_boilerplate
from corpus.models import Article

BOILERPLATE = [
    "CLICK HERE TO SIGN UP FOR OUR HEALTH NEWSLETTER",
    "CLICK HERE TO GET THE FOX NEWS APP",
    "LIKE WHAT YOU’RE READING? CLICK HERE FOR MORE ENTERTAINMENT NEWS",
    "Lifestyle Edit email {{ #verifyErrors }} {{ message }} {{ /verifyErrors }} "
    "{{ ^verifyErrors }} Something went wrong. Please try again later {{ /verifyErrors }}",
    "Sign up to Simon Calder’s free travel email for expert advice and money-saving discounts "
    "Get Simon Calder’s Travel email Please enter a valid email address",
    "skip past newsletter promotion Sign up to Football Daily Free daily newsletter Kick off "
    "your evenings with the Guardian's take on the world of football Privacy Notice",
    "Advertisement",
    "ADVERTISEMENT Article continues below this ad",
    "Facebook Twitter Whatsapp Reddit Email Share",
    "If you buy something using links in our stories, we may earn a commission. This helps "
    "support our journalism. Learn more.",
    "© Copyright of Globes Publisher Itonut (1983) Ltd., 2023.",
    "(Getty Images)",
    "Photograph: Apple",
    "Verge Deals / Sign up for Verge Deals to get deals on products we've tested sent to your "
    "inbox daily. Email (required) Sign up By submitting your email, you agree to our Terms.",
    "Related Pages:",
]
STORY = [
    "In August, a Louisiana woman sued Novo Nordisk, the manufacturer of Ozempic and Wegovy.",
    "The U.S. is starting to see an upswing in flu cases, he said.",
    "Typically all you’ll have to do is sign up for a new account with a Vermont online "
    "sportsbook to become eligible to receive the welcome bonuses.",
    "Hey, folks, and welcome to Week in Review, covering the past week in tech.",
    "UTSA Roadrunners betting news",
    "Sam Bankman-Fried, the founder of failed cryptocurrency exchange FTX, has been found guilty.",
]


@pytest.mark.parametrize("line", BOILERPLATE)
def test_boilerplate_lines_are_recognised(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize("line", STORY)
def test_story_lines_are_kept(line: str) -> None:
    assert not is_boilerplate(line)


def test_a_body_loses_its_prompts_but_keeps_its_paragraphs() -> None:
    body = (
        "Ozempic may be linked to stomach paralysis, a study found.\n\n"
        "CLICK HERE TO SIGN UP FOR OUR HEALTH NEWSLETTER\n\n"
        "In August, a Louisiana woman sued Novo Nordisk.\n"
        "Manchester United’s stadium needs an upgrade. Photograph: Greig Cowie/Shutterstock\n"
        "Photograph: Apple\n"
        "Please enter a valid email address"
    )
    assert clean_body(body) == (
        "Ozempic may be linked to stomach paralysis, a study found.\n\n"
        "In August, a Louisiana woman sued Novo Nordisk.\n"
        "Manchester United’s stadium needs an upgrade."
    )


@pytest.mark.parametrize(
    ("text", "clean"),
    [  # The Sydney Morning Herald and The Age leave a widget's "Loading" in the running text
        (
            "bond yields and falling oil prices. Loading The S&P 500 climbed 0.8 per cent.",
            "bond yields and falling oil prices. The S&P 500 climbed 0.8 per cent.",
        ),
        (
            "Loading Traders widely expect the Federal Reserve to hold.",
            "Traders widely expect the Federal Reserve to hold.",
        ),
        (
            "The Verge said so.\nLoading . . .\nNext paragraph.",
            "The Verge said so.\nNext paragraph.",
        ),
        ("Loading the trucks took hours.", "Loading the trucks took hours."),
        ("Dock workers said Loading Bay 3 was shut.", "Dock workers said Loading Bay 3 was shut."),
    ],
)
def test_a_loading_placeholder_leaves_the_sentence_it_precedes(text: str, clean: str) -> None:
    assert clean_body(text) == clean


@pytest.mark.parametrize(
    ("text", "clean"),
    [  # photo credits glued between a caption and the story's next sentence, as scraped
        (
            "Oil prices slumped overnight. Credit: AP Wednesday’s report from ADP suggested "
            "private employers added 89,000 jobs.",
            "Oil prices slumped overnight. Wednesday’s report from ADP suggested private "
            "employers added 89,000 jobs.",
        ),
        (
            "U2 perform at the Sphere in Las Vegas. Credit: Stufish Entertainment Architects "
            "These are the technical specs: an interior 16K x 16K spherical video surface.",
            "U2 perform at the Sphere in Las Vegas. These are the technical specs: an interior "
            "16K x 16K spherical video surface.",
        ),
        (
            "and distributors. Credit: Bloomberg “You couldn’t just take a novice off the street.”",
            "and distributors. “You couldn’t just take a novice off the street.”",
        ),
        (
            "Swan Chloe Molloy celebrates a goal. Credit: AFL Photos / Getty Images The Bulldogs "
            "held their own in the last quarter.",
            "Swan Chloe Molloy celebrates a goal. The Bulldogs held their own in the last quarter.",
        ),
        (
            "Leonard Bernstein in Maestro. Credit: Jason McDonald/Netflix My top Netflix "
            "recommendation is Maestro (December 20).",
            "Leonard Bernstein in Maestro. My top Netflix recommendation is Maestro (December 20).",
        ),
        (
            "the Cup Series Championship race at Phoenix Raceway. Mandatory Credit: Gary A. "
            "Vasquez-USA TODAY Sports",
            "the Cup Series Championship race at Phoenix Raceway.",
        ),
        (  # where the credit ends is not clear: the line is left as it is
            "Tyler Mitchell, Picnic. 2021. Credit: Courtesy of the artist and Jack Shainman "
            "Gallery, New York In the other works, he turns.",
            "Tyler Mitchell, Picnic. 2021. Credit: Courtesy of the artist and Jack Shainman "
            "Gallery, New York In the other works, he turns.",
        ),
        (  # The Age's save and text-size bar before the story
            "Save Log in , register or subscribe to save articles for later. Save articles for "
            "later Add articles to your saved list and come back to them any time. Got it Normal "
            "text size Larger text size Very large text size Tyler Mitchell was just 23.",
            "Tyler Mitchell was just 23.",
        ),
        ("He gave credit: the team did it.", "He gave credit: the team did it."),
    ],
)
def test_credits_and_toolbars_in_the_running_text_are_cut(text: str, clean: str) -> None:
    assert clean_body(text) == clean


def test_articles_are_cleaned_and_the_cleaner_is_part_of_the_hash(monkeypatch) -> None:
    article = Article(title="T", body="Story line.\nCLICK HERE TO GET THE FOX NEWS APP")
    assert article.body == "Story line."
    before = article.content_hash
    monkeypatch.setattr("corpus.clean.VERSION", 999)
    assert article.content_hash != before  # a new cleaner re-ingests the article


def test_an_article_that_is_only_boilerplate_is_refused() -> None:
    with pytest.raises(ValueError, match="boilerplate"):
        Article(title="T", body="Advertisement\nPlease enter a valid email address")


def test_every_multihop_gold_fact_survives_cleaning(newsdata) -> None:
    corpus = {a["url"]: a for a in json.loads((newsdata / "corpus.json").read_text())}
    questions = json.loads((newsdata / "MultiHopRAG.json").read_text())

    def strip(text: str) -> str:
        return text.replace(" ", "").replace("\n", "")

    cleaned = {url: strip(clean_body(a["body"])) for url, a in corpus.items()}
    lost = [
        e["fact"]
        for q in questions
        for e in q["evidence_list"]
        if strip(e["fact"]) not in cleaned[e["url"]]
    ]
    assert lost == []
