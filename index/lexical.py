"""BM25 over the same chunks as the dense index, stored inside each index generation.

The text indexed for a chunk is the same ``title + chunk`` the dense side embeds, so both retrievers
see the same evidence. Tokens are lower-cased words (digit groups such as ``3,200`` kept whole), minus
English stop words, Snowball-stemmed ("deployed" and "deployment" both become ``deploy``). bm25s does
the indexing and scoring; the index is saved as one ``.npz`` file so the store can checksum it like
every other file of a generation.

Besides the raw BM25 score, :meth:`LexicalIndex.search` reports a *relative* score: the raw score
divided by what a passage of average length holding each distinct question term once would score
(terms absent from the corpus count with the highest IDF). So a passage holding every question term
scores about 1.0 whatever the question, and one sharing no rare term with it scores near 0: the
relative score is comparable across questions (unlike raw BM25) and can be fused with a cosine.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

LEXICAL_NAME = "lexical.npz"
# Bump when tokenisation or scoring changes: the stored matrix would no longer match new questions.
LEXICAL_VERSION = 1

# Digit groups joined by , or . stay one token ("3,200", "2.5"); words keep inner apostrophes/hyphens
# split off, as BM25 works on plain words.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+", re.UNICODE)
# The same pattern for a text that is ASCII once lower-cased (most news text): there ``\d`` and ``[^\W_]`` can
# only match [0-9] and [a-z0-9], and ``re`` matches these plain classes about a third faster than Unicode
# categories (Reuters sentences: 40 -> 28 ms for 3,695).
_ASCII_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[a-z0-9]+")

# Function words that carry no topic. Question words are included: "how", "when" never appear in the
# answer passage in the sense the question uses them.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just many me
    more most much my myself no nor not now of off on once only or other our ours ourselves out over own same
    she should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom whose why will
    with would you your yours yourself yourselves s t don""".split()  # noqa: SIM905 - reads better as prose
)


@dataclass(frozen=True)
class LexicalConfig:
    """How text becomes BM25 tokens and how they are weighted (bm25s' Lucene variant)."""

    stem: bool = True
    drop_stopwords: bool = True
    k1: float = 1.5
    b: float = 0.75

    def to_json(self) -> dict[str, Any]:
        return {"version": LEXICAL_VERSION, "stem": self.stem, "drop_stopwords": self.drop_stopwords,
                "k1": self.k1, "b": self.b}  # fmt: skip


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


# Each word's BM25 token (None: a stop word), per kind of tokenising (stem, drop stop words): a token depends on
# its word alone, and a corpus and its questions keep meeting the same few tens of thousands of words, so a
# lookup replaces stemming again (half of a question's tokenising time on Reuters, where PyStemmer's own cache
# saved little). Started over when full, so a long-running process cannot grow it without limit.
_TOKENS: dict[tuple[bool, bool], dict[str, str | None]] = {}
TOKEN_CACHE = 100_000


def tokenize(text: str, config: LexicalConfig = LexicalConfig()) -> list[str]:  # noqa: B008 - frozen, shared
    """The BM25 tokens of ``text``."""
    known = _TOKENS.setdefault((config.stem, config.drop_stopwords), {})
    tokens = []
    for word in _words(text.lower()):
        try:
            token = known[word]
        except KeyError:  # (rare once a process has read a few articles)
            token = _token(word, config)
            if len(known) >= TOKEN_CACHE:
                known.clear()
            known[word] = token
        if token is not None:
            tokens.append(token)
    return tokens


def _words(lowered: str) -> list[str]:
    """The words of a lower-cased text as :data:`_TOKEN` finds them."""
    return (_ASCII_TOKEN if lowered.isascii() else _TOKEN).findall(lowered)


def _token(word: str, config: LexicalConfig) -> str | None:
    """The BM25 token of one word as the tokenizer finds it (digit groups lose their commas)."""
    word = word.replace(",", "")
    if config.drop_stopwords and word in STOPWORDS:
        return None
    return str(_stemmer().stemWord(word)) if config.stem else word


def tokenize_each(texts: Iterable[str]) -> list[list[str]]:
    """The BM25 tokens of each of ``texts``: one pass for a stage's many small texts (the words whose
    stems :func:`index.evidence.swapped_names` compares)."""
    return [tokenize(text) for text in texts]


def term_sets(texts: Iterable[str]) -> list[frozenset[str]]:
    """The distinct BM25 tokens of each of ``texts``, each text tokenised once per process: a question's
    candidate sentences, the sentences before them, their titles and passages, in one pass (a candidate's
    previous sentence is often the candidate before it, and a bot's questions keep meeting the same
    articles)."""
    return [_term_set(text) for text in texts]


@lru_cache(maxsize=8192)
def _term_set(text: str) -> frozenset[str]:
    return frozenset(tokenize(text))


def read_question(texts: Sequence[str], index: LexicalIndex | None) -> tuple[list[list[str]], dict[str, float]]:
    """What reading a question asks of BM25, in one call: the tokens of each of ``texts`` (the question
    first, then any of its words or phrases), and the IDF in ``index`` of the question's distinct tokens,
    in order (a term the corpus never uses weighs the most; without an index every term weighs 1)."""
    tokens = tokenize_each(texts)
    terms = list(dict.fromkeys(tokens[0])) if tokens else []
    return tokens, index.term_idf(terms) if index is not None else dict.fromkeys(terms, 1.0)


@dataclass(frozen=True)
class LexicalMatch:
    """One chunk's BM25 score for a question: raw (bm25s Lucene) and relative (see module doc)."""

    position: int
    score: float
    relative: float


