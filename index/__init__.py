"""Newsdesk's retrieval layer: articles -> chunks -> vectors -> cited answers. Knows nothing of chat."""

from index.errors import ConfigError, CorpusError, IndexUnusableError, NewsdeskError, QuestionError
from index.metrics import MetricChange, answer_matches, hit_at, metric_changes, percentile, reciprocal_rank, share
from index.newsdesk import Newsdesk
from index.records import Answer, Article, Chunk, Citation, Hit
from index.search import SearchFilters
from index.settings import Settings, load_settings

__all__ = [
    "Answer", "Article", "Chunk", "Citation", "ConfigError", "CorpusError", "Hit", "IndexUnusableError",
    "MetricChange", "Newsdesk", "NewsdeskError", "QuestionError", "SearchFilters", "Settings", "answer_matches",
    "hit_at", "load_settings", "metric_changes", "percentile", "reciprocal_rank", "share",
]  # fmt: skip
