"""The development benchmark: questions with and without an answer, split train / validation / test.

Every quality decision about answers (the answer model, its threshold) is made on these splits and
reported on *test* only (docs/QUALITY.md). Built from ``$NEWSDESK_DATA`` (default ``../shared/data``);
nothing is copied into the repository.

* ``squad``: SQuAD 2.0 dev (11,873 questions, 5,945 of them unanswerable: written by crowd workers to
  look answerable from the paragraph they saw) and the SQuAD 1.1 dev questions 2.0 does not repeat.
  Every paragraph is an article (titled with its Wikipedia article: "Normans (Wikipedia)"). Split by
  Wikipedia article (48: all of xquad-en's too), so no article's paragraphs serve two splits.
* ``news``: RealTime QA's weekly news quizzes (2020-2021, 2023-2026; 4,118 questions with an evidence
  passage). Each evidence passage is an article dated with its quiz's date and credited to the quiz's
  outlet; the answer is the correct choice. Split by quiz week. Questions whose answer is not written
  in their passage ("Which of these is not ...?") count for retrieval but not for answers.

*Near misses* are the answerable questions asked again with their own article left out
(:class:`index.search.SearchFilters` ``exclude``): the articles are then on the topic but hold no
answer, and Newsdesk should say so.

The *long* variants hold the same questions and text, split the same way, in articles as long as the
news archives Newsdesk is used on (about 4-5k characters, like a CNN story), so that chunking, passage
ranks and "the other sentences of the same article" behave as they do there:

* ``squad-long``: consecutive paragraphs of one Wikipedia article joined into documents of at least
  :data:`LONG_CHARS` characters (the last of an article may be shorter). A near miss leaves out the
  whole document; near misses whose answer is written in another document of the same Wikipedia article
  are not asked (that document may well answer them).
* ``news-long``: the evidence passages of one quiz date (the week's news) joined, in the quiz's order,
  into digests closed once they reach :data:`LONG_CHARS` characters, dated the quiz date and credited to the outlet
  of most of them, untitled like the short variant (the loader titles them by their first sentence).
  RealTime QA gives a sentence or two of each story, not the story, so a real article cannot be
  rebuilt; a digest puts each passage among other news of the same days, as a news archive does.
"""

from __future__ import annotations

import datetime as dt
import gzip
import html
import json
import random
import re
from dataclasses import dataclass, replace
from pathlib import Path

from tests.bench.datasets import BenchArticle, data_root, write_corpus

SPLITS = ("train", "validation", "test")
SPLIT_SHARES = (0.6, 0.2, 0.2)
SPLIT_SEED = 20261130
LONG_CHARS = 4000  # a long variant's document: about a news article's length (held-out CNN articles: ~4.4k)


@dataclass(frozen=True)
class DevQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # empty: unanswerable as written
    gold: frozenset[str]  # ids of the articles that answer it (empty: unanswerable)
    split: str
    asked_on: str = ""  # ISO date the question was asked (news)
    extractive: bool = True  # an answer string is written in its gold article
    near_miss: bool = True  # asked again without its gold article(s) (False: another article may answer it)

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


@dataclass
class DevSet:
    name: str
    articles: list[BenchArticle]
    questions: list[DevQuestion]

    def write_corpus(self, folder: Path) -> Path:
        return write_corpus(self.articles, folder)

    def split(self, name: str) -> list[DevQuestion]:
        return [q for q in self.questions if q.split == name]


def assign_splits(groups: list[str], seed: int = SPLIT_SEED) -> dict[str, str]:
    """Each group (an article title, a quiz week) to one split, 60/20/20, by a fixed shuffle."""
    ordered = sorted(set(groups))
    random.Random(seed).shuffle(ordered)
    cut1 = round(len(ordered) * SPLIT_SHARES[0])
    cut2 = cut1 + round(len(ordered) * SPLIT_SHARES[1])
    return {g: ("train" if n < cut1 else "validation" if n < cut2 else "test") for n, g in enumerate(ordered)}


def _squad_versions(root: Path | None) -> tuple[list[dict], list[dict]]:
    folder = (root or data_root()) / "squad"
    with gzip.open(folder / "dev-v2.0-explorer.json.gz", "rt", encoding="utf-8") as handle:
        v2 = json.load(handle)["data"]
    with gzip.open(folder / "dev-v1.1-explorer.json.gz", "rt", encoding="utf-8") as handle:
        v1 = json.load(handle)["data"]
    return v2, v1


def load_squad(root: Path | None = None) -> DevSet:
    v2, v1 = _squad_versions(root)
    splits = assign_splits([a["title"] for a in v1 + v2])
    articles: dict[tuple[str, str], BenchArticle] = {}
    questions: dict[str, DevQuestion] = {}
    for version in (v2, v1):  # 2.0 first: it holds the unanswerable questions; 1.1 adds the rest
        for entry in version:
            title = entry["title"]
            for paragraph in entry["paragraphs"]:
                key = (title, paragraph["context"])
                if key not in articles:
                    slug = re.sub(r"\W+", "-", title).strip("-").lower()
                    articles[key] = BenchArticle(f"sq-{slug}-{len(articles)}", _headline(title), key[1])
                article_id = articles[key].id
                for qa in paragraph["qas"]:
                    if qa["id"] in questions:
                        continue
                    answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a["text"].strip()))
                    impossible = qa.get("is_impossible", False) or not answers
                    questions[qa["id"]] = DevQuestion(
                        qa["id"], qa["question"].strip(), () if impossible else answers,
                        frozenset() if impossible else frozenset({article_id}), splits[title],
                    )  # fmt: skip
    return DevSet("squad", list(articles.values()), list(questions.values()))


