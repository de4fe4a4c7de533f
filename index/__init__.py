"""Chunk, embed, store and search articles; knows nothing of Telegram or settings."""

from index.answer import Answer, Citation, Outlet
from index.service import IngestReport, NewsIndex, NewsIndexError

__all__ = ["Answer", "Citation", "IngestReport", "NewsIndex", "NewsIndexError", "Outlet"]
