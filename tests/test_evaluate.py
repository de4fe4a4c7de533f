"""The MultiHop-RAG metrics, against hand-made rankings, and the eval on a slice of the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.loaders import load_path
from index import NewsIndex
from index.embedder import Embedder
from index.evaluate import mean_metrics, query_metrics, run_eval


def test_no_hit_scores_zero() -> None:
    m = query_metrics(["alpha beta", "gamma"], ["delta"])
    assert m == {"hits10": 0.0, "hits4": 0.0, "mrr10": 0.0, "map10": 0.0}


def test_first_hit_at_rank_three() -> None:
    retrieved = ["x", "y", "The quick brown\nfox jumps.", "z", "w"]
    m = query_metrics(retrieved, ["quick brown fox"])  # spaces and newlines are ignored
    assert m["hits10"] == 1.0 and m["hits4"] == 1.0
    assert m["mrr10"] == pytest.approx(1 / 3)
    assert m["map10"] == pytest.approx(1 / 3)


def test_hit_at_rank_five_misses_hits_at_four() -> None:
    m = query_metrics(["a", "b", "c", "d", "fact one"], ["fact one"])
    assert (m["hits10"], m["hits4"], m["mrr10"]) == (1.0, 0.0, 0.2)


def test_map_counts_each_fact_once_and_divides_by_fact_count() -> None:
    retrieved = ["fact A here", "fact A again", "nothing", "fact B here"]
    m = query_metrics(retrieved, ["fact A", "fact B", "fact C"])
    # fact A found at rank 1 (1/1), its repeat at rank 2 adds nothing, fact B at rank 4 (1/4)
    assert m["map10"] == pytest.approx((1 / 1 + 1 / 4) / 3)
    assert m["mrr10"] == 1.0


def test_only_top_ten_count() -> None:
    retrieved = [f"chunk {i}" for i in range(10)] + ["the fact"]
    assert query_metrics(retrieved, ["the fact"])["hits10"] == 0.0


def test_mean_metrics() -> None:
    rows = [query_metrics(["f"], ["f"]), query_metrics(["x"], ["f"])]
    assert mean_metrics(rows)["hits10"] == 0.5


def test_eval_on_a_slice_of_multihop(newsdata: Path, tmp_path: Path, embedder: Embedder) -> None:
    """Index the evidence articles of a few questions and run the paper's protocol on them."""
    questions = json.loads((newsdata / "MultiHopRAG.json").read_text(encoding="utf-8"))[:24]
    wanted = {e["url"] for q in questions for e in q["evidence_list"]}
    articles = [a for a in load_path(newsdata / "corpus.json").articles if a.url in wanted]
    index = NewsIndex(tmp_path / "eval", create=True, embedder=embedder)
    index.ingest(articles)
    result = run_eval(index, questions)
    summary = result.summary()
    table = summary["table"]
    answerable = [q for q in questions if q["question_type"] != "null_query"]
    assert table["all answerable"]["n"] == len(answerable)
    assert table["dev (even)"]["n"] + table["held-out (odd)"]["n"] == len(answerable)
    for row in table.values():
        assert all(0.0 <= row[k] <= 1.0 for k in ("hits10", "hits4", "mrr10", "map10"))
    assert summary["latency"]["p50_ms"] > 0
    records = result.paper_format()
    assert len(records) == len(questions)
    assert all(len(r["retrieval_list"]) <= 10 for r in records)
    assert "Hits@10" in result.format_table()


def test_eval_questions_warms_the_caches_as_serve_does_unless_cold(
    newsdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Latency is measured as a running bot's questions see it (caches warmed at start);
    `--cold` measures without the warm-up, and the answers are the same either way."""
    from cli.main import main

    questions = json.loads((newsdata / "MultiHopRAG.json").read_text(encoding="utf-8"))[:4]
    wanted = {e["url"] for q in questions for e in q["evidence_list"]}
    corpus = json.loads((newsdata / "corpus.json").read_text(encoding="utf-8"))
    data = tmp_path / "newsdata"
    data.mkdir()
    (data / "corpus.json").write_text(json.dumps([a for a in corpus if a["url"] in wanted]))
    (data / "MultiHopRAG.json").write_text(json.dumps(questions))
    asked = [
        {"question": q["query"], "article_url": q["evidence_list"][0]["url"], "evidence": []}
        for q in questions
        if q["evidence_list"]
    ]
    (tmp_path / "q.json").write_text(json.dumps(asked))
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    tables = {}
    for cold in (False, True):
        out = tmp_path / f"records-{cold}.json"
        argv = ["eval", "questions", str(tmp_path / "q.json"), "--data", str(data)]
        argv += ["--index-dir", str(tmp_path / "index"), "--out", str(out)]
        assert main(argv + (["--cold"] if cold else [])) in (0, None)
        said = capsys.readouterr().out
        assert ("caches warmed as newsbot serve warms them" in said) is not cold
        tables[cold] = [(r["cited_urls"], r["answered"]) for r in json.loads(out.read_text())]
    assert tables[False] == tables[True]
