"""What the answer model sees of each candidate sentence: one row of numbers per sentence.

The hand-weighted evidence of :mod:`index.answering` (cosine, term coverage, paraphrase credit, kind of
fact, years, passage rank) becomes features, beside what a hand-weighted sum could not use: for each
name and number of the question, whether the sentence, its context or its article holds it, or no
retrieved passage does; how far the sentence stands from the best one; how new its words are to the
question (a sentence that only restates the question answers nothing); for questions about "now", how
old its article is on the day asked. :data:`FEATURES` names the columns; the model file records the list
it was trained on, and :class:`index.answer_model.AnswerModel` refuses a file whose list differs.

Part of the features stage of a question's walk, after :mod:`index.evidence`: every value is read from
the records that flow (:class:`index.query_analysis.QueryAnalysis`, :class:`index.candidates.Candidate`,
:class:`index.evidence.Scored`); this module calls into no other.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import numpy as np

from index.answer_types import AnswerType
from index.query_analysis import QueryAnalysis
from index.records import Article
from index.store import StoredIndex

if TYPE_CHECKING:
    from index.evidence import Evidence

FEATURES: tuple[str, ...] = (
    "cosine",  # of the sentence (or the pair it forms with the one it leans on) with the question
    "cosine_gap",  # its cosine less the best cosine among the candidates
    "terms",  # IDF-weighted share of the question's terms in the sentence (paraphrases included)
    "context",  # ... found only in the sentence before it or the title
    "paraphrased",  # ... of "terms", said in other words
    "coverage",  # terms + context, at most 1
    "typed",  # holds a value of the kind asked for (a number for "how many" ...)
    "untyped",  # the question asks for a kind of value and the sentence holds none
    "other_year",  # the question names years; neither the sentence nor its article's date has one
    "year_named",  # the question names a year
    "passage_gap",  # its passage's retrieval score less the best passage's
    "hit_rank",  # its passage's rank (0 best)
    "hit_dense",  # its passage's cosine with the question
    "hit_score",  # its passage's fused retrieval score
    "names_in_sentence",  # share of the question's names and numbers the sentence holds
    "names_in_context",  # ... that its context (previous sentence, title) holds
    "names_in_article",  # ... that its article holds anywhere
    "missing_names",  # ... that no retrieved passage holds (and the best sentence does not mean)
    "absent_names",  # ... that no retrieved passage holds, meant or not
    "swapped_names",  # share of those absent names whose place the sentence gives to another name
    "has_names",  # the question names anything
    "novel_share",  # share of the sentence's terms that are not the question's: what it adds
    "log_length",  # log of the sentence's term count
    "first_in_article",  # the article's first sentence (the lede)
    "leans",  # opens with a pronoun that points at the sentence before
    "rule_score",  # the hand-weighted sum of index.answering
    "rule_gap",  # ... less the best candidate's
    "wants_number",
    "wants_date",
    "wants_person",
    "wants_place",
    "has_noun",  # a "which city"-style question
    # For questions about "now" ("latest", "this week", "on Tuesday"): log(1 + whole weeks from the article's
    # date to the question's now: the day asked, or an archive's last day, index.newsdesk.question_now),
    # else 0. Only for those: a reader asking about 2014 in 2026 asks of an archive, and the age of an answer
    # says nothing then. Weeks, not days: the benchmark's passages carry their
    # quiz's date, and an exact day would teach the model a date coincidence rather than recency.
    "now_x_age",
    "log_question_terms",  # log of the question's term count
)
_WANTS = (AnswerType.NUMBER, AnswerType.DATE, AnswerType.PERSON, AnswerType.PLACE)


def _share(named: list[tuple[str, ...]], terms: set[str] | frozenset[str]) -> float:
    if not named:
        return 0.0
    return sum(all(t in terms for t in tokens) for tokens in named) / len(named)


def candidate_features(analysis: QueryAnalysis, evidence: Evidence, stored: StoredIndex) -> np.ndarray:
    """One row of :data:`FEATURES` per sentence of ``evidence.ranked``."""
    ranked = evidence.ranked
    if not ranked:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    named = [terms for terms in analysis.name_terms if terms]
    best_cosine = max(s.cosine for s in ranked)
    best_rule = max(s.rule_score for s in ranked)
    top_hit = max(s.candidate.hit.score for s in ranked)
    question_terms = set(analysis.terms)
    wants = [float(analysis.wanted is kind) for kind in _WANTS]
    log_question_terms = math.log1p(len(analysis.terms))
    rows: list[tuple[float, ...]] = []
    for s in ranked:
        c = s.candidate
        article: Article = stored.articles[c.article_id]
        held = s.own_terms
        age = _age_days(article.date, analysis.now) if analysis.about_now else None
        log_age = math.log1p(max(age, 0) // 7) if age is not None else 0.0
        rows.append((
            s.cosine,
            s.cosine - best_cosine,
            s.terms,
            s.context,
            s.paraphrased,
            min(1.0, s.terms + s.context),
            float(bool(s.typed)),
            float(analysis.wanted is not AnswerType.ANY and not s.typed),
            float(s.other_year),
            float(bool(analysis.years)),
            c.hit.score - top_hit,
            float(c.hit.rank),
            c.hit.dense_score or 0.0,
            c.hit.score,
            _share(named, held),
            _share(named, s.counted),
            _share(named, c.article_terms) if named else 0.0,
            evidence.missing_names,
            evidence.absent_names,
            s.swapped,
            float(bool(named)),
            len(held - question_terms) / len(held) if held else 0.0,
            math.log1p(len(held)),
            float(c.first_in_article),
            float(c.leans),
            s.rule_score,
            s.rule_score - best_rule,
            *wants,
            float(analysis.noun is not None),
            log_age,
            log_question_terms,
        ))  # fmt: skip
    # One conversion for the whole matrix: the same float32 rounding of each value as row-by-row assignment.
    return np.array(rows, dtype=np.float32)


def _age_days(published: dt.date | None, asked: dt.date | None) -> int | None:
    if published is None or asked is None:
        return None
    return (asked - published).days
