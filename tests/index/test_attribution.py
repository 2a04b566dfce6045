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
