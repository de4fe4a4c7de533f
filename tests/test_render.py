"""Rendering as a reader (and Telegram's HTML parser) would notice it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import NamedTuple

import pytest

from bot.handlers.admin import stats_html
from bot.render import (
    format_date,
    render_answer,
    render_inline_result,
    render_latest,
    render_sources,
    shorten_html,
    split_messages,
    utf16_len,
)
from index.answer import Answer, Citation, Outlet
from index.stats import IndexStats
from index.store import ArticleRow

NASTY = "<script>alert('x')</script> & co"
WHEN = datetime(2025, 4, 12, 9, 30, tzinfo=UTC)
ALLOWED_TAGS = {"b", "i", "u", "s", "a", "code", "pre", "blockquote"}
# A "&" in raw HTML must start one of these; anything else is unescaped text.
ENTITY_RE = re.compile(r"&(?!(?:amp|lt|gt|quot|#[0-9]+|#x[0-9a-fA-F]+);)")


class Parsed(NamedTuple):
    text: str
    links: list[str]


class TelegramHtmlChecker(HTMLParser):
    """Fails on anything Telegram's HTML mode would reject or show wrongly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED_TAGS, f"tag <{tag}> is not allowed"
        names = {name for name, _ in attrs}
        if tag == "a":
            assert names == {"href"}, attrs
            self.links.append(dict(attrs)["href"] or "")
        elif tag == "blockquote":
            assert names <= {"expandable"}, attrs
        else:
            assert not attrs, attrs
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise AssertionError(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack.pop() == tag, f"</{tag}> closes the wrong tag"

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        raise AssertionError("comment")

    def handle_decl(self, decl: str) -> None:
        raise AssertionError("declaration")


def check(markup: str, limit: int = 4096) -> Parsed:
    """Allowed tags only, balanced, entities whole, within the limit; returns the shown text."""
    assert utf16_len(markup) <= limit
    assert not ENTITY_RE.search(markup), "bare & in HTML"
    checker = TelegramHtmlChecker()
    checker.feed(markup)
    checker.close()
    assert not checker.stack, f"unclosed {checker.stack}"
    return Parsed("".join(checker.text), checker.links)


def cite(
    n: int = 1,
    *,
    title: str | None = None,
    source: str | None = "Reuters",
    url: str | None = "https://example.com/story",
    when: datetime | None = WHEN,
    quotes: tuple[str, ...] = ("Officials held rates steady.", "Two cuts are expected."),
) -> Citation:
    return Citation(
        article_id=f"a{n}",
        title=title if title is not None else f"Story number {n}",
        source=source,
        published_at=when,
        url=url,
        quotes=quotes,
        score=1.0 / n,
        passage=" ".join(quotes),
    )


def texts(messages: list[str]) -> list[str]:
    return [check(m).text for m in messages]


# -- escaping --------------------------------------------------------------------------------


def test_script_in_title_quote_outlet_and_question_shows_as_text() -> None:
    answer = Answer(
        f"Is {NASTY} safe?",
        (cite(title=NASTY, source=NASTY, quotes=(f"He typed {NASTY}.",)),),
    )
    [message] = render_answer(answer)
    shown = check(message).text
    assert f"“Is {NASTY} safe?”" in shown
    assert f"He typed {NASTY}." in shown
    assert f"— {NASTY}, 12 Apr 2025 · {NASTY}" in shown
    assert "<script" not in message


def test_url_with_quotes_and_ampersands_is_attribute_escaped() -> None:
    url = "https://example.com/a?x=1&y=\"2\"&z='3'"
    [message] = render_answer(Answer("q", (cite(url=url),)))
    assert check(message).links == [url]
    assert 'href="https://example.com/a?x=1&amp;y=&quot;2&quot;&amp;z=&#x27;3&#x27;"' in message


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "ftp://x.org/", "//x.org"],
)
def test_non_http_url_is_not_linked(url: str) -> None:
    [message] = render_answer(Answer("q", (cite(url=url),)))
    parsed = check(message)
    assert parsed.links == []
    assert "— Reuters, 12 Apr 2025 · Story number 1" in parsed.text


