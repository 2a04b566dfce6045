"""How well each candidate sentence answers the question: the evidence the answer is chosen from.

The features stage of a question's walk (question -> analysis -> hits -> candidates -> features ->
answer), with :mod:`index.answer_features`. A sentence's score adds to its cosine with the question
(one dot product per candidate with the vectors stored with the articles, :mod:`index.sentence_index`):
the IDF-weighted share of the question's terms (BM25 tokens, stemmed) in it (a lower-case word it says in
other words, such as "reporters" for "journalists", counts at its similarity; the noun of "In what city
...?" counts as said by a sentence holding a place, "in Brussels"), a smaller share for terms found only
in its context (the sentence before it, the title), whether it holds the kind of fact asked for
(:mod:`index.answer_types`), how well its passage ranked, and a penalty when the question names years
the sentence does not speak of. The question's names and numbers that no passage mentions weaken the
evidence as a whole, unless the best sentence means them under another name.

Everything read of a candidate (its terms, typed values, years, whether it leans on the sentence before)
comes with it from :mod:`index.candidates`; this module asks each other module it needs once per
question: the sentence store for the cosines, the word vectors for paraphrases, the question encoder
for the names meant, BM25 for the stems of the names compared in :func:`swapped_names`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from index.answer_types import AnswerType
from index.candidates import Candidate, Candidates, candidate_sentences
from index.lexical import STOPWORDS, tokenize_each
from index.query_analysis import NAME_WORD, PLAIN_WORD, QueryAnalysis
from index.records import Article, Hit
from index.store import StoredIndex
from index.word_vectors import Encode, WordVectors

# Weights of the sentence score (cosine + these). Chosen by a grid search on xquad-en (1,190 questions,
# top-sentence containment of the gold answer; terms 0.2-1.0, context 0.1-0.35, type 0.1-0.45, passage
# 0-0.4): these led with 0.831, and every neighbour within 0.3 points of it.
W_TERMS = 0.7
W_CONTEXT = 0.35
W_TYPE = 0.2
W_PASSAGE = 0.4
# A sentence about other years than the question names ("killed in 2019" vs. a 2014 figure) loses this.
W_OTHER_YEAR = 0.3
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
    swapped: float = 0.0  # share of the question's absent names whose place it gives to another name
    rule_score: float = field(init=False, default=0.0)  # the hand-weighted sum, kept when ``score`` changes
    # How well this sentence alone answers: cosine and term coverage (as in Evidence.strength); a field,
    # not a property, so that the answer stage reads it without calling back here.
    support: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.rule_score = self.score  # kept when ``score`` becomes the model's probability
        self.support = _support(self.cosine, self.terms, self.context)


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
    # Whether ``Scored.score`` is the answer model's probability (index.answering.rate) or the hand-weighted sum.
    rated: bool = False

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
    pool = candidate_sentences(analysis, hits, stored)
    candidates = pool.sentences
    if not candidates:
        return evidence
    weights = tuple(analysis.weights.items())
    total = analysis.total_weight
    top_score = hits[0].score
    # As Python floats (the same values): the arithmetic below is then on floats, not numpy scalars.
    similarity = _similarities(candidates, stored, query_vector).tolist()
    scored: list[Scored] = []
    for c, cosine in zip(candidates, similarity, strict=True):
        before = c.previous_terms
        # A sentence that leans on the one before it is quoted with it: the pair is the claim.
        own = set(c.terms)
        if c.leans:
            own |= before
        around = before | c.title_terms
        typed = list(c.typed)
        if typed:
            own |= analysis.noun_terms  # "in Brussels" says the "city" of "In what city ...?"
        in_sentence = sum(w for t, w in weights if t in own) / total
        in_context = sum(w for t, w in weights if t not in own and t in around) / total
        # The passage's retrieval score, relative to the best passage (0 for the best, negative below).
        passage = c.hit.score - top_score
        other_year = bool(analysis.years) and not analysis.years & _years_of(c, stored.articles[c.article_id])
        score = (
            cosine
            + W_TERMS * in_sentence
            + W_CONTEXT * in_context
            + W_TYPE * bool(typed)
            + W_PASSAGE * passage
            - W_OTHER_YEAR * other_year
        )
        scored.append(Scored(c, in_sentence, in_context, typed, other_year, cosine, score, own | around, own_terms=own))
    scored.sort(key=lambda s: -s.score)
    if words is not None:
        _credit_paraphrases(analysis, scored[:SOFT_CANDIDATES], words)
        scored.sort(key=lambda s: -s.score)
    evidence.ranked = scored
    absent, named = unmentioned_names(analysis, pool)
    missing = absent
    if absent and words is not None:
        best_vector = stored.sentences.vectors[scored[0].candidate.row]  # type: ignore[union-attr]
        meant = names_meant(analysis.text, absent, best_vector, words.encode)
        missing = [w for w in absent if w not in meant]
    evidence.absent = absent
    evidence.missing = missing
    evidence.missing_names = len(missing) / named if named else 0.0
    evidence.absent_names = len(absent) / named if named else 0.0
    swapped = swapped_names(analysis.text, absent, [s.candidate.text for s in scored])
    for s, share in zip(scored, swapped, strict=True):
        s.swapped = share
    return evidence


def _credit_paraphrases(analysis: QueryAnalysis, scored: list[Scored], words: WordVectors) -> None:
    """Add to each sentence's term share the question words it says in other words (in place); a term
    already counted for it (held by the sentence or its context) gets nothing more."""
    asked = analysis.plain_words
    if not asked:
        return
    texts = [f"{s.candidate.previous_text if s.candidate.leans else ''} {s.candidate.text}" for s in scored]
    held = [s.counted for s in scored]
    for s, credit in zip(scored, paraphrased_terms(asked, texts, words, held), strict=True):
        found = sum(analysis.weights[t] * similarity for t, similarity in credit.items()) / analysis.total_weight
        s.terms += found
        s.paraphrased = found
        s.score += W_TERMS * found
        s.rule_score = s.score
        s.support = _support(s.cosine, s.terms, s.context)


def paraphrased_terms(
    asked: dict[str, str], texts: list[str], words: WordVectors, held: list[set[str]] | None = None
) -> list[dict[str, float]]:
    """For each text, the asked terms (term -> question word) it does not hold but says in other words,
    with the similarity of the closest of its words (at least :data:`SOFT_FROM`). ``held``: per text,
    the terms already counted for it (default: its own BM25 terms), which get no credit."""
    if held is None:
        held = [set(terms) for terms in tokenize_each(texts)]
    per_text = []
    for text, counted in zip(texts, held, strict=True):
        missing = {t: w for t, w in asked.items() if t not in counted}
        # A text that holds every asked term gets no credit: its words are neither read nor looked up.
        per_text.append((missing, _content_words(text) if missing else []))
    vocabulary = list(dict.fromkeys([*asked.values(), *(w for _, own in per_text for w in own)]))
    if not vocabulary:
        return [{} for _ in texts]
    row = {w: i for i, w in enumerate(vocabulary)}
    vectors = words.of(vocabulary)
    out = []
    for missing, own in per_text:
        credit: dict[str, float] = {}
        if missing and own:
            close = vectors[[row[w] for w in missing.values()]] @ vectors[[row[w] for w in own]].T
            for (term, _), best in zip(missing.items(), close.max(axis=1), strict=True):
                if best >= SOFT_FROM:
                    credit[term] = float(best)
        out.append(credit)
    return out


def _content_words(text: str) -> list[str]:
    """The distinct lower-cased plain words of ``text`` that are not stop words, in order."""
    return [w for w in dict.fromkeys(map(str.lower, PLAIN_WORD.findall(text))) if w not in STOPWORDS]


def _similarities(candidates: list[Candidate], stored: StoredIndex, query: np.ndarray) -> np.ndarray:
    """Cosine of each sentence with the question; a sentence that leans on the one before it ("He said
    the move would ...") also gets the cosine of the two together (the sum of their unit vectors, which
    points where the pair's meaning does), and keeps the better."""
    sentences = stored.sentences
    assert sentences is not None
    own = sentences.similarity([c.row for c in candidates], query)
    leaning = [i for i, c in enumerate(candidates) if c.leans]
    if leaning:
        rows = [candidates[i].row for i in leaning]
        pairs = sentences.vectors[rows].astype(np.float32) + sentences.vectors[[r - 1 for r in rows]].astype(np.float32)
        pairs /= np.maximum(np.linalg.norm(pairs, axis=1, keepdims=True), 1e-9)
        own[leaning] = np.maximum(own[leaning], pairs @ query.reshape(-1).astype(np.float32))
    return own


def unmentioned_names(analysis: QueryAnalysis, candidates: Candidates) -> tuple[list[str], int]:
    """The question's names and numbers that no retrieved passage, its title or its date's year
    contains (``candidates.passage_terms``), and how many it names in all. A paraphrase can swap
    "reporters" for "journalists"; it rarely swaps "Finland" or "2019" for anything, so their absence
    says the articles are about something else."""
    named = [*analysis.names, *analysis.numbers]
    if not named:
        return [], 0
    seen = candidates.passage_terms
    absent = [w for w, terms in zip(named, analysis.name_terms, strict=True) if any(t not in seen for t in terms)]
    return absent, len(named)


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


def _support(cosine: float, terms: float, context: float) -> float:
    return 0.5 * cosine + 0.5 * min(1.0, terms + context)


def _years_of(candidate: Candidate, article: Article) -> set[int]:
    """The years a sentence speaks of: those it (or the sentence it leans on) names, else its article's year."""
    return set(candidate.years) or ({article.date.year} if article.date else set())


def swapped_names(question: str, absent: list[str], sentences: list[str]) -> list[float]:
    """For each sentence, the share of ``absent`` (question names no passage holds) whose place in it
    another name takes: "deployed to Iraq?" against "deployed to Afghanistan", "French troops" against
    "German troops". Asking about one thing and reading of another is how a near miss looks."""
    if not absent:
        return [0.0 for _ in sentences]
    asked = NAME_WORD.findall(question)
    said_already = {w.casefold() for w in asked} | STOPWORDS
    said = [NAME_WORD.findall(sentence) for sentence in sentences]
    # Where another name could stand: each capitalised word of a sentence the question does not say.
    others = [
        [j for j, w in enumerate(words) if w[:1].isupper() and w.casefold() not in said_already] for words in said
    ]
    # The lower-case words around each absent name in the question, to be met around another name.
    places: list[tuple[str | None, str | None]] = []
    for name in absent:
        if name in asked:
            i = asked.index(name)
            before = asked[i - 1] if i > 0 and asked[i - 1].islower() else None
            after = asked[i + 1] if i + 1 < len(asked) and asked[i + 1].islower() else None
            places.append((before, after))
    # Words are compared by their stems, all stemmed in one pass.
    around = [w for words, js in zip(said, others, strict=True) for j in js for w in words[max(j - 1, 0) : j + 2]]
    vocabulary = list(dict.fromkeys([*(w for place in places for w in place if w), *around]))
    stem = {w: t[0] if t else w.casefold() for w, t in zip(vocabulary, tokenize_each(vocabulary), strict=True)}
    out = []
    for words, js in zip(said, others, strict=True):
        swapped = 0
        for before, after in places:
            if any(
                (before and j > 0 and stem[words[j - 1]] == stem[before])
                or (after and j + 1 < len(words) and stem[words[j + 1]] == stem[after])
                for j in js
            ):
                swapped += 1
        out.append(swapped / len(absent))
    return out
