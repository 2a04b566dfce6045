"""From retrieved chunks to an :class:`Answer`: the sentences that answer, each cited, or an abstention.

How a sentence's evidence is weighed (all in :func:`weigh_evidence`; the question is read once, by
:func:`index.query_analysis.analyse_question`):

1. Every stored sentence of the retrieved passages is a candidate (headings left out, each sentence
   once even when overlapping chunks repeat it). Sentences were embedded with the articles
   (:mod:`index.sentence_index`), so a question costs one dot product per candidate, no model call.
   Its *context* is the sentence before it and the article title: "He said the move would begin on
   May 1 and conclude by September 11." is about Biden only through the sentence before it; such a
   leaning sentence is scored and quoted together with that one.
2. The score adds to the sentence's cosine with the question: the IDF-weighted share of the
   question's terms (BM25 tokens, stemmed) in it (a lower-case word it says in other words, such as
   "reporters" for "journalists", counts at its similarity; the noun of "In what city ...?" counts as
   said by a sentence holding a place, "in Brussels"), a smaller share for terms found only in
   its context, whether it holds the kind of fact asked for (:mod:`index.answer_types`), how well its passage
   ranked, and a penalty when the question names years the sentence does not speak of.

The answer is the best sentence, with the sentence before it when it leans on it and a neighbour that
scored nearly as well. When other articles of *other dates* hold a close-scoring sentence that says
something different (another number for "how many", another date for "when", another name for
"who"), each is given, newest first, as "As of DATE: ...": news facts change.

Every ``[n]`` marker is produced from the same list that becomes the citations (:func:`cite`), so a
marker can only point at a listed source, and a source is listed only when a marker cites it; an
article is listed once.

Which sentence answers, and whether any does: with the learned answer model (the default,
:mod:`index.answer_model`), every candidate's evidence above becomes a row of features
(:mod:`index.answer_features`) and the model's probability ranks the candidates; the best one's
probability, calibrated, is the answer's confidence, and below the model's threshold the answer says the
articles do not cover the question, what the question names that no passage mentions ("They say nothing
about French troops.") and the closest article titles. Without a model (``answerer = "rules"``) the
hand-weighted score ranks and :attr:`Evidence.strength` decides against :data:`RULES_THRESHOLD`, as in
093e210 (the benchmarks' baseline). A sentence that is itself a question (a quiz, a headline that asks)
is never a candidate.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from index.answer_features import candidate_features, swapped_names
from index.answer_model import AnswerModel
from index.answer_types import AnswerType, typed_values
from index.dates import years
from index.lexical import STOPWORDS, tokenize
from index.query_analysis import NAME_WORD, PLAIN_WORD, QueryAnalysis
from index.records import Answer, Article, Citation, Hit
from index.sentences import Span
from index.store import StoredIndex
from index.word_vectors import Encode, WordVectors

ABSTAIN_TEXT = "The articles I have do not cover this."
# Weights of the sentence score (cosine + these). Chosen by a grid search on xquad-en (1,190 questions,
# top-sentence containment of the gold answer; terms 0.2-1.0, context 0.1-0.35, type 0.1-0.45, passage
# 0-0.4): these led with 0.831, and every neighbour within 0.3 points of it.
W_TERMS = 0.7
W_CONTEXT = 0.35
W_TYPE = 0.2
W_PASSAGE = 0.4
# A sentence about other years than the question names ("killed in 2019" vs. a 2014 figure) loses this.
W_OTHER_YEAR = 0.3
# A sentence from another, differently dated article joins the answer when it scores this close.
DATED_MARGIN = 0.2
# ... and only when it supports an answer on its own nearly as well as the best sentence does.
SUPPORT_MARGIN = 0.05
# ... and, with an answer model, when the model rates it at least this share of the best sentence's probability.
ALTERNATIVE_SHARE = 0.5
MAX_SOURCES = 3
# Without an answer model, answers whose Evidence.strength is below this abstain (093e210's rule, chosen
# then on xquad-en: docs/QUALITY.md).
RULES_THRESHOLD = 0.30
# The sentence next to the best one joins the quote when it scores this close: the claim spans both.
# On xquad-en (`make bench-quality`, 1,190 questions) the gold answer is in the answer for 0.849 of the
# questions at 0.12 and 0.852 at 0.15, with 1.32 sentences quoted per answer (a leaning sentence's
# predecessor included); without neighbours, 0.83.
NEIGHBOUR_MARGIN = 0.15
# Share of the question's names and numbers found in no retrieved passage costs the evidence this much
# ("When did Finland join NATO?" over articles that never name Finland).
W_MISSING_NAMES = 0.3
# A name no passage spells out is taken as meant by the best sentence when taking it out of the question
# lowers the question's cosine with that sentence by at least this much (names_meant).
NAME_PULL = 0.05
# A question word the sentence does not hold (stemmed) counts as held, at its similarity, when a word of
# the sentence is at least this close to it as single-word embeddings (index.word_vectors):
# journalists/reporters 0.87 and soldiers/troops 0.89 pass; opium/heroin 0.74 and annual/year 0.70 do
# not. Only lower-case words: names stay exact (Turkish/German 0.57, Kabul/Afghanistan 0.87!). Chosen on
# xquad-en (`make bench-quality`): at 0.8 answer containment 0.855 -> 0.857 and abstention AUC unchanged
# (0.945); at 0.7 near misses were answered more often (false answers 0.524 -> 0.536 at 0.30). On the
# seed set it turns "soldiers" into the "troops" of a 10,000 figure (troop-numbers-over-time).
SOFT_FROM = 0.8
# Paraphrases are looked for in this many of the best-scoring sentences (their words are embedded).
SOFT_CANDIDATES = 10
# A question asking for a number, date, person or place whose best sentence holds none loses this.
W_UNTYPED = 0.1
# The kinds of fact that change from report to report (a count, a deadline, who holds an office): a
# differently dated article joins the answer when it gives another value. A place or a free-form
# answer is given once, from the best sentence (tried: free-form statements of other dates within 0.1
# brought in off-question sentences on the seed set, placed first by the newest-first order).
_CHANGING = frozenset([AnswerType.NUMBER, AnswerType.DATE, AnswerType.PERSON])
# Words that make a sentence lean on the one before it.
_ANAPHORS = frozenset(["he", "she", "it", "they", "this", "that", "these", "those", "his", "her", "its", "their"])
_ANAPHOR_PHRASES = frozenset(["the move", "the decision", "the plan", "the group", "the deal", "the step"])


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage; offsets are absolute in its article."""

    article_id: str
    start: int
    end: int
    text: str
    hit: Hit
    previous: Span | None  # the sentence before it in the same paragraph (absolute offsets), if any
    row: int  # its row in the index's sentence store (its stored embedding)

    def previous_text(self, article: Article) -> str:
        return article.text[self.previous.start : self.previous.end] if self.previous else ""

    def leans_on_previous(self) -> bool:
        first = self.text.split(maxsplit=2)
        return (
            self.previous is not None
            and bool(first)
            and (first[0].lower().strip("\"'“‘") in _ANAPHORS or " ".join(first[:2]).lower() in _ANAPHOR_PHRASES)
        )


