"""Questions on the ONNX export: the same vectors as torch, and a command line without torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from index.embedder import Embedder
from index.question_encoder import OnnxQuestionEncoder, export_dir, load_or_export

REPO = Path(__file__).resolve().parent.parent

QUESTIONS = [
    "did travis kelce try to delet his old tweets",
    "What did the Fed decide?",
    "Turkey Israel talks Azerbaijan",
    "Wer hat die Wahl in Argentinien gewonnen? 🇦🇷",
    "‏ما الذي قرره البنك المركزي؟",  # Arabic with a right-to-left mark
    "zero\u200bwidth\u200bspaces and <b>html</b> &amp; entities",
    "1234567890",
    "",
    "why " * 2000,  # far past the model's window: cut like torch cuts it
]


def test_onnx_questions_match_torch_vectors(
    embedder: Embedder, questions: OnnxQuestionEncoder
) -> None:
    """Passages are encoded by torch in float32; questions from the export must land on the
    same points, or every dense score drifts."""
    embedder.bf16_questions = False  # compare with plain float32 torch
    for question in QUESTIONS:
        parts = [p for p in question.split("?")[:1] if p.strip()]
        vector, part_vectors = questions.encode_question(question, parts)
        reference, reference_parts = embedder.encode_question(question, parts)
        assert float(vector @ reference) > 0.99999, question
        assert vector.shape == (embedder.dim,) and vector.dtype == np.float32
        if parts:
            assert float((part_vectors * reference_parts).sum(axis=1).min()) > 0.9999, question
    embedder.bf16_questions = embedder.__class__(embedder.name).bf16_questions


def test_the_export_knows_the_same_common_words(
    embedder: Embedder, questions: OnnxQuestionEncoder
) -> None:
    """Spelling help decides on the vocabulary; it must not change with the backend."""
    for word in ("tornado", "hold", "zepbound", "kisunla", "election"):
        assert questions.is_common_word(word) == embedder.is_common_word(word), word


def run_cli(data_dir: Path, *args: str, code: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "cli.main"]
    return subprocess.run(
        [*command, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def test_ask_runs_without_torch_once_the_index_is_built(tmp_path: Path) -> None:
    """`newsbot ingest` leaves the export beside the index, so `newsbot ask` answers without
    importing torch or sentence-transformers (the seconds of a cold start); neither `ask` nor
    `stats` imports the feed poller's HTTP client, feed parser and article extractor."""
    data_dir = tmp_path / "data"
    sample = REPO / "corpus" / "samples" / "seed-article-000_f0cd437ef953d55d.txt"
    ingest = run_cli(data_dir, "ingest", str(sample))
    assert ingest.returncode == 0, ingest.stderr
    assert (export_dir(data_dir, "all-MiniLM-L6-v2") / "model.onnx").exists()

    probe = (
        "import sys\n"
        "from cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'httpx', "
        "'feedparser', 'trafilatura') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
        "sys.exit(code)\n"
    )
    asked = run_cli(data_dir, "ask", "Turkey Israel talks Azerbaijan", code=probe)
    assert asked.returncode == 0, asked.stderr
    assert "Turkey and Israel" in asked.stdout
    assert "HEAVY []" in asked.stdout
    stats = run_cli(data_dir, "stats", code=probe)
    assert stats.returncode == 0, stats.stderr
    assert "HEAVY []" in stats.stdout


def test_a_damaged_export_is_made_again(tmp_path: Path, embedder: Embedder) -> None:
    """A truncated model file (a full disk, a killed copy) costs one re-export, not the bot."""
    load_or_export(tmp_path, embedder.name, embedder, load=False)
    model = export_dir(tmp_path, embedder.name) / "model.onnx"
    model.write_bytes(model.read_bytes()[:1000])
    encoder = load_or_export(tmp_path, embedder.name, embedder)
    assert isinstance(encoder, OnnxQuestionEncoder)
    vector, _ = encoder.encode_question("who won the election", [])
    assert float(vector @ embedder.encode(["who won the election"])[0]) > 0.9999
    assert model.stat().st_size > 1_000_000
