"""Questions through ONNX Runtime: the same model as `Embedder`, exported once, without torch.

A question is latency, and a command-line `ask` is a cold start: importing sentence-transformers
and torch takes seconds, and torch's per-call overhead dominates a ten-word forward pass. The
model is exported to ONNX (float32, so question vectors match the float32 passages: cosine
0.9999999 to torch's on our everyday questions) the first time it is needed, from the torch model
that is loaded anyway, and cached in the data directory beside the index. Later processes load
only onnxruntime and the `tokenizers` library. Passages stay on torch: for batches the plain
export is slower than torch's kernels.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from db.sqlite import writable
from index.embedder import Embedder, one_token, part_spans, resolve_model, span_vectors

log = logging.getLogger(__name__)

MODELS_DIR = "models"  # under the data directory
FORMAT = 1  # bump when what `export` writes changes
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_FILES = ("config.json", "modules.json", "tokenizer.json", "model.safetensors")


def export_dir(data_dir: Path, model: str) -> Path:
    """Where the export of `model` lives: keyed by the model's name and, for a model on disk,
    the size and time of its files, so a changed model is exported again."""
    key = hashlib.sha256(f"{FORMAT}\0{model}".encode())
    path = Path(resolve_model(model))
    for name in _FILES:
        try:
            stat = (path / name).stat()
        except OSError:
            continue
        key.update(f"\0{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in model.rsplit("/", 1)[-1])
    return data_dir / MODELS_DIR / f"{slug[:40]}-{key.hexdigest()[:12]}"


def export(embedder: Embedder, target: Path, *, replace: bool = False) -> Path:
    """Write `embedder`'s model as ONNX with its tokenizer into `target`, all or nothing: the
    files are written to a temporary folder and renamed into place, so a crash mid-export
    leaves no half model for the next process to load. An export another process finished
    meanwhile is kept unless `replace` (it is damaged)."""
    import torch

    model = embedder.sentence_transformer

    class Outputs(torch.nn.Module):
        """The sentence-transformers pipeline (transformer, pooling, ...) as plain tensors."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: Any) -> Any:
            out = self.model(dict(zip(names, tensors, strict=True)))
            return out["token_embeddings"], out["sentence_embedding"]

    sample = embedder.tokenizer(["what happened"], return_tensors="pt")
    names = [name for name in _INPUTS if name in sample]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        dynamic = {name: {0: "batch", 1: "tokens"} for name in names}
        dynamic["token_embeddings"] = {0: "batch", 1: "tokens"}
        dynamic["sentence_embedding"] = {0: "batch"}
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # the tracer's notes on Python control flow
            torch.onnx.export(
                Outputs().eval(),
                tuple(sample[name] for name in names),
                str(partial / "model.onnx"),
                input_names=names,
                output_names=["token_embeddings", "sentence_embedding"],
                dynamic_axes=dynamic,
                opset_version=17,
                dynamo=False,
            )
        embedder.tokenizer.backend_tokenizer.save(str(partial / "tokenizer.json"))
        meta = {
            "model": embedder.name,
            "dim": embedder.dim,
            "max_tokens": embedder.max_tokens,
        }
        (partial / "encoder.json").write_text(json.dumps(meta), encoding="utf-8")
        if (target / "encoder.json").exists() and not replace:
            shutil.rmtree(partial)  # another process was quicker
        else:
            shutil.rmtree(target, ignore_errors=True)
            partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return target


class QuestionEncoder(Protocol):
    """What a search needs of a model for questions (`Embedder` or `OnnxQuestionEncoder`)."""

    dim: int

    def encode_question(
        self, question: str, parts: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def is_common_word(self, word: str) -> bool: ...


class OnnxQuestionEncoder:
    """`Embedder.encode_question` and `is_common_word` from an export, without torch."""

    def __init__(self, directory: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((directory / "encoder.json").read_text(encoding="utf-8"))
        self.name = str(meta["model"])
        self.dim = int(meta["dim"])
        self.max_tokens = int(meta["max_tokens"])
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        # threads spin between a question's operators (3.3 against 4.2 ms a question) but
        # stop when its run ends: spinning on between questions took the other core from
        # searches, an ingest and a second worker (50 chats 20 -> 27 answers/s). Within runs
        # it still costs under load: 50 chats through the bot 28.5 -> 27.5 answers/s, the bare
        # index on 6 threads 43 -> 39 (benchmarks/bot_latency.py, 3 runs each)
        options.add_session_config_entry("session.intra_op.allow_spinning", "1")
        options.add_session_config_entry("session.force_spinning_stop", "1")
        options.log_severity_level = 3  # warnings about unused initialisers are not ours
        self._session = ort.InferenceSession(
            str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = tuple(node.name for node in self._session.get_inputs())
        self._lock = threading.Lock()
        self._vocab: frozenset[str] | None = None

    def encode_question(self, question: str, parts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """As `Embedder.encode_question`: the normalised question vector and one vector per
        part (a substring), pooled from the question's own token embeddings."""
        spans = part_spans(question, parts)
        with self._lock:  # set-up calls on a shared tokenizer are not thread-safe
            encoding = self.tokenizer.encode(question)
        columns = {
            "input_ids": encoding.ids,
            "attention_mask": encoding.attention_mask,
            "token_type_ids": encoding.type_ids,
        }
        feeds = {name: np.asarray([columns[name]], dtype=np.int64) for name in self._inputs}
        tokens, sentence = self._session.run(None, feeds)
        vector = sentence[0].astype(np.float32)
        vector /= np.linalg.norm(vector) or 1.0
        return vector, span_vectors(tokens[0], encoding.offsets, spans, vector)

    def is_common_word(self, word: str) -> bool:
        """As `Embedder.is_common_word`: the tokenizer has the word as one token."""
        if self._vocab is None:
            self._vocab = frozenset(self.tokenizer.get_vocab())
        return one_token(self._vocab, word)


def load_or_export(
    data_dir: Path, model: str, embedder: Embedder | None = None, *, load: bool = True
) -> OnnxQuestionEncoder | None:
    """The ONNX encoder for `model`, exporting it first when the data directory has none.

    `embedder` is the loaded torch model to export from (loaded here when not given). Returns
    None when the model cannot be exported (an exotic architecture, or a read-only data
    directory without an export): the caller keeps torch.
    """
    target = export_dir(data_dir, model)
    damaged = False
    if (target / "encoder.json").exists():
        if not load:
            return None
        try:
            return OnnxQuestionEncoder(target)
        except Exception as exc:
            log.warning("the ONNX export in %s cannot be loaded (%s): exporting again", target, exc)
            damaged = True
    if not writable(target.parent):  # before loading torch only to fail writing
        log.info("questions stay on torch: %s is read-only, no ONNX export there", data_dir)
        return None
    try:
        export(embedder or Embedder(model), target, replace=damaged)
    except Exception as exc:
        log.warning("questions stay on torch: exporting %s to ONNX failed: %s", model, exc)
        return None
    log.info("exported %s to ONNX for questions in %s", model, target)
    return OnnxQuestionEncoder(target) if load else None