@dataclass
class Scored:
    candidate: Candidate
    terms: float  # IDF-weighted share of question terms in the sentence
    context: float  # ... found only in the previous sentence or title
    typed: list[str]  # values of the wanted kind the sentence holds
    other_year: bool  # the question names years; neither the sentence nor its article's date has one
    cosine: float  # of the sentence's stored embedding with the question's
    score: float  # the hand-weighted sum (module doc); with an answer model, its probability
    counted: set[str] = field(default_factory=set)  # the question terms its sentence or context holds
    paraphrased: float = 0.0  # the part of ``terms`` said in other words (paraphrased_terms)
    own_terms: set[str] = field(default_factory=set)  # the terms of the sentence (and the one it leans on)
    rule_score: float = field(init=False, default=0.0)  # the hand-weighted sum, kept when ``score`` changes

    def __post_init__(self) -> None:
        self.rule_score = self.score  # kept when ``score`` becomes the model's probability

    @property
    def coverage(self) -> float:
        return self.terms + self.context

    @property
    def support(self) -> float:
        """How well this sentence alone answers: cosine and term coverage (as in Evidence.strength)."""
        return 0.5 * self.cosine + 0.5 * min(1.0, self.coverage)


@dataclass
class Evidence:
    """The candidates of one question, best first, and what the question asks for."""

    wanted: AnswerType
    ranked: list[Scored] = field(default_factory=list)
    missing_names: float = 0.0  # share of the question's names and numbers absent from every passage
    missing: list[str] = field(default_factory=list)  # ... and those names and numbers
    # The same before names the best sentence means under another name (names_meant) are taken out:
    # "French" for a sentence on German troops, which the name-pull test can take as meant.
    absent: list[str] = field(default_factory=list)
    absent_names: float = 0.0

    @property
    def best(self) -> Scored | None:
        return self.ranked[0] if self.ranked else None

    @property
    def strength(self) -> float:
        """How well the best sentence supports an answer: its cosine and term coverage together, less
        what the question names that no passage mentions and a missing fact of the kind asked for."""
        best = self.best
        if best is None:
            return 0.0
        untyped = self.wanted is not AnswerType.ANY and not best.typed
        return (
            best.support - W_OTHER_YEAR * best.other_year - W_MISSING_NAMES * self.missing_names - W_UNTYPED * untyped
        )


