"""Answer extraction: answer types, citations by construction, dated answers, context, abstention."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.answer_types import AnswerType, expected_type, typed_values
from index.answering import OVERVIEW_TEXT, Quote, _lede, abstention, choose, cite
from index.candidates import Candidate
from index.evidence import Evidence, Scored, weigh_evidence
from index.query_analysis import analyse_question
from index.records import Article, Chunk, Hit
from index.search import SearchFilters


@pytest.mark.parametrize(
    "question,wanted",
    [
        ("How many Bundeswehr soldiers were sent?", AnswerType.NUMBER),
        ("By when were foreign forces supposed to leave?", AnswerType.DATE),
        ("On what date did the mission begin?", AnswerType.DATE),
        ("Who is Washington's envoy?", AnswerType.PERSON),
        ("In which country are they negotiating?", AnswerType.PLACE),
        ("What did the Taliban call the mission?", AnswerType.ANY),
    ],
)
def test_expected_type(question: str, wanted: AnswerType) -> None:
    assert expected_type(question) is wanted


def test_typed_values_skip_what_the_question_already_says() -> None:
    question = "How many soldiers were in Afghanistan in 2021?"
    assert typed_values("In 2021 there were 10,000 soldiers.", AnswerType.NUMBER, question) == ["10,000"]
    # A year or the day of a date is not a count.
    assert typed_values("The mission starts on January 1, 2015.", AnswerType.NUMBER, question) == []
    assert typed_values("It ends by September 11.", AnswerType.DATE, "When will it end?") == ["September 11"]


def test_a_place_the_question_names_is_not_its_answer() -> None:
    # What is asserted is which place is offered, not the phrase around it (the values keep their
    # preposition today: "in Qatar"); the question naming a place takes that place out, and only it.
    (place,) = typed_values("Talks are held in Qatar.", AnswerType.PLACE, "Where are talks held?")
    assert "Qatar" in place
    assert typed_values("Talks are held in Qatar.", AnswerType.PLACE, "Where in Qatar are talks held?") == []
    (city,) = typed_values("The talks in Doha, Qatar, resumed.", AnswerType.PLACE, "Where in Qatar are talks held?")
    assert "Doha" in city and "Qatar" not in city


def make_article(n: int, date: dt.date | None, text: str) -> Article:
    return Article(f"a{n}", f"Title {n}", text, "Outlet", date, f"https://example.org/{n}")


def scored(article: Article, sentence: str, score: float, typed: list[str]) -> Scored:
    start = article.text.index(sentence)
    chunk = Chunk(article.id, 0, 0, len(article.text), article.text)
    candidate = Candidate(article.id, start, start + len(sentence), sentence, Hit(chunk, 0.5, 0), None, 0)
    return Scored(candidate, 0.5, 0.0, typed, other_year=False, cosine=score, score=score)


def test_dated_figures_are_given_newest_first() -> None:
    old = make_article(1, dt.date(2014, 12, 29), "The mission has 13,500 soldiers.")
    mid = make_article(2, dt.date(2020, 10, 21), "NATO has around 12,000 troops there.")
    new = make_article(3, dt.date(2021, 4, 14), "About 10,000 NATO soldiers are left.")
    same = make_article(4, dt.date(2020, 1, 1), "NATO has around 12,000 troops, officials say.")
    stored: Any = SimpleNamespace(articles={a.id: a for a in (old, mid, new, same)})
    evidence = Evidence(
        AnswerType.NUMBER,
        [
            scored(mid, mid.text, 1.0, ["12,000"]),
            scored(same, same.text, 0.99, ["12,000"]),  # says nothing new: left out
            scored(old, old.text, 0.95, ["13,500"]),
            scored(new, new.text, 0.93, ["10,000"]),
        ],
    )
    answer = cite("How many troops?", choose(evidence, stored), stored)
    assert answer.text == (
        "As of 2021-04-14: About 10,000 NATO soldiers are left. [1] "
        "As of 2020-10-21: NATO has around 12,000 troops there. [2] "
        "As of 2014-12-29: The mission has 13,500 soldiers. [3]"
    )
    assert [c.doc_id for c in answer.citations] == ["a3", "a2", "a1"]


def test_a_weaker_or_undated_alternative_is_not_added() -> None:
    one = make_article(1, dt.date(2020, 1, 1), "NATO has 12,000 troops.")
    far = make_article(2, dt.date(2021, 1, 1), "NATO has 9,000 troops.")
    undated = make_article(3, None, "NATO has 8,000 troops.")
    stored: Any = SimpleNamespace(articles={a.id: a for a in (one, far, undated)})
    evidence = Evidence(
        AnswerType.NUMBER,
        [scored(one, one.text, 1.0, ["12,000"]), scored(undated, undated.text, 0.99, ["8,000"]),
         scored(far, far.text, 0.5, ["9,000"])],
    )  # fmt: skip
    answer = cite("How many troops?", choose(evidence, stored), stored)
    assert answer.text == "NATO has 12,000 troops. [1]"


@pytest.mark.parametrize("rated,share,joins", [(True, 0.4, True), (True, 0.2, False), (False, 0.4, False)])
def test_a_neighbour_the_answer_model_rates_close_joins_the_quote(rated: bool, share: float, joins: bool) -> None:
    """The sentence after the best one, far behind on the hand-weighted sum, joins the quote when the answer
    model rates it at least NEIGHBOUR_SHARE (0.3) of the best one's probability; never on an unrated sum."""
    claim, completion = "The watchdog was sued on Monday.", "Media Matters stood by its reporting."
    article = make_article(1, dt.date(2023, 11, 20), f"{claim} {completion} Shares fell.")
    stored: Any = SimpleNamespace(articles={article.id: article})
    best, after = scored(article, claim, 1.0, []), scored(article, completion, 0.5, [])  # rule margin 0.5 > 0.15
    after.candidate = replace(after.candidate, row=1)
    if rated:
        best.score, after.score = 0.5, 0.5 * share
    evidence = Evidence(AnswerType.ANY, [best, after], rated=rated)
    answer = cite("Who was sued?", choose(evidence, stored), stored)
    assert (completion in answer.text) is joins
    assert answer.text.startswith(claim)