def test_without_outlet_the_title_is_the_link_and_undated_omits_the_date() -> None:
    [message] = render_answer(Answer("q", (cite(source=None, when=None),)))
    assert '— <a href="https://example.com/story"><i>Story number 1</i></a>' in message
    assert check(message).text.endswith("— Story number 1")


# -- answers ---------------------------------------------------------------------------------


def test_two_citations_read_naturally() -> None:
    answer = Answer("What did the Fed decide?", (cite(1), cite(2, source="AP", url=None)))
    [message] = render_answer(answer)
    assert check(message).text == (
        "2 reports on “What did the Fed decide?”\n\n"
        "1. Officials held rates steady. Two cuts are expected.\n"
        "— Reuters, 12 Apr 2025 · Story number 1\n\n"
        "2. Officials held rates steady. Two cuts are expected.\n"
        "— AP, 12 Apr 2025 · Story number 2"
    )
    assert (
        "<blockquote><b>Officials held rates steady.</b> Two cuts are expected.</blockquote>"
        in (message)
    )


def test_long_answer_splits_between_citations_and_numbering_continues() -> None:
    quote = "The committee weighed inflation against jobs data for hours. " * 8  # ~490 chars
    citations = tuple(cite(n, title=f"Title {n}", quotes=(quote, quote)) for n in range(1, 7))
    messages = render_answer(Answer("What did the committee weigh?", citations))
    assert sum(map(len, messages)) > 5000
    assert len(messages) > 1
    shown = texts(messages)
    for n in range(1, 7):
        holding = [t for t in shown if f"· Title {n}" in t]
        assert len(holding) == 1, f"citation {n} is cut in two or lost"
        assert f"{n}. The committee" in holding[0]
    numbers = [int(m) for t in shown for m in re.findall(r"^(\d+)\. ", t, re.M)]
    assert numbers == [1, 2, 3, 4, 5, 6]


def test_start_numbers_from_four() -> None:
    messages = render_answer(Answer("q", (cite(1), cite(2), cite(3))), start=4)
    [shown] = texts(messages)
    assert shown.startswith("Reports 4–6 on “q”")
    assert re.findall(r"^(\d+)\. ", shown, re.M) == ["4", "5", "6"]


def test_absurdly_long_quote_is_shortened_and_stays_valid() -> None:
    quote = "Word & <tag> " * 800  # 10,400 characters
    [message] = render_answer(Answer("q", (cite(quotes=(quote,)),)))
    shown = check(message).text
    assert "…" in shown
    assert shown.endswith("— Reuters, 12 Apr 2025 · Story number 1")


def test_long_question_is_shortened() -> None:
    [message] = render_answer(Answer("why " * 200, (cite(),)))
    lead = check(message).text.split("\n")[0]
    assert len(lead) < 230
    assert "…”" in lead


def test_not_found_mentions_latest() -> None:
    for answer in (Answer("Who won <b>?"), Answer("Who won <b>?", (cite(),), abstained=True)):
        [message] = render_answer(answer)
        shown = check(message).text
        assert "/latest" in shown
        assert "Who won <b>?" in shown
        assert "<b>" not in message


def test_what_a_typo_was_read_as_shows_above_the_answer_and_under_a_refusal() -> None:
    """The words searched for otherwise than typed, escaped like the rest: a reader sees
    why "<potm>" found nothing."""
    asked, searched = "who was <potm> in the t20", "who was <poem> in the t20"
    for answer in (Answer(asked, searched=searched), Answer(asked, (cite(),), searched=searched)):
        [message] = render_answer(answer)
        assert "Read “potm” as “poem”." in check(message).text
        assert "<potm>" not in message
    [same] = render_answer(Answer(asked, (cite(),), searched=asked))
    assert "Read “" not in check(same).text


def test_also_reported_by_other_outlets() -> None:
    base = cite()
    also = (
        Outlet("Same story", "AP", "https://ap.example/x", WHEN),
        Outlet("Same story", "BBC <News>", None, None),
    )
    citation = replace(base, also=also)
    [message] = render_answer(Answer("q", (citation,)))
    parsed = check(message)
    assert parsed.text.endswith("Also reported by: AP (12 Apr 2025), BBC <News>")
    assert parsed.links == ["https://example.com/story", "https://ap.example/x"]


# -- splitting -------------------------------------------------------------------------------