def candidate_sentences(hits: list[Hit], stored: StoredIndex) -> list[Candidate]:
    """The stored sentences of the hits, each once (overlapping chunks share sentences)."""
    sentences = stored.sentences
    if sentences is None:
        raise ValueError("this index has no sentence store; rebuild it with 'newsdesk index --rebuild'")
    seen: set[int] = set()
    out: list[Candidate] = []
    for hit in hits:
        chunk = hit.chunk
        article = stored.articles[chunk.article_id]
        rows = sentences.rows_of(chunk.article_id)
        for sentence in sentences.within(chunk.article_id, chunk.start, chunk.end):
            if sentence.row in seen:
                continue
            seen.add(sentence.row)
            previous = None
            if sentence.row - 1 in rows:
                before = Span(int(sentences.starts[sentence.row - 1]), int(sentences.ends[sentence.row - 1]))
                # Context crosses no paragraph break: a new line starts a new thought.
                if "\n" not in article.text[before.end : sentence.start]:
                    previous = before
            text = article.text[sentence.start : sentence.end]
            out.append(Candidate(chunk.article_id, sentence.start, sentence.end, text, hit, previous, sentence.row))
    return out


def weigh_evidence(
    analysis: QueryAnalysis,
    hits: list[Hit],
    stored: StoredIndex,
    query_vector: np.ndarray,
    words: WordVectors | None = None,
) -> Evidence:
    """Score the sentences of ``hits`` for the question, best first by the hand-weighted score (module doc).

    ``words`` lets a question's word count as held by a sentence saying it in other words
    (:func:`paraphrased_terms`) and a name the passages never spell out count as meant by the best
    sentence (:func:`names_meant`); without it, terms and names must be found as written."""
    evidence = Evidence(analysis.wanted)
    candidates = [c for c in candidate_sentences(hits, stored) if not is_question(c.text)]
    if not candidates:
        return evidence
    weights = analysis.weights
    total = analysis.total_weight
    top_score = hits[0].score
    similarity = _similarities(candidates, stored, query_vector)
    scored: list[Scored] = []
    for c, cosine in zip(candidates, similarity, strict=True):
        article = stored.articles[c.article_id]
        before = _terms(c.previous_text(article))
        # A sentence that leans on the one before it is quoted with it: the pair is the claim.
        own = set(_terms(c.text)) | (before if c.leans_on_previous() else set())
        around = before | _terms(article.title)
        typed = typed_values(c.text, analysis.wanted, analysis.text)
        if typed:
            own = own | analysis.noun_terms  # "in Brussels" says the "city" of "In what city ...?"
        in_sentence = sum(w for t, w in weights.items() if t in own) / total
        in_context = sum(w for t, w in weights.items() if t not in own and t in around) / total
        # The passage's retrieval score, relative to the best passage (0 for the best, negative below).
        passage = c.hit.score - top_score
        other_year = bool(analysis.years) and not analysis.years & _years_of(c, article)
        score = (
            float(cosine)
            + W_TERMS * in_sentence
            + W_CONTEXT * in_context
            + W_TYPE * bool(typed)
            + W_PASSAGE * passage
            - W_OTHER_YEAR * other_year
        )
        scored.append(
            Scored(c, in_sentence, in_context, typed, other_year, float(cosine), score, own | around, own_terms=own)
        )
    scored.sort(key=lambda s: -s.score)
    if words is not None:
        _credit_paraphrases(analysis, scored[:SOFT_CANDIDATES], stored, words)
        scored.sort(key=lambda s: -s.score)
    evidence.ranked = scored
    absent, named = unmentioned_names(analysis, hits, stored)
    missing = absent
    if absent and words is not None:
        best_vector = stored.sentences.vectors[scored[0].candidate.row]  # type: ignore[union-attr]
        meant = names_meant(analysis.text, absent, best_vector, words.encode)
        missing = [w for w in absent if w not in meant]
    evidence.absent = absent
    evidence.missing = missing
    evidence.missing_names = len(missing) / named if named else 0.0
    evidence.absent_names = len(absent) / named if named else 0.0
    return evidence


