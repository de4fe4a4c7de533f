"""What a reader gets on the MultiHop-RAG corpus: the dev halves of the everyday-question sets
and a slice of MultiHop-RAG's dev half, each held to minimums a regression would break.

The minimums are the figures measured when they were set, less a margin for the few questions
that flip when the machine or a library changes (see the README's "Retrieval quality").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index import NewsIndex
from index.embedder import Embedder
from index.evaluate import build_index, load_questions, run_eval
from index.evaluate_questions import load_question_file, run_questions
from index.question_encoder import OnnxQuestionEncoder

QUESTIONS = Path(__file__).resolve().parent.parent / "benchmarks" / "questions" / "everyday.json"

# measured on the dev half when set, less a margin of ~3 questions in 100
EVERYDAY_DEV = {
    "answered": 0.96,
    "first": 0.90,
    "cited": 0.95,
    "quoted": 0.75,
    "refused": 0.95,
}
MULTIHOP_DEV_SLICE = {"hits10": 0.93, "hits4": 0.84, "mrr10": 0.68}
FRESH = QUESTIONS.with_name("fresh.json")
# the second set's dev half (50 answerable, 20 not), measured less about 3 questions
FRESH_DEV = {"answered": 0.92, "first": 0.80, "cited": 0.90, "quoted": 0.78, "refused": 0.75}
# the sets written blind (probe: 35 answerable, 14 not; probe2: 70 and 28), less a question or
# two: they hold the harder cases (a later outcome of a covered story, many near-duplicates)
BLIND_DEV = {
    "probe.json": {"answered": 0.94, "first": 0.85, "cited": 0.94, "quoted": 0.57, "refused": 0.78},
    "probe2.json": {"answered": 0.92, "first": 0.75, "cited": 0.9, "quoted": 0.66, "refused": 0.39},
}


@pytest.fixture(scope="module")
def multihop_index(
    newsdata: Path,
    tmp_path_factory: pytest.TempPathFactory,
    embedder: Embedder,
    questions: OnnxQuestionEncoder,
) -> NewsIndex:
    """The whole MultiHop-RAG corpus, indexed once for this module (a few minutes)."""
    data_dir = tmp_path_factory.mktemp("multihop") / "data"
    index = NewsIndex(data_dir, create=True, embedder=embedder, questions=questions)
    build_index(index, newsdata)
    yield index
    index.close()


def test_the_question_set_is_balanced() -> None:
    items = load_question_file(QUESTIONS)
    answerable = [i for i in items if i["article_url"]]
    assert len(answerable) >= 250 and len(items) - len(answerable) >= 60
    for style in ("casual", "fact", "time", "outlet", "typo", "keywords", "yesno"):
        assert sum(1 for i in answerable if i["style"] == style) >= 30
    assert all(i["evidence"] for i in answerable)


def test_everyday_dev_half_meets_its_minimums(multihop_index: NewsIndex) -> None:
    items = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    result = run_questions(multihop_index, items[::2])
    summary = result.row(result.records)
    for key, minimum in EVERYDAY_DEV.items():
        assert summary[key] >= minimum, (key, summary[key])


def test_fresh_dev_half_meets_its_minimums(multihop_index: NewsIndex) -> None:
    items = load_question_file(FRESH)
    result = run_questions(multihop_index, items[::2])
    summary = result.row(result.records)
    for key, minimum in FRESH_DEV.items():
        assert summary[key] >= minimum, (key, summary[key])


@pytest.mark.parametrize("name", sorted(BLIND_DEV))
def test_blind_sets_dev_halves_meet_their_minimums(multihop_index: NewsIndex, name: str) -> None:
    items = load_question_file(QUESTIONS.with_name(name))
    result = run_questions(multihop_index, items[::2])
    summary = result.row(result.records)
    for key, minimum in BLIND_DEV[name].items():
        assert summary[key] >= minimum, (name, key, summary[key])


def test_multihop_dev_slice_meets_its_minimums(newsdata: Path, multihop_index: NewsIndex) -> None:
    questions = load_questions(newsdata)
    result = run_eval(multihop_index, questions, positions=range(0, 800, 2))
    summary = result.summary()
    row = summary["table"]["all answerable"]
    for key, minimum in MULTIHOP_DEV_SLICE.items():
        assert row[key] >= minimum, (key, row[key])
    assert summary["abstention"]["null_abstained"] >= 0.85
    assert summary["abstention"]["answerable_answered"] >= 0.95


def test_a_later_year_than_the_reporting_is_refused_and_the_reported_one_answered(
    multihop_index: NewsIndex,
) -> None:
    """The corpus reports the 2023 Rugby World Cup and no 2026 Oscars: a question naming a year
    the passages found do not hold is refused, the one they hold is answered."""
    later = multihop_index.parse("who won best picture at the 2026 oscars")
    passages = multihop_index.search(later, 15)
    evidence = multihop_index.searcher.evidence(later, passages)
    assert evidence.unseen_numbers == 1.0 and evidence.later_year
    assert not multihop_index.answer(later).found
    reported = multihop_index.parse("who won the 2023 rugby world cup final")
    assert not multihop_index.searcher.evidence(reported, passages).later_year
    answer = multihop_index.answer(reported)
    assert answer.found and "rugby" in answer.citations[0].title.lower()
    # what was planned for a later year is what older reporting can tell
    ahead = multihop_index.parse("what will the 2026 oscars ceremony look like")
    assert not multihop_index.searcher.evidence(ahead, passages).later_year
    # 2023 reporting names the 2024 Olympics, ahead of them: how they turned out it cannot say
    previewed = multihop_index.parse("what happened at the 2024 paris olympics")
    evidence = multihop_index.searcher.evidence(previewed, multihop_index.search(previewed, 15))
    assert evidence.unseen_numbers == 0.0 and evidence.later_year
    assert not multihop_index.answer(previewed).found
    assert multihop_index.answer("what will happen at the 2024 paris olympics").found
    # the 2023 reporting has Ohtani, MVPs and 2024: who won the 2024 award it cannot tell
    assert not multihop_index.answer("Did Shohei Ohtani win the 2024 NL MVP award?").found


def test_a_version_no_article_names_is_refused_and_a_reported_one_answered(
    multihop_index: NewsIndex,
) -> None:
    """The corpus reviews the iPhone 15 and has no PlayStation 6: asking about a version no
    article names gets "no relevant reporting", however close the passages on the product
    come."""
    later = multihop_index.parse("is the playstation 6 worth buying")
    passages = multihop_index.search(later, 15)
    assert multihop_index.searcher.evidence(later, passages).unseen_version
    assert not multihop_index.answer(later).found
    reported = multihop_index.parse("how much does the iphone 15 pro cost")
    assert not multihop_index.searcher.evidence(reported, passages).unseen_version
    answer = multihop_index.answer(reported)
    assert answer.found and "iphone" in answer.citations[0].passage.lower()


def test_a_short_question_half_of_which_no_passage_holds_is_refused(
    multihop_index: NewsIndex,
) -> None:
    """The corpus has rate decisions of other central banks and none of the Swiss one: "swiss
    national bank rate cut" finds passages on rate cuts, and in five words the two left
    unmatched are the point. A keyword question the passages hold is answered."""
    weights = multihop_index.searcher.config.refusal
    uncovered = multihop_index.parse("swiss national bank rate cut")
    evidence = multihop_index.searcher.evidence(uncovered, multihop_index.search(uncovered, 15))
    assert not multihop_index.answer(uncovered).found
    # the brevity-weighted share left uncovered is what refuses it
    assert evidence.uncovered_short > 0.05
    without = (*weights[:-2], 0.0, weights[-1])
    assert evidence.answerable(weights) < 0.5 < evidence.answerable(without)
    held = multihop_index.parse("astros sign stealing trash can")
    answer = multihop_index.answer(held)
    assert answer.found and "astros" in answer.citations[0].title.lower()


def test_a_keyword_list_is_not_read_as_phrases(multihop_index: NewsIndex) -> None:
    """ "mint replacement reader favourite app" (inline, for The Verge's readers' picks of
    budgeting apps to replace Mint): no article has "mint replacement" or "reader favourite"
    side by side, and a keyword list need not; it is answered from that article."""
    intent = multihop_index.parse("mint replacement reader favourite app")
    evidence = multihop_index.searcher.evidence(intent, multihop_index.search(intent, 15))
    assert 0 < evidence.unseen_pairs <= 0.5  # every pair unseen, counted at half
    answer = multihop_index.answer(intent)
    assert answer.found and "best-apps-online-budget-money" in (answer.citations[0].url or "")


def test_a_short_question_keeps_the_fused_order_of_its_reports(multihop_index: NewsIndex) -> None:
    """ "Does Amazon match prices from other stores?": The Verge's guide to price matching
    holds it ("Amazon doesn't offer price matching") and leads on both the vector and the
    words; a Black Friday roundup has a sentence with more of the question's words. For a
    question this short the best sentence does not overturn that order."""
    answer = multihop_index.answer("Does Amazon match prices from other stores?")
    assert answer.found and "price-matching-policy" in answer.citations[0].url


def test_a_name_joined_by_of_that_no_article_has_is_refused(multihop_index: NewsIndex) -> None:
    """The corpus has the Bank of England and no Bank of Canada: "bank of canada" is a phrase
    the question asks about ("of" between its words, so no two of them stand side by side),
    and no article holding it, the question is refused. One whose "of" phrase the reporting
    holds is answered."""
    absent = multihop_index.parse("what did the bank of canada do with rates")
    evidence = multihop_index.searcher.evidence(absent, multihop_index.search(absent, 15))
    assert evidence.unseen_pairs == 1.0
    assert not multihop_index.answer(absent).found
    held = multihop_index.parse("university of michigan football sign stealing")
    evidence = multihop_index.searcher.evidence(held, multihop_index.search(held, 15))
    assert evidence.unseen_pairs < 0.5
    answer = multihop_index.answer(held)
    assert answer.found and "michigan" in answer.citations[0].title.lower()


def test_the_outlet_a_question_names_is_no_phrase_its_report_must_hold(
    multihop_index: NewsIndex,
) -> None:
    """ "what did sky sports say about the big bash opener": Sky Sports is who reported, not
    words of the report, so the question's own pairs are "big bash" and "bash opener", which
    no article has (the corpus has no cricket's Big Bash): refused. With "sky sports" counted
    as a pair its reports hold, it was answered with a football story."""
    absent = multihop_index.parse("what did sky sports say about the big bash opener")
    assert absent.outlet_words == {"sky", "sports"}
    evidence = multihop_index.searcher.evidence(absent, multihop_index.search(absent, 15))
    assert evidence.unseen_pairs == 1.0
    assert not multihop_index.answer(absent).found
    held = multihop_index.answer("what did sky sports say about the manchester derby")
    assert held.found and held.citations[0].source == "Sky Sports"


def test_an_abbreviation_the_passages_spell_out_is_not_a_missing_word(
    multihop_index: NewsIndex,
) -> None:
    """No article writes "APA", one writes "the American Psychological Association": the
    abbreviation people type is not a word the reporting lacks, and the question is answered.
    Letters that abbreviate nothing in the passages still count as missing."""
    spelled = multihop_index.parse("apa poll holiday stress percent")
    evidence = multihop_index.searcher.evidence(spelled, multihop_index.search(spelled, 15))
    assert evidence.missing == 0.0
    answer = multihop_index.answer(spelled)
    assert answer.found and "stress" in " ".join(answer.citations[0].quotes).lower()
    made_up = multihop_index.parse("qzx poll holiday stress percent")
    evidence = multihop_index.searcher.evidence(made_up, multihop_index.search(made_up, 15))
    assert evidence.missing > 0.0


def test_a_question_asking_for_a_figure_cites_the_report_that_gives_it_first(
    multihop_index: NewsIndex,
) -> None:
    """A "how much" question wants an amount: among the reports on Meta's ads in Europe, the
    one whose sentence holds Norway's daily fine comes first, not one that only mentions it."""
    answer = multihop_index.answer("how much is norway fining meta each day over its ads")
    assert answer.found
    first = answer.citations[0]
    assert "norway-meta-ads" in first.url
    assert any(any(ch.isdigit() for ch in quote) for quote in first.quotes)
