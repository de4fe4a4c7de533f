"""Questions as people type them in Telegram: names, times and misspellings read right."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from index.query import QueryAnalyser, names_in, versions_in
from index.when import looks_ahead, periods_in, wants_recent

# a Wednesday
NOW = datetime(2023, 11, 15, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Did Sam Altman return to OpenAI?", ["Sam Altman"]),
        ("Is Travis Kelce dating Taylor Swift", ["Travis Kelce", "Taylor Swift"]),
        ("What did the Bank of England decide?", ["Bank of England"]),
        ("Why did Sam Bankman-Fried's lawyers appeal?", ["Sam Bankman-Fried"]),
        # short words count: only "won" is in lower case, and that is not Title Case
        ("Who won the Las Vegas Grand Prix in November 2023?", ["Las Vegas Grand Prix"]),
        ("Where Did Turkey And Israel Hold Talks", []),  # Title Case names nothing
        ("Who Won The Las Vegas Grand Prix?", []),
        ("WHAT HAPPENED TO FTX", []),
        ("how did the fed react", []),
        ("When will Apple ship it?", []),
    ],
)
def test_names_leave_out_question_words(question: str, names: list[str]) -> None:
    assert [name for name, _ in names_in(question)] == names


def test_a_keyword_list_is_not_an_unknown_outlet_or_a_question_word() -> None:
    analyser = QueryAnalyser(["Reuters"])
    intent = analyser.analyse("Turkey Israel talks Azerbaijan", NOW)
    assert intent.terms == ("turkey", "israel", "talks", "azerbaijan")
    assert intent.unknown_sources == ()
    intent = analyser.analyse("Did Sam Altman return to OpenAI?", NOW)
    assert intent.names == ("Sam Altman",)


@pytest.mark.parametrize(
    ("question", "label", "first", "last"),
    [
        ("what happened yesterday in gaza", "yesterday", date(2023, 11, 14), date(2023, 11, 14)),
        ("apple news this week", "this week", date(2023, 11, 13), date(2023, 11, 15)),
        ("who won last week", "last week", date(2023, 11, 6), date(2023, 11, 12)),
        ("fed decision last month", "last month", date(2023, 10, 1), date(2023, 10, 31)),
        ("what did the fed do in september", "September 2023", date(2023, 9, 1),
         date(2023, 9, 30)),
        ("what happened on 7 October", "7 Oct 2023", date(2023, 10, 7), date(2023, 10, 7)),
        ("what happened on October 7, 2023?", "7 Oct 2023", date(2023, 10, 7),
         date(2023, 10, 7)),
        ("oct 3rd apple event", "3 Oct 2023", date(2023, 10, 3), date(2023, 10, 3)),
        ("what changed since Monday", "since Monday 13 Nov 2023", date(2023, 11, 13),
         date(2023, 11, 15)),
        ("layoffs in 2022", "2022", date(2022, 1, 1), date(2022, 12, 31)),
        # a December not yet reached this year is last year's
        ("what happened in December", "December 2022", date(2022, 12, 1), date(2022, 12, 31)),
        ("who resigned 2 days ago", "2 days ago", date(2023, 11, 12), date(2023, 11, 14)),
        ("what did he say the day before yesterday", "the day before yesterday",
         date(2023, 11, 13), date(2023, 11, 13)),
        ("the trade two weeks ago", "2 weeks ago", date(2023, 10, 29), date(2023, 11, 4)),
        ("that crash a week ago", "a week ago", date(2023, 11, 5), date(2023, 11, 11)),
        ("the merger a month ago", "a month ago", date(2023, 10, 1), date(2023, 10, 31)),
        ("what was that story the other day", "the past few days", date(2023, 11, 8),
         date(2023, 11, 14)),
        ("the layoffs a few weeks ago", "the past few weeks", date(2023, 9, 27),
         date(2023, 11, 8)),
        ("anything new over the past few days", "the past few days", date(2023, 11, 11),
         date(2023, 11, 15)),
        ("what changed since last week", "since last week", date(2023, 11, 6),
         date(2023, 11, 15)),
        ("who scored this past weekend", "the weekend", date(2023, 11, 11), date(2023, 11, 12)),
    ],
)  # fmt: skip
def test_time_words_become_periods(question: str, label: str, first: date, last: date) -> None:
    [period] = periods_in(question, NOW)
    assert period.label == label
    # widened by half a day each way: the asker's day is not UTC's
    assert period.since.date() == first.fromordinal(first.toordinal() - 1)
    assert period.until.date() == last.fromordinal(last.toordinal() + 1)
    assert period.holds(datetime.combine(first, datetime.min.time(), UTC).replace(hour=12))


@pytest.mark.parametrize(
    "question",
    [
        "what may happen to ftx",
        "is the march madness bracket out",
        "who won the 2023 season",
        "the game starts at 9 pm",
    ],
)
def test_ordinary_words_are_not_dates(question: str) -> None:
    assert periods_in(question, NOW) == []


OUTLETS = ["The Guardian", "BBC News - Business", "The Sydney Morning Herald", "The Age"]


def test_an_outlet_named_with_a_time_word_is_not_a_time() -> None:
    intent = QueryAnalyser(["Business Today"]).analyse("what did business today report", NOW)
    assert intent.sources == ("Business Today",) and intent.periods == ()
    assert QueryAnalyser([]).analyse("what did the fed report today", NOW).periods != ()


@pytest.mark.parametrize(
    ("question", "sources"),
    [
        ("guardian piece on how much ratcliffe will spend", ["The Guardian"]),
        ("guardian roundup, how did bayern get on", ["The Guardian"]),
        ("bbc story on bill kenwright", ["BBC News - Business"]),
        ("what did bbc say about the strike", ["BBC News - Business"]),
        ("sydney morning herald interview with owen teale", ["The Sydney Morning Herald"]),
        ("according to guardian, who won", ["The Guardian"]),
        # everyday words stay words where no outlet is meant
        ("can a legal guardian sign for a child", []),
        ("a guardian's rights in court", []),
        ("children from age 5 use phones", []),
    ],
)
def test_outlets_named_in_passing(question: str, sources: list[str]) -> None:
    assert list(QueryAnalyser(OUTLETS).analyse(question, NOW).sources) == sources


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        # outlets the index lacks, however written
        ("what did bloomberg say about the fed", ["bloomberg"]),
        ("per reuters, who won the vote", ["reuters"]),
        ("according to The Korea Herald, who won", ["The Korea Herald"]),
        ("as reported by Coinmarketcap, did bitcoin rise", ["Coinmarketcap"]),
        ("according to a Deal Stripe article, which brand cut prices", ["Deal Stripe"]),
        # "according to" cites people, companies and leagues too: no outlet named
        ("according to Google, what share of developers pay 15%", []),
        ("according to the NFL, who was fined", []),
        ("What time does Eddie Jones get up, according to Samu Kerevi?", []),
        ("what did people say about the crown", []),
        # a piece of an indexed outlet's name
        ("as reported by World Business News Leader, who won", []),
    ],
)
def test_outlets_the_index_lacks(question: str, unknown: list[str]) -> None:
    analyser = QueryAnalyser(["The Guardian", "Cnbc | World Business News Leader"])
    assert list(analyser.analyse(question, NOW).unknown_sources) == unknown


# outlets as the MultiHop-RAG corpus names them, each with one of its articles' addresses
SITES = {
    "CBSSports.com": "https://www.cbssports.com/nfl/news/chiefs-week-6/",
    "The New York Times": "https://theathletic.com/5028179/2023/11/16/bedard/",
    "Globes English | Israel Business Arena": "https://en.globes.co.il/en/article-1001464023",
    "Rivals": "https://arizona.rivals.com/news/fisch",
    "Financial Times": "https://www.ft.com/content/abc",
    "Wide World Of Sports": "https://wwos.nine.com.au/rugby/world-cup-2023-news",
    "The Sydney Morning Herald": "https://www.smh.com.au/business/parts-scandal",
}


@pytest.mark.parametrize(
    ("question", "sources"),
    [
        # by the site's address, spaced as people say it
        ("what did cbs sports say about the chiefs", ["CBSSports.com"]),
        ("the athletic piece on connor bedard's shot", ["The New York Times"]),
        ("globes article on the gaza barrier", ["Globes English | Israel Business Arena"]),
        # by the name's initials
        ("nyt report on the speaker vote", ["The New York Times"]),
        ("per smh, who ran the parts firm", ["The Sydney Morning Herald"]),
        ("what did wwos say about the wallabies", ["Wide World Of Sports"]),
        ("smh on the airline parts scandal", ["The Sydney Morning Herald"]),
        # not a subdomain, not a two-letter name, not everyday words without a cue
        ("arizona report on the coaching search", []),
        ("ft report on the rate cut", []),
        ("how many strikeouts per nine innings", []),
        ("what did the athletic department say", []),
    ],
)
def test_outlets_named_by_their_site_or_initials(question: str, sources: list[str]) -> None:
    analyser = QueryAnalyser(list(SITES), SITES)
    assert list(analyser.analyse(question, NOW).sources) == sources


@pytest.mark.parametrize(
    ("question", "dated"),
    [
        ("who won the nba finals in june 2024", True),
        ("did the bank of england cut rates in august 2024", True),
        ("what happened on October 7, 2023?", True),
        ("layoffs in 2022", True),
        ("what happened in December", False),  # the year is the clock's
        ("what did the fed do last week", False),
    ],
)
def test_a_year_written_in_the_question_is_kept_apart_from_the_clock(
    question: str, dated: bool
) -> None:
    [period] = periods_in(question, NOW)
    assert period.dated is dated


def test_questions_about_plans_look_ahead() -> None:
    assert looks_ahead("what will apple release in 2024")
    assert looks_ahead("when is the iphone 17 coming out")
    assert looks_ahead("what is planned for the olympics in july 2024")
    assert not looks_ahead("who won the nba finals in june 2024")
    assert not looks_ahead("did the fed cut rates in september 2024")
    # a year as a target or a period ahead is a plan, not an event that has happened
    assert looks_ahead("did 100 countries pledge to triple renewable energy capacity by 2030")
    assert looks_ahead("cnbc piece on ukraine's outlook for 2024, which general did they interview")
    assert not looks_ahead("did shohei ohtani win the 2024 nl mvp award")


def test_time_words_are_not_topic_words() -> None:
    intent = QueryAnalyser([]).analyse("what did apple announce last week", NOW)
    assert intent.terms == ("apple", "announce")
    assert intent.period() is not None and intent.period().label == "last week"


def test_latest_and_currently_prefer_new_reporting() -> None:
    assert wants_recent("what's the latest on the writers strike")
    assert wants_recent("who currently leads the premier league")
    assert not wants_recent("who won the 2023 world cup")


def test_how_did_it_unfold_asks_for_a_timeline() -> None:
    analyser = QueryAnalyser([])
    assert analyser.analyse("how did the openai board drama unfold", NOW).story
    assert analyser.analyse("timeline of the FTX trial", NOW).story
    assert not analyser.analyse("how did the fed decide", NOW).story


@pytest.mark.parametrize(
    ("question", "versions"),
    [
        ("whens the iphone 16 comming out", ["iphone 16"]),
        ("How much will the Nintendo Switch 2 cost?", ["switch 2"]),
        ("pixel 9 pro vs iphone 15", ["pixel 9", "iphone 15"]),
        # amounts, measures, counts, ranks, dates and parts of words are not versions
        ("did sbf use $1 billion of customer money", []),
        ("google spent 26.3 billion on default search", []),
        ("the 49ers beat the seahawks", []),
        ("who kicked a 31-yard field goal", []),
        ("jordan love threw for 300 yards", []),
        ("reich 59 yarder decision", []),
        ("did lyles win the olympic 100 meters", []),
        ("who is ranked top 10 in week 14", []),
        ("what happened on december 25", []),
        ("he had only 13 catches", []),
        ("using 1 account", []),
        ("moneyline minus 150 stake needed", []),  # betting odds
        ("what does plus 200 mean", []),
    ],
)
def test_products_named_with_their_version(question: str, versions: list[str]) -> None:
    assert list(versions_in(question)) == versions


@pytest.mark.parametrize(
    ("question", "action"),
    [
        ("What did the Fed decide?", "decide"),
        ("what did the jobs report show", "show"),
        ("How did the ASX open?", "open"),
        ("Did the Fed decide?", None),  # a yes-no question asks whether, not what
        ("who won the 2023 chemistry nobel", None),
    ],
)
def test_the_verb_a_what_did_question_ends_on(question: str, action: str | None) -> None:
    """What was decided is the answer, in the report's own words: refusal does not count
    "decide" as a word the passages must hold."""
    assert QueryAnalyser([]).analyse(question).action == action


def test_a_version_is_read_where_the_question_as_typed_has_one() -> None:
    """Spelling may fix the product ("iphnoe 16") but must not make a measure a version:
    "59 yarder" corrected to "59 harder" is still a field goal's length."""
    analyser = QueryAnalyser([])
    fixed = analyser.analyse("iphone 16 price", None, "iphnoe 16 price")
    assert fixed.versions == ("iphone 16",)
    measure = analyser.analyse("reich 59 harder decision", None, "reich 59 yarder decision")
    assert measure.versions == ()


