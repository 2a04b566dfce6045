"""The candidate sentences of a question: every stored sentence of the retrieved passages, read once.

The candidates stage of a question's walk (question -> analysis -> hits -> candidates -> features ->
answer). Every stored sentence of the retrieved passages is a candidate (headings left out, each
sentence once even when overlapping chunks repeat it, a sentence that is itself a question never).
Its *context* is the sentence before it and the article title: "He said the move would begin on May 1
and conclude by September 11." is about Biden only through the sentence before it; such a sentence
*leans* on that one and is scored and quoted together with it.

Everything the later stages need to know of a candidate is worked out here, for all candidates at
once, and carried as a field of :class:`Candidate`: the sentence store is asked once where the
sentences of every passage are and which sentence comes before each; BM25 once for the terms of every
sentence, sentence before, title and passage (one tokenising pass); :mod:`index.answer_types` once for
the values of the kind asked for in every sentence; :mod:`index.dates` once for the years they name.
Nothing downstream calls back into this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from index.answer_types import typed_values_each
from index.dates import years_each
from index.lexical import term_sets
from index.query_analysis import QueryAnalysis
from index.records import Hit
from index.sentence_index import SentenceRow
from index.sentences import Span
from index.store import StoredIndex

# Words that make a sentence lean on the one before it.
_ANAPHORS = frozenset(["he", "she", "it", "they", "this", "that", "these", "those", "his", "her", "its", "their"])
_ANAPHOR_PHRASES = frozenset(["the move", "the decision", "the plan", "the group", "the deal", "the step"])


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage; offsets are absolute in its article. The fields after ``row``
    are filled by :func:`candidate_sentences` (a candidate made by hand has none of them)."""

    article_id: str
    start: int
    end: int
    text: str
    hit: Hit
    previous: Span | None  # the sentence before it in the same paragraph (absolute offsets), if any
    row: int  # its row in the index's sentence store (its stored embedding)
    previous_text: str = ""  # the text of ``previous`` ("" without one)
    leans: bool = False  # it opens with a word that points at ``previous`` ("He said ...", "The move ...")
    first_in_article: bool = False  # its article's first stored sentence (the lede)
    terms: frozenset[str] = frozenset()  # its BM25 terms
    previous_terms: frozenset[str] = frozenset()  # ... of ``previous_text``
    title_terms: frozenset[str] = frozenset()  # ... of its article's title
    # ... of its article's title and text, when the question names anything to look for in it (else empty).
    article_terms: frozenset[str] = frozenset()
    typed: tuple[str, ...] = ()  # the values of the kind asked for it holds (index.answer_types.typed_values)
    years: frozenset[int] = frozenset()  # the years it names, with those of ``previous`` when it leans on it


@dataclass(frozen=True)
class Candidates:
    """A question's candidates, and what its retrieved passages say as a whole."""

    sentences: list[Candidate] = field(default_factory=list)
    # The BM25 terms of every retrieved passage, its title and its date's year: what the passages mention
    # (filled when the question names anything, index.evidence.unmentioned_names).
    passage_terms: frozenset[str] = frozenset()


def is_question(sentence: str) -> bool:
    """A sentence that asks (a quiz, a rhetorical question, a headline question) answers nothing."""
    return sentence.rstrip().rstrip("\"'”’)").endswith("?")


def leans_on(text: str, previous: Span | None) -> bool:
    """Whether a sentence opens with a word or phrase that points at the sentence before it."""
    first = text.split(maxsplit=2)
    return (
        previous is not None
        and bool(first)
        and (first[0].lower().strip("\"'“‘") in _ANAPHORS or " ".join(first[:2]).lower() in _ANAPHOR_PHRASES)
    )