@lru_cache(maxsize=8192)
def _terms(text: str) -> frozenset[str]:
    """The BM25 terms of a sentence or title, tokenised once: a candidate's previous sentence is often
    the candidate before it, and a bot's questions keep meeting the same articles."""
    return frozenset(tokenize(text))


def is_question(sentence: str) -> bool:
    """A sentence that asks (a quiz, a rhetorical question, a headline question) answers nothing."""
    return sentence.rstrip().rstrip("\"'”’)").endswith("?")


def _credit_paraphrases(analysis: QueryAnalysis, scored: list[Scored], stored: StoredIndex, words: WordVectors) -> None:
    """Add to each sentence's term share the question words it says in other words (in place); a term
    already counted for it (held by the sentence or its context) gets nothing more."""
    asked = analysis.plain_words
    if not asked:
        return
    texts = []
    for s in scored:
        leaning = s.candidate.previous_text(stored.articles[s.candidate.article_id])
        texts.append(f"{leaning if s.candidate.leans_on_previous() else ''} {s.candidate.text}")
    held = [s.counted for s in scored]
    for s, credit in zip(scored, paraphrased_terms(asked, texts, words, held), strict=True):
        found = sum(analysis.weights[t] * similarity for t, similarity in credit.items()) / analysis.total_weight
        s.terms += found
        s.paraphrased = found
        s.score += W_TERMS * found
        s.rule_score = s.score


def paraphrased_terms(
    asked: dict[str, str], texts: list[str], words: WordVectors, held: list[set[str]] | None = None
) -> list[dict[str, float]]:
    """For each text, the asked terms (term -> question word) it does not hold but says in other words,
    with the similarity of the closest of its words (at least :data:`SOFT_FROM`). ``held``: per text,
    the terms already counted for it (default: its own BM25 terms), which get no credit."""
    if held is None:
        held = [set(tokenize(text)) for text in texts]
    per_text = []
    for text, terms in zip(texts, held, strict=True):
        own = [w for w in dict.fromkeys(x.lower() for x in PLAIN_WORD.findall(text)) if w not in STOPWORDS]
        per_text.append((terms, own))
    vocabulary = list(dict.fromkeys([*asked.values(), *(w for _, own in per_text for w in own)]))
    if not vocabulary:
        return [{} for _ in texts]
    row = {w: i for i, w in enumerate(vocabulary)}
    vectors = words.of(vocabulary)
    out = []
    for counted, own in per_text:
        credit: dict[str, float] = {}
        missing = {t: w for t, w in asked.items() if t not in counted}
        if missing and own:
            close = vectors[[row[w] for w in missing.values()]] @ vectors[[row[w] for w in own]].T
            for (term, _), best in zip(missing.items(), close.max(axis=1), strict=True):
                if best >= SOFT_FROM:
                    credit[term] = float(best)
        out.append(credit)
    return out


