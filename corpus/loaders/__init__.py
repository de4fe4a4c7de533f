"""Loaders: turn files (a file or a whole folder) into `Article`s, reporting what they skip."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from corpus.loaders.jsonfiles import load_json, load_jsonl
from corpus.loaders.textexport import load_text_export
from corpus.models import LoadError, LoadResult

Loader = Callable[[Path], LoadResult]
FORMATS = (
    ".txt: a title line, a blank line, the body (or the seed export format); "
    ".json: a list of article objects (title, body, source, url, published_at, ...); "
    ".jsonl / .ndjson: one article object a line"
)

LOADERS: dict[str, Loader] = {
    ".txt": load_text_export,
    ".json": load_json,
    ".jsonl": load_jsonl,
    ".ndjson": load_jsonl,
}


def load_path(path: str | Path) -> LoadResult:
    """Load one file, or every supported file under a folder (sorted, recursive)."""
    path = Path(path)
    result = LoadResult()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in LOADERS)
        if not files:
            result.errors.append(LoadError(str(path), f"no article files found ({FORMATS})"))
        for file in files:
            result.extend(load_file(file))
        return result
    if not path.exists():
        result.errors.append(LoadError(str(path), "no such file or directory"))
        return result
    return load_file(path)


def load_file(path: Path) -> LoadResult:
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        supported = ", ".join(sorted(LOADERS))
        return LoadResult(
            errors=[LoadError(str(path), f"unsupported file type (use {supported}: {FORMATS})")]
        )
    try:
        return loader(path)
    except UnicodeDecodeError:
        return LoadResult(errors=[LoadError(str(path), "not UTF-8 text")])
    except OSError as exc:
        return LoadResult(errors=[LoadError(str(path), f"cannot read: {exc.strerror or exc}")])


def sample_path() -> Path:
    """Everything bundled (the seed article and the starter corpus), so a fresh checkout can
    answer questions: what `make run` ingests."""
    return Path(__file__).resolve().parent.parent / "samples"


def seed_path() -> Path:
    """The one bundled article in the plain-text export format."""
    return sample_path() / "seed-article-000_f0cd437ef953d55d.txt"
