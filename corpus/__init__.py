"""Read and normalise news articles from any source into one `Article` model."""

from corpus.models import Article, LoadError, LoadResult

__all__ = ["Article", "LoadError", "LoadResult"]