def test_a_neighbour_within_the_margin_is_not_displaced_by_one_the_model_rates_higher() -> None:
    """The margin's choice comes first: the share only adds a neighbour where the margin found none."""
    before, claim, after = "Before it came this.", "The watchdog was sued on Monday.", "Media Matters stood by it."
    article = make_article(1, dt.date(2023, 11, 20), f"{before} {claim} {after}")
    stored: Any = SimpleNamespace(articles={article.id: article})
    best, first, last = (
        scored(article, claim, 1.0, []),
        scored(article, before, 0.5, []),
        scored(article, after, 0.9, []),
    )
    best.candidate, last.candidate = replace(best.candidate, row=1), replace(last.candidate, row=2)
    best.score, first.score, last.score = 0.5, 0.45, 0.05  # the model: before 0.9 of the best, after 0.1
    evidence = Evidence(AnswerType.ANY, [best, first, last], rated=True)
    assert cite("Who was sued?", choose(evidence, stored), stored).text == f"{claim} {after} [1]"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2)), min_size=1, max_size=8))
def test_markers_and_citations_agree_by_construction(picks: list[tuple[int, int]]) -> None:
    """Whatever quotes are cited, in any order and with repeats, every marker is a listed source, every
    source is cited in the text, no article is listed twice, and numbers run 1..n."""
    sentences = ["First claim here.", "Second claim here.", "Third claim here."]
    articles = [make_article(n, dt.date(2020, 1, 1 + n), " ".join(sentences)) for n in range(5)]
    stored: Any = SimpleNamespace(articles={a.id: a for a in articles})
    quotes = []
    for article_n, sentence_n in picks:
        s = scored(articles[article_n], sentences[sentence_n], 1.0, [])
        quotes.append(Quote(s.candidate, s.candidate.start, s.candidate.end, 1.0))
    answer = cite("q", quotes, stored)
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", answer.text)]
    numbers = [c.number for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    assert set(markers) == set(numbers)
    assert len({c.doc_id for c in answer.citations}) == len(answer.citations)
    for c in answer.citations:
        assert c.quote in c.passage and c.quote in answer.text and c.url and c.date and c.title


def test_pronoun_sentence_is_quoted_with_the_sentence_it_leans_on(news_desk) -> None:
    answer = news_desk.ask("When did Okafor say the work would end?")
    assert "She said the work would begin in May 2019 and end by September 2021." in answer.text
    assert '"This bridge joins the two halves of our city," Okafor said.' in answer.text
    assert answer.citations[0].quote in answer.citations[0].passage


def test_answer_stage_embeds_nothing_but_the_question(tmp_path) -> None:
    """Sentences and the corpus's words are embedded with the articles. Answering embeds the question once,
    the question's words the corpus lacks (to find a word said in other words, index.word_vectors: each
    once per process) and the question without a name it holds (index.evidence.name_pulls): never a
    passage, sentence or word of the corpus. Every encoder call is seen, the word store's included: the
    desk is built on a recording embedder."""
    from index.sentences import split_sentences
    from tests.conftest import NEWS_DIR, fake_settings, open_fake_desk
    from tests.fake_embedder import HashingEmbedder

    class Recording(HashingEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[list[str]] = []

        def encode(self, texts, batch_size=32, show_progress=False):
            self.calls.append(list(texts))
            return super().encode(texts, batch_size, show_progress)

    recording = Recording()
    desk = open_fake_desk(fake_settings(NEWS_DIR, tmp_path / "index"), recording)
    recording.calls.clear()
    corpus_sentences = {a.text[s.start : s.end] for a in desk.stored.articles.values() for s in split_sentences(a.text)}
    vocabulary = {w.lower() for a in desk.stored.articles.values() for w in re.findall(r"[^\W_]+", a.title + a.text)}
    question = "How many passengers did the ferry company carry by boat in 2019?"
    answer = desk.ask(question)
    assert answer.confidence is not None  # passages were found and their sentences rated
    first, *rest = recording.calls
    assert first == [question]
    embedded = [text for call in rest for text in call]
    words = [t for t in embedded if " " not in t]
    assert "boat" in words, "the word store's calls are seen"  # the one plain word the articles lack
    assert set(words) <= {w.lower() for w in re.findall(r"[^\W_]+", question)} - vocabulary
    assert len(words) == len(set(words))  # no word twice
    variants = [t for t in embedded if " " in t]
    assert all(set(v.split()) < set(question.split()) for v in variants), variants  # the question less a name
    assert not corpus_sentences & set(embedded)
    # Asked again, every word is known: the question alone is embedded (with its name variants, if any).
    recording.calls.clear()
    assert desk.ask(question).text == answer.text
    again = [t for call in recording.calls for t in call]
    assert again[0] == question and all(" " in t for t in again)


def test_stored_sentence_vectors_point_at_their_sentences(news_desk) -> None:
    """Each stored sentence row is the pooled embedding of the sentence it points at: nearer to that
    sentence embedded alone than to any other sentence of the corpus (index/sentence_index.py)."""
    sentences = news_desk.stored.sentences
    assert sentences is not None and len(sentences) > 30
    rows = (0, len(sentences) // 2, len(sentences) - 1)
    texts = []
    for row in rows:
        article = news_desk.stored.articles[sentences.article_ids[int(sentences.owners[row])]]
        texts.append(article.text[int(sentences.starts[row]) : int(sentences.ends[row])])
    fresh = news_desk.embedder.encode(texts)
    similarity = fresh @ sentences.vectors.astype("float32").T
    assert [int(i) for i in similarity.argmax(axis=1)] == list(rows), texts


def test_question_about_another_year_abstains(seed_desk) -> None:
    # The articles give Afghan losses for 2014 only.
    answer = seed_desk.ask("How many Afghan soldiers were killed in 2019?")
    assert answer.abstained and answer.closest_matches and not answer.citations


@pytest.mark.parametrize(
    "filters,article",
    [
        ({"until": dt.date(2019, 12, 31)}, "bridge-approved"),
        ({"since": dt.date(2021, 1, 1), "until": dt.date(2021, 12, 31)}, "bridge-delayed"),
        ({"since": dt.date(2022, 1, 1)}, "bridge-opens"),
        ({"outlet": "northvale"}, "bridge-approved"),
    ],
)
def test_filters_keep_answers_within_dates_and_outlet(news_desk, filters: dict[str, Any], article: str) -> None:
    answer = news_desk.ask("How many euros will the bridge cost?", **filters)
    assert answer.citations, answer.text
    assert {c.doc_id for c in answer.citations} == {article}


def test_tell_me_about_gives_the_ledes_of_the_closest_articles_newest_first(news_desk) -> None:
    answer = news_desk.ask("Tell me about the Northvale harbour bridge")
    assert not answer.abstained and answer.overview and answer.text.startswith(OVERVIEW_TEXT)
    assert [c.doc_id for c in answer.citations] == ["bridge-opens", "bridge-delayed", "bridge-approved"]
    for citation in answer.citations:  # each article's first sentence, dated, cited
        lede = news_desk.stored.articles[citation.doc_id].text.split("\n")[0]
        assert citation.quote == lede and f"{citation.date}: {lede} [{citation.number}]" in answer.text
    # "What's the latest ...": the same, limited by the day asked.
    asked_2021 = news_desk.ask("What's the latest on the harbour bridge?", as_of=dt.date(2021, 12, 31))
    assert [c.doc_id for c in asked_2021.citations] == ["bridge-delayed", "bridge-approved"]


def test_an_overview_of_what_no_article_mentions_abstains(news_desk) -> None:
    answer = news_desk.ask("Tell me about the Mars landing")
    assert answer.abstained and "Mars" in answer.missing
    unrelated = news_desk.ask("What is happening with the orchestra?")  # a word no article holds
    assert unrelated.abstained and not unrelated.overview
    # The bridge is spoken of, but no passage names Oslo: said, not papered over with ledes about the bridge.
    oslo = news_desk.ask("Tell me about the Northvale harbour bridge, Oslo")
    assert oslo.abstained and oslo.missing == ["Oslo"]
    # Articles that say only part of the subject do not speak of it: "annual budget" weighs more than "bridge".
    assert not news_desk.ask("Tell me about the harbour bridge annual budget reserves").overview


def test_an_overview_asked_about_a_year_keeps_the_articles_of_or_naming_it(news_desk) -> None:
    answer = news_desk.ask("Tell me about the harbour bridge in 2022")
    assert answer.overview and "bridge-approved" not in {c.doc_id for c in answer.citations}  # 2019, no "2022"
    assert "bridge-opens" in {c.doc_id for c in answer.citations}


@pytest.mark.parametrize(
    "opening",
    ["Photo: AFP.", "Updated: 14 April 2021, 10:32 a.m.", "By Jane Doe, Reuters.", "Listen to this article:",
     "Who will pay for the bridge?"],
)  # fmt: skip
def test_a_lede_is_the_first_sentence_that_reads_as_one(opening: str) -> None:
    for lede in ("KABUL: Afghanistan's government said on Monday that the talks would resume next week.",
                 'Stoltenberg said: "We went into Afghanistan together and we will leave together."'):  # fmt: skip
        start, end, _ = _lede(make_article(2, None, f"{lede} It was agreed.")) or (0, 0, 0)
        assert (start, end) == (0, len(lede))  # a dateline, a speaker's colon: no label
    lede = "The Northvale council approved the harbour bridge on Monday after eleven years of debate."
    article = make_article(1, dt.date(2019, 3, 4), f"{opening}\n\n{lede} It will cost 48 million euros.")
    start, end, after = _lede(article) or (0, 0, 0)
    assert article.text[start:end] == lede and article.text[start:after].endswith("48 million euros.")


def test_filters_that_exclude_everything_abstain(news_desk) -> None:
    answer = news_desk.ask("How many euros will the bridge cost?", since=dt.date(2030, 1, 1))
    assert answer.abstained and not answer.citations


def test_a_year_like_number_that_counts_things_is_a_number() -> None:
    question = "How many cars did the company sell?"
    assert typed_values("The company sold 2000 cars last month.", AnswerType.NUMBER, question) == ["2000"]
    assert typed_values("In 2000 the company sold cars.", AnswerType.NUMBER, question) == []
    assert typed_values("Before the 2016 elections it sold cars.", AnswerType.NUMBER, question) == []
    assert typed_values("It was founded in 1987 and sold cars.", AnswerType.NUMBER, question) == []


def test_dates_and_plural_date_questions() -> None:
    assert typed_values("Forces will leave by May 2021.", AnswerType.DATE, "By when?") == ["May 2021"]
    assert typed_values("It starts on May 1, 2015.", AnswerType.DATE, "When?") == ["May 1, 2015"]
    assert expected_type("During which years were the Taliban in power?") is AnswerType.DATE


def test_a_question_naming_what_no_passage_mentions_abstains(seed_desk) -> None:
    # NATO, its members and its history are all over the articles; Finland is not.
    answer = seed_desk.ask("When did Finland join NATO?")
    assert answer.abstained and not answer.citations


def _absent_share(desk, question: str) -> float:
    from index.candidates import candidate_sentences
    from index.evidence import unmentioned_names
    from index.query_analysis import analyse_question

    analysis = analyse_question(question, desk.stored.lexical_index())
    missing, named = unmentioned_names(analysis, candidate_sentences(analysis, desk.search(question), desk.stored))
    return len(missing) / named if named else 0.0


def test_missing_names_count_names_and_numbers_not_calendar_words(news_desk) -> None:
    def share(question: str) -> float:
        return _absent_share(news_desk, question)

    assert share("How many vehicles crossed the Northvale bridge in March 2022?") == 0.0  # March: a date, not a name
    assert share("When did Finland build the Northvale bridge?") == 0.5  # Finland missing, Northvale there
    # 2015 missing; Brennan and Valley there.
    assert share("How many apples did the Brennan Valley growers pick in 2015?") == pytest.approx(1 / 3)


def test_an_article_speaks_of_the_year_it_is_dated(news_desk) -> None:
    # The opening story of 2022-03-20 says "on Saturday", never "2022".
    question = "How many vehicles crossed the bridge in 2022?"
    top = news_desk.search(question)[0].chunk.article_id
    assert top == "bridge-opens" and "2022" not in news_desk.stored.articles[top].text
    assert _absent_share(news_desk, question) == 0.0
    assert _absent_share(news_desk, "How many vehicles crossed the bridge in 2023?") > 0


def test_a_name_is_meant_when_taking_it_out_moves_the_question_away(seed_desk) -> None:
    from index.evidence import name_pulls, names_meant

    sentence = "Up to 850 German troops will also be deployed to Afghanistan as part of the Resolute Support Mission."
    vector = seed_desk.embedder.encode([sentence])[0]
    encode = seed_desk.embedder.encode

    def pull(question: str, name: str) -> float:
        return name_pulls(question, [name], vector, encode)[0]

    # The Bundeswehr is the German armed forces: the sentence speaks of it without the word, so the
    # name pulls the question toward it; other nations' troops pull it away.
    template = "How many {} soldiers were going to take part in the follow-on mission?"
    meant = pull(template.format("Bundeswehr"), "Bundeswehr")
    assert meant > 0
    for other in ("Turkish", "French", "Dutch"):
        assert pull(template.format(other), other) < 0 < meant
    assert pull("How many soldiers will Finland deploy?", "Finland") < 0
    # A number is never meant under another spelling.
    assert names_meant("How many soldiers will be deployed in 2019?", ["2019"], vector, encode) == []


def test_a_sentence_saying_a_question_word_in_other_words_holds_it(embedder) -> None:
    from index.evidence import SOFT_FROM, paraphrased_terms
    from index.word_vectors import WordVectors

    words = WordVectors(embedder.encode)
    asked = {"journalist": "journalists", "citi": "city"}
    told, unrelated = paraphrased_terms(
        asked, ["Stoltenberg told reporters in Brussels.", "The harvest was poor this year."], words
    )
    assert set(told) == {"journalist"} and told["journalist"] >= SOFT_FROM
    assert unrelated == {}
    # A word the text holds (stemmed) is not "paraphrased": exact overlap already counts it.
    assert paraphrased_terms({"journalist": "journalists"}, ["Journalists asked him."], words) == [{}]
    # Associated is not the same: heroin is not opium, a year is not annual.
    assert paraphrased_terms({"opium": "opium"}, ["The country produces most of the world's heroin."], words) == [{}]


def test_paraphrases_are_looked_for_only_in_texts_that_lack_an_asked_term(fake_embedder) -> None:
    """A text holding every asked term can get no credit: its words are not looked up; the others' credit is
    what asking about them alone gives."""
    from index.evidence import paraphrased_terms
    from index.word_vectors import WordVectors

    looked_up: list[str] = []

    class Recording(WordVectors):
        def of(self, words):
            words = list(words)
            looked_up.extend(words)
            return super().of(words)

    asked = {"troop": "troops", "deploy": "deployed"}
    texts = ["Troops were deployed to the north.", "Soldiers were sent there.", "The harvest was poor."]
    held = [{"troop", "deploy"}, {"sent"}, {"harvest"}]
    credit = paraphrased_terms(asked, texts, Recording(fake_embedder.encode), held)
    assert "north" not in looked_up and {"soldiers", "harvest", "troops"} <= set(looked_up)
    assert credit[0] == {}
    for n in (1, 2):
        assert credit[n] == paraphrased_terms(asked, [texts[n]], WordVectors(fake_embedder.encode), [held[n]])[0]


def test_plain_words_leave_names_to_be_found_as_written() -> None:
    from index.query_analysis import analyse_question

    analysis = analyse_question("How many Turkish troops are stationed in Afghanistan?")
    assert set(analysis.terms) == {"turkish", "troop", "station", "afghanistan"}
    assert analysis.plain_words == {"troop": "troops", "station": "stationed"}


def test_a_date_outside_the_month_asked_about_is_not_an_answer() -> None:
    question = "On what date did the Taliban enter Kabul in August 2021?"
    sentence = "Foreign forces will leave by May 2021; the Taliban entered the city on August 15."
    assert typed_values(sentence, AnswerType.DATE, question) == ["August 15"]
    assert typed_values(sentence, AnswerType.DATE, "When will foreign forces leave?") == ["May 2021", "August 15"]


def test_the_person_a_who_question_names_is_not_its_answer() -> None:
    # Which person is offered, not the words the name pattern takes around it (today it takes "State"
    # of "Secretary of State" into the name: not asserted either way).
    sentence = "NATO Secretary-General Jens Stoltenberg met Secretary of State Antony Blinken."
    (other,) = typed_values(sentence, AnswerType.PERSON, "Who succeeded Stoltenberg?")
    assert "Antony Blinken" in other and "Stoltenberg" not in other
    (other,) = typed_values(sentence, AnswerType.PERSON, "Who did Blinken meet?")
    assert "Jens Stoltenberg" in other and "Blinken" not in other
    both = typed_values(sentence, AnswerType.PERSON, "Who met whom?")
    assert any("Stoltenberg" in v for v in both) and any("Blinken" in v for v in both)


def test_the_noun_a_question_asks_for_is_said_by_a_value_of_its_kind(seed_desk) -> None:
    import dataclasses

    from index.answer_types import class_noun
    from index.evidence import weigh_evidence
    from index.query_analysis import QueryAnalysis, analyse_question

    assert class_noun("In what city did the alliance's chief speak?") == "city"
    assert class_noun("What years did the mission last?") == "year"
    assert class_noun("How many troops were in which country?") is None  # a number says nothing of "country"
    assert class_noun("What did the Taliban call the mission?") is None

    question = "In what city did Stoltenberg speak to reporters?"
    hits = seed_desk.search(question)
    query = seed_desk.embedder.encode([question])[0]
    analysis = analyse_question(question, seed_desk.stored.lexical_index())

    def terms_by_sentence(analysis: QueryAnalysis) -> dict[str, float]:
        evidence = weigh_evidence(analysis, hits, seed_desk.stored, query)
        return {s.candidate.text: s.terms for s in evidence.ranked}

    credited = terms_by_sentence(analysis)
    plain = terms_by_sentence(dataclasses.replace(analysis, noun=None, noun_terms=frozenset()))
    city = analysis.weights["citi"] / analysis.total_weight
    # "... told reporters in Brussels" says the city by naming it; a sentence naming no place does not.
    brussels = next(t for t in credited if "reporters in Brussels" in t)
    assert credited[brussels] == pytest.approx(plain[brussels] + city)
    placeless = [t for t in credited if not typed_values(t, AnswerType.PLACE, question)]
    assert placeless and all(credited[t] == plain[t] for t in placeless)


def test_only_a_name_no_article_uses_is_said_to_be_missing_from_the_articles(news_desk) -> None:
    # Ingrid Salo is in the apple-harvest article (2020), not in the passages of 2019 this question retrieves;
    # no article names Finland. "They say nothing about Ingrid Salo" would be false of the collection.
    question = "Did Ingrid Salo and Finland back the harbour bridge?"
    hits = news_desk.search(question, filters=SearchFilters(until=dt.date(2019, 12, 31)))
    assert hits and all("Salo" not in hit.chunk.text for hit in hits)
    evidence = Evidence(AnswerType.ANY, absent=["Ingrid", "Salo", "Finland"])
    answer = abstention(question, hits, news_desk.stored, evidence)
    assert answer.abstained and answer.missing == ["Ingrid Salo", "Finland"]
    assert "They say nothing about Finland." in answer.text
    assert "The passages closest to the question say nothing about Ingrid Salo." in answer.text
    assert "nothing about Ingrid Salo or Finland" not in answer.text


def test_a_year_an_article_is_dated_in_or_a_surname_it_uses_is_not_said_to_be_absent(news_desk) -> None:
    # 2020 is in no text, but the apple-harvest article is dated 2020-09-01; "Lind" (the chief engineer, 2021)
    # is used though "Peter" is not: neither "2020 growers" nor "Peter Lind" is absent from the articles.
    hits = news_desk.search("Did the bridge council meet?", filters=SearchFilters(until=dt.date(2019, 12, 31)))
    for question, absent, phrase in [
        ("What did the 2020 growers say about the harbour bridge?", ["2020"], "2020 growers"),
        ("Did Peter Lind approve the harbour bridge?", ["Peter", "Lind"], "Peter Lind"),
    ]:
        answer = abstention(question, hits, news_desk.stored, Evidence(AnswerType.ANY, absent=absent))
        assert answer.missing == [phrase]
        assert answer.text.endswith(f"The passages closest to the question say nothing about {phrase}."), answer.text
        assert "They say nothing" not in answer.text


def test_the_nearest_passage_is_given_only_when_it_shares_a_word_with_the_question(news_desk) -> None:
    question = "How many Finnish ferries carry cars across the harbour?"
    analysis = analyse_question(question, news_desk.stored.lexical)
    hits = news_desk.search(question)
    evidence = weigh_evidence(analysis, hits, news_desk.stored, news_desk.embedder.encode([question])[0])
    best = evidence.best
    assert best is not None and best.candidate.terms & set(analysis.terms)
    evidence.absent = ["Finnish"]
    near = abstention(question, hits, news_desk.stored, evidence, asked=analysis.terms)
    assert near.nearest is not None and near.nearest.quote.endswith(best.candidate.text) and near.nearest.number == 0
    assert near.nearest.quote in near.nearest.passage and not near.citations
    # The same best sentence for a question it shares no word with: no nearest passage, only the titles.
    assert abstention(question, hits, news_desk.stored, evidence, asked=("zebra",)).nearest is None
    evidence.absent = []  # nothing named is missing: a low-confidence abstention still shows it (labelled unsure)
    unsure = abstention(question, hits, news_desk.stored, evidence, asked=analysis.terms)
    assert unsure.nearest == near.nearest and not unsure.missing
    assert abstention(question, [], news_desk.stored).nearest is None  # nothing retrieved: nothing to show