def _similarities(candidates: list[Candidate], stored: StoredIndex, query: np.ndarray) -> np.ndarray:
    """Cosine of each sentence with the question; a sentence that leans on the one before it ("He said
    the move would ...") also gets the cosine of the two together (the sum of their unit vectors, which
    points where the pair's meaning does), and keeps the better."""
    sentences = stored.sentences
    assert sentences is not None
    own = sentences.similarity([c.row for c in candidates], query)
    leaning = [i for i, c in enumerate(candidates) if c.leans_on_previous()]
    if leaning:
        rows = [candidates[i].row for i in leaning]
        pairs = sentences.vectors[rows].astype(np.float32) + sentences.vectors[[r - 1 for r in rows]].astype(np.float32)
        pairs /= np.maximum(np.linalg.norm(pairs, axis=1, keepdims=True), 1e-9)
        own[leaning] = np.maximum(own[leaning], pairs @ query.reshape(-1).astype(np.float32))
    return own


def unmentioned_names(analysis: QueryAnalysis, hits: list[Hit], stored: StoredIndex) -> tuple[list[str], int]:
    """The question's names and numbers that no retrieved passage, its title or its date's year
    contains, and how many it names in all. A paraphrase can swap "reporters" for "journalists"; it
    rarely swaps "Finland" or "2019" for anything, so their absence says the articles are about
    something else."""
    named = [*analysis.names, *analysis.numbers]
    if not named:
        return [], 0
    seen: set[str] = set()
    for hit in hits:
        article = stored.articles[hit.chunk.article_id]
        # An article speaks of the year it is dated even when its text says only "currently".
        year = article.date.year if article.date else ""
        seen.update(tokenize(f"{article.title} {year} {hit.chunk.text}"))
    return [w for w in named if any(t not in seen for t in tokenize(w))], len(named)


def names_meant(question: str, missing: list[str], sentence: np.ndarray, encode: Encode) -> list[str]:
    """Of the ``missing`` names, those the sentence speaks of under another name ("Bundeswehr" for "German
    troops"): their :func:`name_pulls` reach :data:`NAME_PULL`. Numbers are never meant under another
    spelling here: a year or a count the passages do not hold is missing."""
    words = [w for w in missing if not w[:1].isdigit()]
    if not words:
        return []
    return [
        w for w, pull in zip(words, name_pulls(question, words, sentence, encode), strict=True) if pull >= NAME_PULL
    ]


def name_pulls(question: str, words: list[str], sentence: np.ndarray, encode: Encode) -> list[float]:
    """For each word, how much closer to ``sentence`` the question is with the word than without it.
    A name the sentence means under another name pulls the question toward it (positive); a name of
    something else ("Turkish" troops for a sentence on German troops) pulls it away (negative)."""
    without = [" ".join(re.sub(rf"(?<![\w'’-]){re.escape(w)}(?![\w'’-])", " ", question).split()) for w in words]
    cosines = encode([question, *without]) @ sentence.astype(np.float32)
    return [float(cosines[0] - c) for c in cosines[1:]]


def _years_of(candidate: Candidate, article: Article) -> set[int]:
    """The years a sentence speaks of: those it (or the sentence it leans on) names, else its article's year."""
    named = years(candidate.text)
    if candidate.leans_on_previous():
        named |= years(candidate.previous_text(article))
    return named or ({article.date.year} if article.date else set())


