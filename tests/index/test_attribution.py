"""Who said a sentence (index.attribution), on made-up articles written the ways news prose attributes speech."""

from __future__ import annotations

import pytest

from index.attribution import speaker_of

ARTICLE = """Ministers meet in Oslo

Fisheries Minister Kari Nordmann has said the quota will be cut by a third next year.
"We cannot fish as if the sea were endless. The cod stock is at its lowest in decades," Nordmann told reporters.
The cut follows a report by marine scientists.
According to the Coastal Fishermen's Association, the cut will cost 2,000 jobs.
Opposition leader Ola Hansen criticised the plan. He said the government had ignored the north.
"This is a historic mistake," said Per Olsen, a trawler captain.
The ministry expects the stock to recover by 2030.
"""


@pytest.mark.parametrize(
    "quote,speaker,distance",
    [
        ("Fisheries Minister Kari Nordmann has said the quota will be cut by a third next year.",
         "Fisheries Minister Kari Nordmann", 0),
        # A quotation that opens in one sentence names its speaker where it closes, in the next.
        ('"We cannot fish as if the sea were endless.', "Nordmann", 1),
        ("According to the Coastal Fishermen's Association, the cut will cost 2,000 jobs.",
         "the Coastal Fishermen's Association", 0),
        # A pronoun names the nearest person before it.
        ("He said the government had ignored the north.", "Ola Hansen", 0),
        ('"This is a historic mistake," said Per Olsen, a trawler captain.', "Per Olsen", 0),
        # An answer quoting two sentences (a neighbour joined): the one that names a speaker names the quote's.
        ("The cut follows a report by marine scientists.\nAccording to the Coastal Fishermen's Association, the cut "
         "will cost 2,000 jobs.", "the Coastal Fishermen's Association", 0),
    ],
)  # fmt: skip
def test_the_speaker_is_found_in_the_sentence_or_its_neighbours(quote: str, speaker: str, distance: int) -> None:
    found = speaker_of(ARTICLE, quote)
    assert found is not None
    assert (found.speaker, found.distance) == (speaker, distance)
    if distance:  # where the naming sentence names them, for quoting it from there
        assert found.sentence[found.mention :].startswith(speaker)


@pytest.mark.parametrize(
    "quote",
    [
        "The cut follows a report by marine scientists.",
        "The ministry expects the stock to recover by 2030.",
        "A sentence the article does not hold.",
    ],
)
def test_no_speaker_is_invented(quote: str) -> None:
    assert speaker_of(ARTICLE, quote) is None


def test_a_quote_of_several_sentences_is_attributed_from_its_last_one_on() -> None:
    """A quotation that the quote's last sentence opens names its speaker after the quote: one sentence on."""
    text = 'The talks ended late. "We have a deal. It will hold," Jane Roe said.'
    found = speaker_of(text, 'The talks ended late. "We have a deal.')
    assert found is not None and (found.speaker, found.distance) == ("Jane Roe", 1)


@pytest.mark.parametrize(
    "text,quote,speaker",
    [
        # The quote's white space folded: its end is where its last word is, not its length in characters.
        ("Prices rose sharply. Markets fell. Jane Doe said so.", "Prices  rose  sharply.   Markets fell.", None),
        ("Prices  rose   sharply.\n\nMarkets fell, Jane Doe said. Nobody cared.",
         "Prices rose sharply. Markets fell, Jane Doe said.", "Jane Doe"),
    ],
)  # fmt: skip
def test_a_quote_with_folded_white_space_spans_the_sentences_it_quotes(
    text: str, quote: str, speaker: str | None
) -> None:
    found = speaker_of(text, quote)
    assert (found.speaker if found else None) == speaker


def test_a_folded_quote_is_looked_for_from_where_its_passage_starts() -> None:
    text = '"Prices  rose. Markets fell," Jane Doe said.\n\n"Prices  rose. Markets fell," Bob Roe said.'
    assert speaker_of(text, '"Prices rose.').speaker == "Jane Doe"  # type: ignore[union-attr]
    assert speaker_of(text, '"Prices rose.', text.index("\n\n")).speaker == "Bob Roe"  # type: ignore[union-attr]
