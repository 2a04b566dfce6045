"""Newsdesk's retrieval layer: articles -> chunks -> vectors -> cited answers. Knows nothing of chat."""

from index.errors import ConfigError, CorpusError, IndexUnusableError, NewsdeskError, QuestionError
from index.newsdesk import Newsdesk
from index.records import Answer, Article, Chunk, Citation, Hit
from index.search import SearchFilters
from index.settings import Settings, load_settings

__all__ = [
    "Answer", "Article", "Chunk", "Citation", "ConfigError", "CorpusError", "Hit", "IndexUnusableError",
    "Newsdesk", "NewsdeskError", "QuestionError", "SearchFilters", "Settings", "load_settings",
]  # fmt: skip