def test_split_packs_blocks_and_never_exceeds_the_limit() -> None:
    blocks = [f"<b>{n}</b> " + "x" * 100 for n in range(10)]
    messages = split_messages(blocks, limit=350)
    assert [m.count("<b>") for m in messages] == [3, 3, 3, 1]
    assert all(len(m) <= 350 for m in messages)
    assert "\n\n".join(messages) == "\n\n".join(blocks)


def test_split_counts_emoji_as_telegram_does() -> None:
    blocks = ["😀" * 1500, "😀" * 1500]  # 3,000 UTF-16 units each
    assert split_messages(blocks) == blocks


def test_oversized_block_is_cut_in_its_text_not_in_a_tag_or_entity() -> None:
    block = (
        "<blockquote><b>"
        + "&amp;&lt;" * 3000
        + '</b></blockquote>\n— <a href="https://x.org/">X</a>'
    )
    [message] = split_messages([block])
    parsed = check(message)
    assert parsed.text.endswith("…\n— X")
    assert parsed.links == ["https://x.org/"]


@pytest.mark.parametrize("limit", range(30, 90, 7))
def test_shortening_is_valid_at_any_limit(limit: int) -> None:
    block = (
        "<b>A&amp;B &lt;c&gt; </b><i>tail &quot;text&quot; here</i> "
        '<a href="https://e.org/?a=1&amp;b=2">link</a>'
    )
    shortened = shorten_html(block * 2, limit)
    check(shortened, limit)
    assert "…" in shortened


# -- other commands --------------------------------------------------------------------------


def test_format_date() -> None:
    assert format_date(WHEN) == "12 Apr 2025"
    assert format_date(None) == ""
    late = datetime(2025, 4, 12, 23, 30, tzinfo=UTC)
    assert format_date(late, timezone(timedelta(hours=2))) == "13 Apr 2025"
    assert format_date(datetime(2025, 1, 5, 23, 30), timezone(timedelta(hours=2))) == "6 Jan 2025"


def test_sources_list_and_split() -> None:
    [message] = render_sources([("Reuters", 120, WHEN), ("<AP>", 1, None)])
    assert check(message).text == (
        "2 outlets, 121 articles\n\nReuters — 120 articles, latest 12 Apr 2025\n<AP> — 1 article"
    )
    many = render_sources([(f"Outlet {n}", n, WHEN) for n in range(400)])
    assert len(many) > 1
    for message in many:
        check(message)
    assert render_sources([]) == ["No articles have been added yet."]


def test_latest_links_titles_and_shows_a_highlight() -> None:
    rows = [
        ArticleRow("a1", NASTY, "Reuters", "https://e.org/1", WHEN, ("First <point>.", "Second.")),
        ArticleRow("a2", "Plain", None, "javascript:alert(1)", None, ()),
    ]
    [message] = render_latest(rows, "rates & <jobs>")
    parsed = check(message)
    assert parsed.text == (
        "Latest reports on “rates & <jobs>”\n\n"
        f"{NASTY}\nReuters · 12 Apr 2025\nFirst <point>.\n\n"
        "Plain"
    )
    assert parsed.links == ["https://e.org/1"]
    assert "rates" in render_latest([], "rates")[0]


def test_inline_result() -> None:
    long_quote = "Markets <rallied> & bonds fell. " * 400
    title, description, message = render_inline_result(cite(title=NASTY, quotes=(long_quote,)))
    assert title == NASTY  # plain text: Telegram shows it unformatted
    assert description.startswith("Reuters, 12 Apr 2025 — Markets <rallied> & bonds fell.")
    assert len(description) <= 200
    parsed = check(message)
    assert parsed.text.endswith(f"— Reuters, 12 Apr 2025 · {NASTY}")
    assert parsed.links == ["https://example.com/story"]


def test_stats_tell_the_operator_when_older_chunks_need_a_rebuild() -> None:
    stats = IndexStats(1, 3, [("Reuters", 1, None)], None, None, "m", 384, 2, 1000)
    assert "re-ingest needed" not in stats_html(stats)
    old = IndexStats(1, 3, [("Reuters", 1, None)], None, None, "m", 384, 2, 1000, 3)
    assert "re-ingest needed: 3 chunks have no sentence vectors" in stats_html(old)