def compose_answer(
    analysis: QueryAnalysis,
    hits: list[Hit],
    stored: StoredIndex,
    query_vector: np.ndarray,
    words: WordVectors | None = None,
    model: AnswerModel | None = None,
    abstain_threshold: float | None = None,
) -> Answer:
    """The best sentences of ``hits`` as a cited answer, or an abstention when the evidence is weak.

    ``model``: the learned answer model picks the sentence and gives the answer's probability of being
    right; without it, the hand-weighted score picks and :attr:`Evidence.strength` decides (the method
    of 093e210, kept as the benchmarks' baseline). ``abstain_threshold``: below it Newsdesk abstains
    (default: the model's own, chosen on validation; :data:`RULES_THRESHOLD` without a model)."""
    if not hits:
        return abstention(analysis.text, hits, stored)
    evidence = weigh_evidence(analysis, hits, stored, query_vector, words)
    if evidence.best is None:
        return abstention(analysis.text, hits, stored, evidence)
    if model is None:
        confidence = evidence.strength
        threshold = RULES_THRESHOLD if abstain_threshold is None else abstain_threshold
    else:
        confidence = rate(analysis, evidence, stored, model)
        threshold = model.threshold if abstain_threshold is None else abstain_threshold
    if confidence < threshold or (model is not None and _swaps_a_name(analysis, evidence)):
        return abstention(analysis.text, hits, stored, evidence, confidence)
    answer = cite(analysis.text, choose(evidence, stored), stored)
    answer.confidence = round(confidence, 4)
    return answer


def _swaps_a_name(analysis: QueryAnalysis, evidence: Evidence) -> bool:
    """The best sentence gives the place of a name the question asks about, and no passage holds, to
    another name ("deployed to Afghanistan" for "deployed to Iraq?"): it reads of something else. On the
    development benchmark's validation split such best sentences were right for 3 of 3 answerable SQuAD
    questions and 8 of 15 news questions, against 69 unanswerable ones answered (docs/QUALITY.md)."""
    best = evidence.best
    return best is not None and swapped_names(analysis.text, evidence.absent, best.candidate.text) > 0


def rate(analysis: QueryAnalysis, evidence: Evidence, stored: StoredIndex, model: AnswerModel) -> float:
    """Rank ``evidence`` by the model's sentence probabilities (in place: ``score`` becomes that
    probability) and return the calibrated probability that the answer is right."""
    features = candidate_features(analysis, evidence, stored)
    probabilities = model.sentence_probabilities(features)
    confidence = model.answer_probability(probabilities, features)
    for s, p in zip(evidence.ranked, probabilities, strict=True):
        s.score = float(p)
    evidence.ranked.sort(key=lambda s: -s.score)
    return confidence


@dataclass(frozen=True)
class Quote:
    """A contiguous span of one article that the answer quotes, with its score."""

    candidate: Candidate
    start: int
    end: int
    score: float


def choose(evidence: Evidence, stored: StoredIndex) -> list[Quote]:
    """The quotes of the answer: the best sentence, then dated alternatives (module doc), newest first."""
    best = evidence.best
    assert best is not None
    chosen = [best]
    given = {v.casefold() for v in best.typed}
    dates = {stored.articles[best.candidate.article_id].date}
    alternatives = evidence.ranked[1:] if evidence.wanted in _CHANGING else []
    for other in alternatives:
        if len(chosen) >= MAX_SOURCES:
            break
        # Margins are on the hand-weighted score (they were chosen on it); with an answer model the
        # ranking is the model's, and an alternative must also be nearly as probable an answer itself.
        if other.rule_score < best.rule_score - DATED_MARGIN or other.score < ALTERNATIVE_SHARE * best.score:
            continue
        if other.support < best.support - SUPPORT_MARGIN:
            continue  # close in rank, but not nearly as good an answer on its own
        article = stored.articles[other.candidate.article_id]
        if article.date is None or article.date in dates or None in dates:
            continue  # only differently dated articles: the same date is the same state of the facts
        if any(c.candidate.article_id == other.candidate.article_id for c in chosen):
            continue
        values = {v.casefold() for v in other.typed}
        if not values or values <= given:
            continue  # holds nothing new of the kind asked for
        given |= values
        chosen.append(other)
        dates.add(article.date)
    quotes = [_quote(s, evidence.ranked, stored) for s in chosen]
    if len(quotes) > 1:
        quotes.sort(key=lambda q: stored.articles[q.candidate.article_id].date or dt.date.min, reverse=True)
    return quotes