class LexicalIndex:
    """BM25 over a list of texts; positions are the texts' positions (the chunks' order in the store)."""

    def __init__(self, retriever: Any, config: LexicalConfig, doc_count: int) -> None:
        self.retriever = retriever
        self.config = config
        self.doc_count = doc_count
        if retriever is not None:
            indptr = retriever.scores["indptr"]
            self._df = np.diff(indptr).astype(np.float64)
        else:
            self._df = np.zeros(0)

    @classmethod
    def build(cls, texts: Sequence[str], config: LexicalConfig = LexicalConfig()) -> LexicalIndex:  # noqa: B008
        corpus = [tokenize(t, config) for t in texts]
        if not any(corpus):
            return cls(None, config, len(texts))
        import bm25s

        # bm25s logs "Building index from tokens" at DEBUG on a logger it sets to DEBUG itself.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        retriever = bm25s.BM25(k1=config.k1, b=config.b, method="lucene")
        retriever.index(corpus, show_progress=False)
        return cls(retriever, config, len(texts))

    def idf(self, df: np.ndarray | float) -> np.ndarray:
        """Lucene's IDF, the one bm25s uses for ``method="lucene"``."""
        n = self.doc_count
        return np.log(1.0 + (n - np.asarray(df, dtype=np.float64) + 0.5) / (np.asarray(df, dtype=np.float64) + 0.5))

    def term_idf(self, terms: Sequence[str]) -> dict[str, float]:
        """IDF of each term in the indexed texts (a term they never use gets the highest IDF)."""
        vocab = self.retriever.vocab_dict if self.retriever is not None else {}
        return {t: float(self.idf(self._df[vocab[t]] if t in vocab else 0.0)) for t in terms}

    def never_uses(self, text: str) -> bool:
        """Whether no indexed text can hold ``text``: one of its terms is in none of them (a text with no
        terms, all stop words, may be anywhere)."""
        vocab = self.retriever.vocab_dict if self.retriever is not None else {}
        return any(t not in vocab or self._df[vocab[t]] == 0 for t in tokenize(text, self.config))

    def scores(self, question: str, terms: Sequence[str] | None = None) -> tuple[np.ndarray, float]:
        """Raw BM25 of every text for ``question`` and the normaliser of the relative score.
        ``terms``: the question's tokens when already known (index.query_analysis), else tokenised here."""
        raw = np.zeros(self.doc_count, dtype=np.float32)
        terms = list(dict.fromkeys(tokenize(question, self.config) if terms is None else terms))
        if not terms:
            return raw, 0.0
        vocab = self.retriever.vocab_dict if self.retriever is not None else {}
        known = [vocab[t] for t in terms if t in vocab]
        unknown = len(terms) - len(known)
        weight = float(self.idf(self._df[known]).sum()) if known else 0.0
        weight += unknown * float(self.idf(0.0))
        # Lucene's BM25 gives a term met once in a passage of average length idf / (1 + k1).
        weight /= 1.0 + self.config.k1
        if known:
            raw = np.asarray(self.retriever.get_scores_from_ids(known), dtype=np.float32)
        return raw, weight

    def search(self, question: str, k: int, mask: np.ndarray | None = None) -> list[LexicalMatch]:
        """The ``k`` best-scoring allowed texts that share at least one term with ``question``."""
        if k <= 0 or self.doc_count == 0:
            return []
        raw, weight = self.scores(question)
        if mask is not None:
            raw = np.where(mask, raw, 0.0)
        candidates = np.flatnonzero(raw > 0)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-raw[candidates], k - 1)[:k]]
        # Ties broken by position so the ranking is deterministic.
        order = sorted(candidates.tolist(), key=lambda i: (-float(raw[i]), i))
        return [LexicalMatch(i, float(raw[i]), float(raw[i]) / weight if weight else 0.0) for i in order]

    def save(self, path: Path) -> None:
        """One ``.npz`` file: the bm25s score matrix, its vocabulary and the config."""
        arrays: dict[str, Any] = {
            "meta": np.frombuffer(
                json.dumps({"config": self.config.to_json(), "docs": self.doc_count}).encode(), dtype=np.uint8
            ),  # fmt: skip
        }
        if self.retriever is not None:
            scores = self.retriever.scores
            arrays |= {
                "data": scores["data"],
                "indices": scores["indices"],
                "indptr": scores["indptr"],
                "vocab": np.frombuffer(json.dumps(self.retriever.vocab_dict).encode(), dtype=np.uint8),
            }
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        with open(path, "wb") as handle:
            handle.write(buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        """Read what :meth:`save` wrote. Raises ``ValueError`` when the file is not such an index."""
        with np.load(path, allow_pickle=False) as files:
            meta = json.loads(files["meta"].tobytes().decode())
            stored = meta["config"]
            if stored.pop("version", None) != LEXICAL_VERSION:
                raise ValueError("the BM25 index was made by another tokenizer version")
            config = LexicalConfig(**stored)
            docs = int(meta["docs"])
            if "data" not in files:
                return cls(None, config, docs)
            import bm25s

            retriever = bm25s.BM25(k1=config.k1, b=config.b, method="lucene")
            retriever.scores = {
                "data": files["data"],
                "indices": files["indices"],
                "indptr": files["indptr"],
                "num_docs": docs,
            }
            retriever.vocab_dict = json.loads(files["vocab"].tobytes().decode())
            retriever.unique_token_ids_set = set(retriever.vocab_dict.values())
            retriever.nonoccurrence_array = None  # only BM25L/BM25+ have one; we use Lucene's BM25
        return cls(retriever, config, docs)
