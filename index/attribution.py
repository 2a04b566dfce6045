"""Who said a sentence: the speaker an article names for a quoted sentence, from it and its neighbours.

News prose attributes speech in a few shapes, which these rules read (any speaker, any topic):

- ``NAME [has] said/told/announced ...`` ("NATO Secretary-General Jens Stoltenberg has said ...");
- ``"...," said NAME`` (inverted after a quotation) and ``according to NAME``;
- a pronoun (``he said``), resolved to the nearest speaker or name named in the sentences before it;
- a quotation spanning sentences names its speaker once, usually at the end ("“... .  ... ,” Stoltenberg
  told reporters"), so a sentence that opens a quotation is attributed from the sentences that close it,
  and one inside a quotation from the sentence before it, within the same paragraph.

NAME is a run of capitalised words ("U.S. President Donald Trump", "the Taliban") or a definite noun
phrase ("the alliance"). When none of this finds a speaker, :func:`speaker_of` returns ``None``: the
article does not name one, and the caller says so rather than guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.sentences import Span, split_sentences

# Verbs that report speech or writing, in the forms news prose uses.
_VERBS = (
    "said|says|told|tells|announced|announces|stated|states|added|adds|tweeted|tweets|wrote|writes|warned|warns|"
    "declared|declares|noted|notes|explained|explains|insisted|insists|argued|argues|claimed|claims|stressed|"
    "stresses|asserted|asserts|acknowledged|admitted|confirmed|denied|urged|remarked|replied|responded|"
    "commented|described|emphasized|emphasised|pledged|vowed|promised|predicted|suggested|reported|asked|cautioned"
)
_CAP = r"[A-Z][\w'’.]*(?:-[\w'’.]+)*"
_NAME = rf"{_CAP}(?:\s+(?:of\s+|al-|de\s+|von\s+)?{_CAP})*"
# Between a speaker and the verb: auxiliaries and one adverb ("has said", "formally announced").
_BETWEEN = r"(?:(?:has|had|have|also|later|then|previously|again|once|\w+ly)\s+){0,2}"
_PRONOUN = r"[Hh]e|[Ss]he|[Tt]hey"

_NAMED = re.compile(rf"(?P<name>(?:the\s+)?{_NAME})\s+{_BETWEEN}(?:{_VERBS})\b")
_INVERTED = re.compile(rf"[,”\"'’]\s*(?:{_VERBS})\s+(?P<name>(?:the\s+)?{_NAME})")
_ACCORDING = re.compile(rf"\b[Aa]ccording to\s+(?P<name>(?:the\s+)?{_NAME})")
_PRONOUN_SAID = re.compile(rf"\b(?P<name>{_PRONOUN})\s+{_BETWEEN}(?:{_VERBS})\b")
_NOUN_PHRASE = re.compile(rf"\b(?P<name>(?:the|{_CAP}['’]s)\s+[a-z][a-z-]+)\s+{_BETWEEN}(?:{_VERBS})\b")
# A run of two or more capitalised words: how a person is named before "he said" refers back to them.
_PERSON = re.compile(rf"{_CAP}(?:\s+{_CAP})+")
# Capitalised words that open sentences and clauses without naming anyone.
_NOT_NAMES = frozenset("The A An In On At On By For From This That These Those It Its But And Or So If As When".split())  # noqa: SIM905 - a word list reads best as words

_OPEN_QUOTES = "\"“‘'«"
_CLOSE_QUOTES = "\"”’'»"
# How far to look for the sentences that close a quotation or name a pronoun's speaker.
_QUOTE_REACH = 3
_PRONOUN_REACH = 4


@dataclass(frozen=True)
class Attribution:
    """The speaker an article names for a sentence, and the sentence that names them.

    ``distance``: where that sentence is, counted from the quote (0: a quoted sentence, 1: the one after the
    quote, -1: the one before it). ``mention``: where in it the speaker is named (a character offset)."""

    speaker: str
    sentence: str
    distance: int = 0
    mention: int = 0


def speaker_of(article_text: str, quote: str, start: int = 0) -> Attribution | None:
    """The speaker of ``quote`` (a sentence of ``article_text``, or several in a row), or ``None`` when the
    article names none.

    ``start`` is where to look for the quote (a citation's passage offset) when the text holds it twice.

    >>> speaker_of("Peace is near, Jane Doe told reporters.", "Peace is near, Jane Doe told reporters.")
    Attribution(speaker='Jane Doe', sentence='Peace is near, Jane Doe told reporters.', distance=0, mention=15)
    """
    spans = split_sentences(article_text)
    sentences = [article_text[s.start : s.end] for s in spans]
    located = _locate(article_text, quote, start)
    index = _sentence_at(spans, located[0]) if located is not None else None
    if located is None or index is None:
        return None
    # An answer may quote several sentences (one it leans on, a neighbour): each of them is the quote, and the
    # speaker any of them names comes before one a quotation's other sentences name.
    last = _sentence_at(spans, located[1] - 1)
    quoted = range(index, index + 1 if last is None else max(index, last) + 1)
    order = list(quoted)
    for k in quoted:
        order += [i for i in _candidates(sentences, k, _paragraph_of(article_text, spans, k)) if i not in order]
    for i in order:
        found = _speaker_in(sentences[i])
        if found is None:
            continue
        name, mention = found
        if re.fullmatch(_PRONOUN, name):
            named = _resolve_pronoun(sentences, i)
            if named is None:
                continue
            name = named
        distance = 0 if i in quoted else i - index if i < index else i - quoted[-1]
        return Attribution(name, sentences[i], distance, mention)
    return None


def _sentence_at(spans: list[Span], offset: int) -> int | None:
    return next((i for i, s in enumerate(spans) if s.start <= offset < s.end), None)


def _locate(text: str, quote: str, start: int) -> tuple[int, int] | None:
    """Where ``quote`` is in ``text`` (start, end), preferring an occurrence from ``start`` on."""
    quote = quote.strip()
    if not quote:
        return None
    at = text.find(quote, max(0, start))
    if at < 0:
        at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    # Quoted with its white space folded: the whole quote, folded; else its first words (its end unknown: the
    # first sentence alone counts as quoted).
    folded, words = " ".join(text.split()), quote.split()
    whole = " ".join(words)
    from_start = len(" ".join(text[: max(0, start)].split()))  # ``start`` in the folded text, about
    at = folded.find(whole, from_start)
    if at < 0:
        at = folded.find(whole)
    if at >= 0:
        return _unfolded_offset(text, at), _unfolded_offset(text, at + len(whole) - 1) + 1
    at = folded.find(" ".join(words[:6]))
    return None if at < 0 else (_unfolded_offset(text, at), _unfolded_offset(text, at) + 1)


def _unfolded_offset(text: str, folded_at: int) -> int:
    """The offset in ``text`` of character ``folded_at`` of ``" ".join(text.split())``."""
    count, previous_space = 0, True
    for i, ch in enumerate(text):
        space = ch.isspace()
        if space and previous_space:
            continue
        if count >= folded_at and not space:
            return i
        count += 1
        previous_space = space
    return len(text) - 1


def _paragraph_of(text: str, spans: list[Span], index: int) -> set[int]:
    """Indexes of the sentences in the same paragraph (no line break between them) as ``index``."""
    same = {index}
    for step in (-1, 1):
        i = index
        while 0 <= i + step < len(spans):
            left, right = (spans[i + step], spans[i]) if step < 0 else (spans[i], spans[i + step])
            if "\n" in text[left.end : right.start]:
                break
            i += step
            same.add(i)
    return same


def _candidates(sentences: list[str], index: int, paragraph: set[int]) -> list[int]:
    """The sentence itself, then where a quotation it belongs to names its speaker."""
    order = [index]
    sentence = sentences[index].strip()
    opens = sentence[:1] in _OPEN_QUOTES
    if opens and not _closes_quote(sentence):
        order += [i for i in range(index + 1, index + 1 + _QUOTE_REACH) if i in paragraph]
    if opens:
        order += [i for i in range(index - 1, index - 1 - _QUOTE_REACH, -1) if i in paragraph]
    return order


def _closes_quote(sentence: str) -> bool:
    """Whether a sentence that opens a quotation also closes it (so its speaker, if any, is in it)."""
    body = sentence[1:]
    return any(mark in body for mark in "”»") or body.count('"') % 2 == 1


def _speaker_in(sentence: str) -> tuple[str, int] | None:
    """The speaker a sentence names, as written (a pronoun as the pronoun), and where it is named."""
    for pattern in (_INVERTED, _NAMED, _ACCORDING, _PRONOUN_SAID, _NOUN_PHRASE):
        for match in pattern.finditer(sentence):
            name = _trim(match.group("name"))
            if name:
                return name, match.start("name") + match.group("name").find(name.split()[0])
    return None


def _trim(name: str) -> str:
    """The name without the capitalised sentence openers a run of capitals picks up ("In Brussels ...")."""
    words = name.split()
    while len(words) > 1 and words[0] in _NOT_NAMES:
        words = words[1:]
    if len(words) == 1 and words[0] in _NOT_NAMES:
        return ""
    return " ".join(words).rstrip(",.")


def _resolve_pronoun(sentences: list[str], index: int) -> str | None:
    """The speaker a pronoun at ``sentences[index]`` refers to: the nearest named speaker or person before it."""
    for i in range(index - 1, max(-1, index - 1 - _PRONOUN_REACH), -1):
        found = _speaker_in(sentences[i])
        if found is not None and not re.fullmatch(_PRONOUN, found[0]):
            return found[0]
        people = [_trim(m.group(0)) for m in _PERSON.finditer(sentences[i])]
        people = [p for p in people if p]
        if people:
            return people[-1]
    return None
