"""Newsdesk's retrieval layer: articles -> chunks -> vectors -> cited answers. Knows nothing of chat."""

from index.attribution import Attribution, speaker_of
from index.coverage import Coverage, empty_filter_message
from index.dates import YEAR, parse_date, parse_day, years
from index.errors import ConfigError, CorpusError, IndexUnusableError, NewsdeskError, QuestionError
from index.extras import require_extra
from index.ingest import AddedFile, add_to_corpus
from index.metrics import (
    MetricChange,
    answer_matches,
    hit_at,
    metric_changes,
    percentile,
    question_set_metrics,
    reciprocal_rank,
    share,
)
from index.newsdesk import Newsdesk, clean_question
from index.query_analysis import overview_subject
from index.records import Answer, Article, Chunk, Citation, Hit
from index.search import SearchFilters
from index.sentences import split_sentences
from index.settings import Settings, load_settings
from index.watch import CorpusChange, CorpusWatcher, update_message

__all__ = [
    "AddedFile", "Answer", "Article", "Attribution", "Chunk", "Citation", "ConfigError", "CorpusChange",
    "CorpusError", "CorpusWatcher", "Coverage", "Hit", "IndexUnusableError", "MetricChange", "Newsdesk",
    "NewsdeskError", "QuestionError", "SearchFilters", "Settings", "YEAR", "add_to_corpus", "answer_matches",
    "clean_question", "empty_filter_message", "hit_at", "load_settings", "metric_changes", "parse_date", "parse_day",
    "overview_subject", "percentile", "question_set_metrics", "reciprocal_rank", "require_extra", "share", "speaker_of",
    "split_sentences", "update_message", "years",
]  # fmt: skip