def load_squad_long(root: Path | None = None) -> DevSet:
    """SQuAD in documents of consecutive paragraphs of one Wikipedia article (see the module's doc)."""
    short = load_squad(root)
    by_title: dict[str, list[BenchArticle]] = {}
    for article in short.articles:  # in the files' order: SQuAD keeps an article's paragraphs in order
        by_title.setdefault(article.title, []).append(article)
    document_of: dict[str, str] = {}
    documents: list[BenchArticle] = []
    for title, paragraphs in by_title.items():
        slug = re.sub(r"\W+", "-", title).strip("-").lower()
        for group in _consecutive(paragraphs):
            doc = BenchArticle(f"sql-{slug}-{len(documents)}", title, "\n\n".join(p.text for p in group))
            documents.append(doc)
            document_of.update((p.id, doc.id) for p in group)
    folded = {d.id: f" {_normalise(d.text)} " for d in documents}
    siblings = {d.id: [o.id for o in documents if o.title == d.title and o.id != d.id] for d in documents}
    questions = []
    for q in short.questions:
        gold = frozenset(document_of[a] for a in q.gold)
        others = [o for g in gold for o in siblings[g]]
        answered_elsewhere = any(_holds(folded[o], q.answers) for o in others)
        questions.append(replace(q, gold=gold, near_miss=not answered_elsewhere))
    return DevSet("squad-long", documents, questions)


def _headline(title: str) -> str:
    # "Normans (Wikipedia)": the loader takes a one-word line for no headline and would title each
    # article by its first sentence; a news article's headline names its subject, and so should these.
    return f"{title.replace('_', ' ')} (Wikipedia)"


def _consecutive(paragraphs: list[BenchArticle]) -> list[list[BenchArticle]]:
    groups: list[list[BenchArticle]] = [[]]
    for p in paragraphs:
        if sum(len(x.text) for x in groups[-1]) >= LONG_CHARS:
            groups.append([])
        groups[-1].append(p)
    return [g for g in groups if g]


def load_news_long(root: Path | None = None) -> DevSet:
    """RealTime QA with each quiz date's evidence passages joined into digests (see the module's doc)."""
    short = load_news(root)
    by_date: dict[str, list[BenchArticle]] = {}
    for article in short.articles:
        by_date.setdefault(article.date, []).append(article)
    document_of: dict[str, str] = {}
    documents: list[BenchArticle] = []
    for date, passages in by_date.items():
        for group in _consecutive(passages):
            outlet = max(sorted({p.outlet for p in group}), key=[p.outlet for p in group].count)
            doc = BenchArticle(f"rtl-{date}-{len(documents)}", "", "\n\n".join(p.text for p in group), date, outlet)
            documents.append(doc)
            document_of.update((p.id, doc.id) for p in group)
    questions = [replace(q, gold=frozenset(document_of[a] for a in q.gold)) for q in short.questions]
    return DevSet("news-long", documents, questions)


_TAG = re.compile(r"<[^>]+>")


def load_news(root: Path | None = None) -> DevSet:
    root = root or data_root()
    rows = []
    for path in sorted((root / "realtimeqa").glob("*/*/*_qa.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    rows = [r for r in rows if r.get("evidence", "").strip()]
    splits = assign_splits([r["question_date"] for r in rows])
    articles: dict[str, BenchArticle] = {}
    used: set[str] = set()
    questions: list[DevQuestion] = []
    for r in rows:
        passage = " ".join(html.unescape(_TAG.sub("", r["evidence"])).split())
        date = dt.date(*map(int, re.split(r"[/-]", r["question_date"])[:3])).isoformat()
        if passage not in articles:
            article_id = f"rt-{r['question_id']}"
            while article_id in used:  # a few quiz ids repeat across the archive's folders
                article_id += "+"
            used.add(article_id)
            articles[passage] = BenchArticle(article_id, "", passage, date, r["question_source"])
        answer = r["choices"][int(r["answer"][0])].strip()
        questions.append(
            DevQuestion(
                r["question_id"], " ".join(r["question_sentence"].split()), (answer,),
                frozenset({articles[passage].id}), splits[r["question_date"]], date,
                extractive=contains_answer(passage, (answer,)),
            )
        )  # fmt: skip
    return DevSet("news", list(articles.values()), questions)


LOADERS = {"squad": load_squad, "news": load_news, "squad-long": load_squad_long, "news-long": load_news_long}


def _normalise(text: str) -> str:
    text = text.casefold().replace("’", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 13,500 = 13500
    return " ".join(re.sub(r"[^\w%$'.-]+", " ", text).split())


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    """Any answer in ``text``, case- and punctuation-blind, on word boundaries ("Ghani" is not in "Afghanistan")."""
    return _holds(f" {_normalise(text)} ", answers)


def _holds(haystack: str, answers: tuple[str, ...]) -> bool:
    for answer in answers:
        needle = _normalise(answer).strip(" .")
        if needle and re.search(rf"(?<![\w]){re.escape(needle)}(?![\w])", haystack):
            return True
    return False