def _contiguous(one: Candidate, other: Candidate, stored: StoredIndex) -> bool:
    """Nothing but white space between the two: a paragraph break is fine (news paragraphs are often
    one sentence long), a heading or caption between them (not a stored sentence) is not."""
    low, high = sorted((one, other), key=lambda c: c.start)
    return not stored.articles[one.article_id].text[low.end : high.start].strip()


def _quote(scored: Scored, ranked: list[Scored], stored: StoredIndex) -> Quote:
    """The sentence, with the one before it when it leans on it, and with a neighbour that scored
    within :data:`NEIGHBOUR_MARGIN` of it (the claim then spans both)."""
    c = scored.candidate
    start = c.previous.start if c.previous is not None and c.leans_on_previous() else c.start
    end = c.end
    for other in ranked:
        if other.rule_score < scored.rule_score - NEIGHBOUR_MARGIN:
            continue
        o = other.candidate
        if o.article_id != c.article_id or not _contiguous(o, c, stored):
            continue
        if o.row == c.row + 1:
            end = max(end, o.end)
            break
        if o.row == c.row - 1:
            start = min(start, o.start)
            break
    return Quote(c, start, end, scored.score)


def cite(question: str, quotes: list[Quote], stored: StoredIndex) -> Answer:
    """Number the articles of ``quotes`` in order of use and build the text and the citations together.

    Markers are never typed by hand: each is the number of the citation appended in the same step, so
    an out-of-range marker or an uncited source cannot be produced."""
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    dated = len({stored.articles[q.candidate.article_id].date for q in quotes}) > 1
    for quote in quotes:
        article = stored.articles[quote.candidate.article_id]
        text = article.text[quote.start : quote.end]
        if article.id not in numbers:
            numbers[article.id] = len(numbers) + 1
            chunk = quote.candidate.hit.chunk
            # The passage shown covers its chunk and the quote (the quote may reach one sentence back).
            start, end = min(chunk.start, quote.start), max(chunk.end, quote.end)
            citations.append(
                Citation(
                    number=numbers[article.id],
                    doc_id=article.id,
                    title=article.title,
                    outlet=article.outlet,
                    date=article.date_iso,
                    url=article.url,
                    passage=article.text[start:end],
                    quote=text,
                    score=round(quote.score, 4),
                    start=start,
                    end=end,
                )
            )
        prefix = f"As of {article.date_iso}: " if dated and article.date_iso else ""
        parts.append(f"{prefix}{text} [{numbers[article.id]}]")
    return Answer(question=question, text=" ".join(parts), citations=citations, abstained=False)


def abstention(
    question: str,
    hits: list[Hit],
    stored: StoredIndex,
    evidence: Evidence | None = None,
    confidence: float | None = None,
    limit: int = 3,
) -> Answer:
    """The "not covered" answer: what the articles lack, when the question names it ("The articles say
    nothing about French troops."), and the titles of the closest articles."""
    titles: list[str] = []
    for hit in hits:
        title = stored.articles[hit.chunk.article_id].title
        if title and title not in titles:
            titles.append(title)
    missing = missing_phrases(question, evidence.absent) if evidence else []
    text = ABSTAIN_TEXT
    if missing:
        text += f" They say nothing about {_join(missing)}."
    return Answer(
        question, text, [], abstained=True, closest_matches=titles[:limit], missing=missing,
        confidence=None if confidence is None else round(confidence, 4),
    )  # fmt: skip


def missing_phrases(question: str, missing: list[str]) -> list[str]:
    """The missing names as the question says them: neighbouring missing names joined ("Jens
    Stoltenberg"), and a name with the plural noun it qualifies ("French troops")."""
    words = NAME_WORD.findall(question)
    absent = set(missing)
    phrases: list[str] = []
    n = 0
    while n < len(words):
        if words[n] not in absent:
            n += 1
            continue
        end = n + 1
        while end < len(words) and words[end] in absent:
            end += 1
        following = words[end] if end < len(words) else ""
        if following.islower() and following.endswith("s") and following not in STOPWORDS and len(following) > 3:
            end += 1
        phrase = " ".join(words[n:end])
        if phrase not in phrases:
            phrases.append(phrase)
        n = end
    return phrases


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
