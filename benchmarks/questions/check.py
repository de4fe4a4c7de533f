"""Check an everyday-question file against the MultiHop-RAG corpus it was written from.

Usage:
  python benchmarks/questions/check.py FILE [FILE ...]   check question files
  python benchmarks/questions/check.py --grep WORD ...    articles whose text holds every WORD

A question file is a JSON list of objects:
  {"question": str, "style": one of STYLES, "article_url": str | null,
   "evidence": [sentence, ...] (answerable only), "asked_at": ISO time (optional),
   "absent": [name, ...] (unanswerable only: the key names no article mentions)}

Rules checked: the gold article exists; every evidence sentence is verbatim in its body; the
question copies no run of four or more words from its article (outlet names aside); every
`absent` name really is absent from every article; styles are known. Warnings: an evidence
sentence that also appears in another article (the gold article may be ambiguous).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "newsdata" / "corpus.json"
STYLES = ("casual", "fact", "time", "outlet", "typo", "keywords", "yesno")
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'").replace("'", ""))


def squash(text: str) -> str:
    return " ".join(text.split())


def ngrams(tokens: list[str], n: int = 4) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def load_corpus(path: Path = CORPUS) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def check(items: list[dict], corpus: list[dict]) -> tuple[list[str], list[str]]:
    by_url = {a["url"]: a for a in corpus}
    haystack = [squash(a["title"] + " " + a["body"]).lower() for a in corpus]
    errors: list[str] = []
    warnings: list[str] = []
    for n, item in enumerate(items):
        q = item.get("question", "")
        where = f"#{n} {q[:60]!r}"
        if item.get("style") not in STYLES:
            errors.append(f"{where}: style {item.get('style')!r} not one of {STYLES}")
        url = item.get("article_url")
        if url is None:
            absent = item.get("absent") or []
            if not absent:
                errors.append(f"{where}: unanswerable but no 'absent' names given")
            for name in absent:
                pattern = re.compile(r"(?<![a-z0-9])" + re.escape(name.lower()) + r"(?![a-z0-9])")
                hits = [corpus[i]["url"] for i, text in enumerate(haystack) if pattern.search(text)]
                if hits:
                    errors.append(f"{where}: 'absent' name {name!r} occurs in {hits[:3]}")
            continue
        article = by_url.get(url)
        if article is None:
            errors.append(f"{where}: no article with url {url}")
            continue
        body = squash(article["body"])
        evidence = item.get("evidence") or []
        if not evidence:
            errors.append(f"{where}: answerable but no evidence")
        for sentence in evidence:
            if squash(sentence) not in body:
                errors.append(f"{where}: evidence not verbatim in the body: {sentence[:80]!r}")
                continue
            others = [
                a["url"]
                for a in corpus
                if a["url"] != url and squash(sentence) in squash(a["body"])
            ]
            if others:
                warnings.append(f"{where}: evidence also in {others[:3]}")
        exempt = ngrams(words(article["source"] or ""))
        copied = (ngrams(words(q)) & ngrams(words(article["title"] + " " + body))) - exempt
        if copied:
            errors.append(f"{where}: copies words from the article: {sorted(copied)[:3]}")
    return errors, warnings


def grep(terms: list[str], corpus: list[dict]) -> None:
    lowered = [t.lower() for t in terms]
    for a in corpus:
        text = (a["title"] + " " + a["body"]).lower()
        if all(t in text for t in lowered):
            print(f"{a['published_at'][:10]}  {a['source']:<30.30}  {a['title'][:70]}  {a['url']}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--grep", nargs="+", metavar="WORD")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    corpus = load_corpus(args.corpus)
    if args.grep:
        grep(args.grep, corpus)
        return 0
    items = [item for f in args.files for item in json.loads(f.read_text(encoding="utf-8"))]
    errors, warnings = check(items, corpus)
    for line in warnings:
        print("warning:", line)
    for line in errors:
        print("error:", line)
    styles = Counter((i.get("style"), i.get("article_url") is not None) for i in items)
    answerable = sum(1 for i in items if i.get("article_url"))
    print(f"{len(items)} questions: {answerable} answerable, {len(items) - answerable} not")
    for style in STYLES:
        yes, no = styles[(style, True)], styles[(style, False)]
        print(f"  {style:<9} answerable {yes:>3}  unanswerable {no:>3}")
    print(f"{len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