def candidate_sentences(analysis: QueryAnalysis, hits: list[Hit], stored: StoredIndex) -> Candidates:
    """The stored sentences of ``hits``, each once (overlapping chunks share sentences), with everything
    later stages read of them (module doc)."""
    picked = _pick(hits, stored)
    texts, previous_texts, titles, articles, tokenised = _to_tokenise(analysis, hits, picked, stored)
    leaning = [leans_on(text, previous) for _, _, text, previous in picked]
    terms = iter(term_sets(tokenised))
    own, before = [next(terms) for _ in texts], [next(terms) for _ in texts]
    title_terms = {title: next(terms) for title in titles}
    article_terms = {a: next(terms) for a in articles}
    passage_terms = frozenset().union(*terms)
    typed = typed_values_each(texts, analysis.wanted, analysis.text)
    # The years a sentence names, with those of the sentence it leans on.
    named_years = years_each(texts + previous_texts)
    out = []
    for i, (hit, sentence, text, previous) in enumerate(picked):
        article_id = hit.chunk.article_id
        years = named_years[i] | named_years[len(texts) + i] if leaning[i] else named_years[i]
        out.append(
            Candidate(
                article_id, sentence.start, sentence.end, text, hit, previous, sentence.row,
                previous_text=previous_texts[i],
                leans=leaning[i],
                first_in_article=sentence.before is None,
                terms=own[i],
                previous_terms=before[i],
                title_terms=title_terms[stored.articles[article_id].title],
                article_terms=article_terms.get(article_id, frozenset()),
                typed=tuple(typed[i]),
                years=frozenset(years),
            )
        )  # fmt: skip
    return Candidates(out, passage_terms)


def read_ahead(analysis: QueryAnalysis, positions: list[int], stored: StoredIndex, enough: Callable[[], bool]) -> int:
    """Tokenise, ahead of retrieval, what :func:`candidate_sentences` would tokenise for the chunks at
    ``positions`` (the likely hits: BM25's best), one chunk at a time until ``enough()`` says to stop;
    returns how many chunks were read. Work done while the question is embedded (index.newsdesk): the
    BM25 term sets are kept per text (:func:`index.lexical.term_sets`), so the hits among these chunks find
    theirs made; a chunk not retrieved after all costs only this time, which the encoder's hides."""
    read = 0
    if stored.sentences is None:
        return read
    for position in positions:
        if enough():
            break
        hits = [Hit(stored.chunks[position], 0.0, 0)]
        term_sets(_to_tokenise(analysis, hits, _pick(hits, stored), stored)[-1])
        read += 1
    return read


_Picked = tuple[Hit, SentenceRow, str, Span | None]  # (hit, stored sentence, its text, the sentence before it)


def _to_tokenise(
    analysis: QueryAnalysis, hits: list[Hit], picked: list[_Picked], stored: StoredIndex
) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """The candidates' texts, the sentences before them, their titles, the articles whose terms are looked
    for (when the question names anything), and every text whose BM25 terms the candidates need, in one
    list: sentences, sentences before, titles, whole articles and passages that may mention the names."""
    texts = [text for _, _, text, _ in picked]
    previous_texts = [stored.articles[h.chunk.article_id].text[p.start : p.end] if p else "" for h, _, _, p in picked]
    named = bool(analysis.names or analysis.numbers)
    titles = list(dict.fromkeys(stored.articles[hit.chunk.article_id].title for hit, _, _, _ in picked))
    articles = list(dict.fromkeys(hit.chunk.article_id for hit, _, _, _ in picked)) if named else []
    passages = [_passage_text(hit, stored) for hit in hits] if named else []
    whole = [f"{stored.articles[a].title}\n{stored.articles[a].text}" for a in articles]
    return texts, previous_texts, titles, articles, [*texts, *previous_texts, *titles, *whole, *passages]


def _pick(hits: list[Hit], stored: StoredIndex) -> list[_Picked]:
    """(hit, stored sentence, its text, the sentence before it in its paragraph) of every sentence of
    the hits that is not a question, each once, in the hits' order; the sentence store is asked once."""
    sentences = stored.sentences
    if sentences is None:
        raise ValueError("this index has no sentence store; rebuild it with 'newsdesk index --rebuild'")
    found = sentences.within([(h.chunk.article_id, h.chunk.start, h.chunk.end) for h in hits])
    seen: set[int] = set()
    picked = []
    for hit, rows in zip(hits, found, strict=True):
        article = stored.articles[hit.chunk.article_id]
        for sentence in rows:
            if sentence.row in seen:
                continue
            seen.add(sentence.row)
            text = article.text[sentence.start : sentence.end]
            if is_question(text):
                continue
            before = sentence.before
            # Context crosses no paragraph break: a new line starts a new thought.
            paragraph = before is not None and "\n" not in article.text[before.end : sentence.start]
            picked.append((hit, sentence, text, before if paragraph else None))
    return picked


def _passage_text(hit: Hit, stored: StoredIndex) -> str:
    """A passage as it is searched for names: its title, the year of its date (an article speaks of the
    year it is dated even when its text says only "currently") and its text."""
    article = stored.articles[hit.chunk.article_id]
    year = article.date.year if article.date else ""
    return f"{article.title} {year} {hit.chunk.text}"
