"""Whether the passages found answer the question: the refusal model's features (`Evidence`)
and its verdict."""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import pairwise

from index.query import QueryIntent
from index.search.caches import Generation
from index.search.config import Passage, RetrievalConfig
from index.text import STOPWORDS, stem, word_stems, words
from index.when import looks_back


@dataclass(frozen=True)
class Evidence:
    """What says a question is answered by the passages found: the features of the refusal
    model, each one a reason a reader would give."""

    dense: float  # the best passage's cosine to the question
    sentence: float  # the best sentence's cosine to the question
    coverage: float  # share of the question's known (IDF-weighted) words in a top passage
    missing: float  # share of the question's rare words that no article contains
    unknown_outlet: bool  # names an outlet the index does not have ("according to Bloomberg")
    absent_name: bool  # names someone no article mentions
    unseen_pairs: float  # share of the question's adjacent word pairs no article has together
    # share of the question's numbers (a year, a model: "2025", "iphone 17") that no top
    # passage holds: reporting from before the event talks of the previous one
    unseen_numbers: float
    # names a year after the newest reporting that no top passage holds, and does not ask what
    # was planned for it ("the 2025 Grammys" asked of 2023 reporting): it cannot be in there
    later_year: bool = False
    # names a product's version no article names, of a product some article names ("iphone
    # 16" asked of iPhone 15 reporting; a product no article names is `missing`)
    unseen_version: bool = False
    # the share of the question's weight no top passage holds, over its number of words: in
    # a short question every word is the point ("swiss national bank rate cut" answered from
    # a report on other banks), in a long one an unmatched word is often a paraphrase
    uncovered_short: float = 0.0

    def features(self) -> tuple[float, ...]:
        return (
            self.dense,
            self.sentence,
            self.coverage,
            self.missing,
            float(self.unknown_outlet),
            float(self.absent_name),
            self.unseen_pairs,
            self.unseen_numbers,
            float(self.later_year),
            float(self.unseen_version),
            self.uncovered_short,
        )

    def answerable(self, weights: tuple[float, ...]) -> float:
        """Probability that the passages answer the question (logistic model)."""
        z = weights[-1] + sum(w * f for w, f in zip(weights, self.features(), strict=False))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


# how much an unseen word pair counts in a keyword list, against one in a question (everyday
# sets, dev halves: probe2 answers two more keyword questions, no unanswerable one more)
KEYWORD_PAIRS = 0.5


def gather_evidence(
    cfg: RetrievalConfig,
    gen: Generation,
    intent: QueryIntent,
    passages: list[Passage],
    common_word: Callable[[str], bool],
) -> Evidence:
    """How well the best passages answer the question, as the refusal model reads it."""
    top = passages[:3]
    weights = gen.term_weights(intent.terms)
    unknown = {t for t in weights if gen.unknown(t)}
    known = {t: w for t, w in weights.items() if t not in unknown}
    total = sum(known.values()) or 1.0
    # the outlet counts as said: "what was gary wang wearing, per cnbc" names CNBC's report,
    # whose text never says "cnbc"
    present = [
        word_stems(f"{passage.article.source or ''} {passage.article.title} {passage.text}")
        for passage in top
    ]
    coverage = _coverage(known, total, present)
    # the everyday verb a "what did X decide?" question ends on counts as held for brevity's
    # sake: what was decided is the answer, in other words
    action = intent.action
    asked = {stem(action)} if action and common_word(action) else set()
    held = set().union(*present)
    numbers = [stem(t) for t in intent.terms if any(c.isdigit() for c in t)]
    newest = gen.newest
    years = [
        n
        for n in numbers
        if newest is not None and len(n) == 4 and n.isdigit() and int(n) > newest.year
    ]
    # a later year the passages name is still one they report ahead of, when the question
    # asks how it turned out ("who won the 2024 election" of 2023 previews of it)
    later = any(n not in held for n in years) or bool(years and looks_back(intent.question))
    absent_name = False
    if top:
        for name in intent.names:
            if gen.mentions(name) == 0 and not word_stems(name) <= present[0]:
                absent_name = True

    def content(word: str) -> bool:
        # an outlet's name is who reported, not words its report must hold together
        return word in known and word not in STOPWORDS and word not in intent.outlet_words

    tokens = intent.tokens
    # adjacent words, and two joined by "of" ("bank of canada"): the phrase as written
    pairs = [(a, b, f"{a} {b}") for a, b in pairwise(tokens) if content(a) and content(b)]
    pairs += [
        (a, b, f"{a} of {b}")
        for a, of, b in zip(tokens, tokens[1:], tokens[2:], strict=False)
        if of == "of" and content(a) and content(b)
    ]
    pair_weight = sum(known[a] + known[b] for a, b, _ in pairs) or 1.0
    # a keyword list ("mint replacement reader favourite app") sets side by side words its
    # article need not have together; a question with its small words writes out its phrases
    phrased = any(w in STOPWORDS for w in tokens)
    unseen = sum(known[a] + known[b] for a, b, phrase in pairs if gen.mentions(phrase) == 0)
    # a word no article uses says "not covered" when it is a rare one ("zepbound"), not
    # everyday English, and more so the more articles there are to have used it
    # nor is one the passages spell out ("apa": "the American Psychological Association")
    texts = [f"{passage.article.title} {passage.text}" for passage in top]
    rare = [
        t
        for t in unknown
        if len(t) > 2 and not (t.isalpha() and common_word(t)) and not _spelled_out(t, texts)
    ]
    size = min(1.0, math.log1p(gen.chunk_count) / math.log1p(cfg.missing_scale_chunks))
    missing = len(rare) / max(len(weights), 1) * size
    return Evidence(
        dense=max((p.dense for p in top), default=0.0),
        sentence=max((max(p.sentence_cosines, default=0.0) for p in top), default=0.0),
        coverage=coverage,
        missing=missing,
        unknown_outlet=bool(intent.unknown_sources),
        absent_name=absent_name,
        unseen_pairs=unseen / pair_weight * (1.0 if phrased else KEYWORD_PAIRS),
        unseen_numbers=sum(n not in held for n in numbers) / len(numbers) if numbers else 0.0,
        later_year=later and not intent.ahead,
        unseen_version=any(
            gen.mentions(version) == 0 and gen.mentions(version.split()[0]) > 0
            for version in intent.versions
        ),
        uncovered_short=(1.0 - (_coverage(known, total, present, asked) if asked else coverage))
        / max(len(weights), 1),
    )


def _spelled_out(word: str, texts: list[str]) -> bool:
    """The word is the initials of words standing together in one of the texts: an
    abbreviation people type ("botw", "apa") of a name the reporting writes out."""
    if not (word.isalpha() and len(word) <= 6):
        return False
    return any(word in "".join(w[0] for w in words(text) if w) for text in texts)


def _coverage(
    known: dict[str, float],
    total: float,
    present: list[frozenset[str]],
    held: AbstractSet[str] = frozenset(),
) -> float:
    """The best top passage's share of the question's weight (its stems, or `held`)."""
    return max(
        (
            sum(w for t, w in known.items() if stem(t) in stems or stem(t) in held) / total
            for stems in present
        ),
        default=0.0,
    )


def unknown_words(gen: Generation, intent: QueryIntent, common_word: Callable[[str], bool]) -> bool:
    """True when the question is made of words no article uses and no dictionary has
    ("asdfgh"): there is nothing to search for."""
    weights = gen.term_weights(intent.terms)
    return bool(weights) and all(gen.unknown(t) and not common_word(t) for t in weights)