@pytest.mark.parametrize(
    ("question", "asked", "published", "within"),
    [
        # a period the clock names is reported on up to now: last month's app revenue in
        # this month's figures, last weekend's attacks in Friday's story
        ("app revenue last month", datetime(2023, 10, 14, 10, tzinfo=UTC),
         datetime(2023, 10, 13, 19, tzinfo=UTC), True),
        ("tech workers mobilised after the attacks last weekend",
         datetime(2023, 10, 13, 20, tzinfo=UTC), datetime(2023, 10, 13, 19, tzinfo=UTC), True),
        # a weekend still ahead (asked on a Friday) is previewed in the week before it
        ("what lands on netflix this weekend", datetime(2023, 11, 3, 23, tzinfo=UTC),
         datetime(2023, 10, 31, 12, tzinfo=UTC), True),
        # a calendar day is reported on that day and the few after it, not weeks later
        ("what happened on 7 October", datetime(2023, 11, 15, 10, tzinfo=UTC),
         datetime(2023, 10, 9, 12, tzinfo=UTC), True),
        ("what happened on 7 October", datetime(2023, 11, 15, 10, tzinfo=UTC),
         datetime(2023, 11, 1, 12, tzinfo=UTC), False),
        ("what happened last month", datetime(2023, 10, 14, 10, tzinfo=UTC),
         datetime(2023, 8, 30, 12, tzinfo=UTC), False),
    ],
)  # fmt: skip
def test_the_reporting_on_a_period(
    question: str, asked: datetime, published: datetime, within: bool
) -> None:
    [period] = periods_in(question, asked)
    since, until = period.window(asked)
    assert (since <= published < until) is within


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        # how people ask a person for news is not what an article must say
        ("tell me about ozempic", ("ozempic",)),
        ("can you tell me who won the rugby world cup", ("won", "rugby", "world", "cup")),
        ("please find news about the fed", ("fed",)),
        ("what do you know about the writers strike", ("writers", "strike")),
        ("anything on the uaw strike?", ("uaw", "strike")),
        ("whats the deal with the cybertruck", ("cybertruck",)),
        ("is it true that sbf was convicted", ("sbf", "convicted")),
        # ... and the same words naming the topic stay
        ("microsoft activision deal", ("microsoft", "activision", "deal")),
        ("who did the explainer say won", ("explainer", "say", "won")),
        ("did they find the missing money", ("find", "missing", "money")),
        ("what can you tell me about the sphere", ("sphere",)),
        # one letter is a word when it is X's name
        ("what fake videos went around on x", ("fake", "videos", "went", "around", "x")),
    ],
)
def test_the_asking_is_not_the_topic(question: str, terms: tuple[str, ...]) -> None:
    assert QueryAnalyser([]).analyse(question, NOW).terms == terms
