"""Reading articles: the seed export format, JSON and JSON Lines, and bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from corpus.loaders import load_path, sample_path, seed_path
from corpus.loaders.textexport import parse_text_export
from corpus.models import Article


def test_seed_article_fields(seed_article: Article) -> None:
    a = seed_article
    assert a.title == "Turkey and Israel negotiate to avert military clash in Syria"
    assert a.updated_at == datetime(2025, 4, 12, 8, 26, tzinfo=UTC)
    assert a.published_at == datetime(2025, 4, 10, 11, 0, tzinfo=UTC)
    assert len(a.highlights) == 3
    assert a.highlights[0].startswith("Turkey and Israel engaged in technical talks in Azerbaijan")
    assert not a.highlights[0].startswith("•")
    assert a.body.startswith("In recent developments, Turkey and Israel conducted discussions")
    assert "reached the end" not in a.body
    assert "Highlights" not in a.body and "Opinions" not in a.body
    assert a.body.rstrip().endswith("navigate these discussions.")


def test_article_id_is_stable_and_url_based() -> None:
    one = Article(title="A", body="b", url="https://Example.com/x/#top")
    two = Article(title="Other title", body="c", url="https://example.com/x")
    assert one.id == two.id
    no_url = Article(title="A", body="b", published_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert no_url.id == Article(title=" a ", body="z", published_at="2024-01-01T10:00:00Z").id


def test_text_export_bad_date_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("Someday\nApr 10, 2025, 11:00 AM\n\nTitle\nStory\n\nBody text.\n")
    result = load_path(bad)
    assert not result.articles
    assert "bad.txt" in str(result.errors[0]) and "date" in result.errors[0].reason


def test_text_export_without_opinions_or_highlights() -> None:
    text = "Jan 2, 2024, 9:05 PM\nJan 1, 2024, 7:00 AM\n\nJust a title\nStory\n\nOne. Two.\n"
    article = parse_text_export(text)
    assert article.highlights == [] and article.body == "One. Two."


def write_json(path: Path, records: object) -> Path:
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


GOOD = {
    "title": "Rain in Spain",
    "author": None,
    "source": "The Guardian",
    "published_at": "2023-10-01T12:00:00+00:00",
    "category": "weather",
    "url": "https://example.com/rain",
    "body": "It rained mainly on the plain.",
    "extra_field": "ignored",
}


def test_json_list_with_a_bad_record(tmp_path: Path) -> None:
    records = [GOOD, {**GOOD, "url": "https://example.com/2", "title": ""}, {"body": "x"}]
    result = load_path(write_json(tmp_path / "a.json", records))
    assert [a.title for a in result.articles] == ["Rain in Spain"]
    assert result.articles[0].source == "The Guardian"
    assert [e.record for e in result.errors] == [2, 3]
    assert all("a.json" in str(e) for e in result.errors)


def test_jsonl_bad_line_and_bad_date(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD),
        "{not json",
        json.dumps({**GOOD, "url": "https://example.com/3", "published_at": "yesterday-ish"}),
        json.dumps({**GOOD, "url": "https://example.com/4", "title": "Second"}),
    ]
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_path(path)
    assert [a.title for a in result.articles] == ["Rain in Spain", "Second"]
    assert sorted(e.record for e in result.errors) == [2, 3]
    assert any("published_at" in e.reason for e in result.errors)


def test_folder_with_corrupt_files_keeps_the_good_ones(tmp_path: Path) -> None:
    write_json(tmp_path / "good.json", [GOOD])
    (tmp_path / "truncated.json").write_text(json.dumps([GOOD])[:40], encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "seed.txt").write_bytes(seed_path().read_bytes())
    result = load_path(tmp_path)
    assert sorted(a.title for a in result.articles) == [
        "Rain in Spain",
        "Turkey and Israel negotiate to avert military clash in Syria",
    ]
    reasons = {Path(e.path).name: e.reason for e in result.errors}
    assert "invalid JSON" in reasons["truncated.json"]
    assert reasons["latin1.txt"] == "not UTF-8 text"


def test_missing_path_is_reported(tmp_path: Path) -> None:
    result = load_path(tmp_path / "nope.json")
    assert result.errors and "no such file" in result.errors[0].reason


def test_multihop_corpus_loads(newsdata: Path) -> None:
    result = load_path(newsdata / "corpus.json")
    assert not result.errors
    assert len(result.articles) == 609
    assert len({a.id for a in result.articles}) == 609
    assert len({a.source for a in result.articles}) == 49
    assert all(a.published_at and a.published_at.tzinfo for a in result.articles)


def test_the_bundled_articles_name_their_outlet_date_and_link() -> None:
    """What `make run` ingests: the seed export plus the starter corpus, with attribution."""
    result = load_path(sample_path())
    assert result.errors == []
    starter = [a for a in result.articles if a.source]
    assert len(result.articles) == 40 and len(starter) == 39
    assert all(a.url and a.published_at for a in starter)
    assert len({a.source for a in starter}) >= 15
    readme = (sample_path() / "starter" / "README.md").read_text(encoding="utf-8")
    assert "ODC-BY" in readme and "MultiHop-RAG" in readme


def test_a_plain_text_file_is_a_title_and_a_body(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Harbour reopens\n\nThe harbour reopened on Monday.\n\nFerries run again.\n")
    [article] = load_path(note).articles
    assert article.title == "Harbour reopens"
    assert article.body == "The harbour reopened on Monday.\n\nFerries run again."
    title_only = tmp_path / "title.txt"
    title_only.write_text("Just a title\n")
    [error] = load_path(title_only).errors
    assert "title line, a blank line and the body" in error.reason


def test_an_empty_list_is_reported(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    [error] = load_path(empty).errors
    assert "empty" in error.reason
    other = tmp_path / "notes.md"
    other.write_text("# hi")
    [error] = load_path(other).errors
    assert ".txt" in error.reason and ".json" in error.reason
