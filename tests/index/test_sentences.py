from __future__ import annotations

from index.sentences import is_heading, split_sentences


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_splits_at_full_stops_and_line_breaks() -> None:
    assert sentences("One here. Two there!\nHeading\nThree? Yes.") == [
        "One here.", "Two there!", "Heading", "Three?", "Yes.",
    ]  # fmt: skip


def test_abbreviations_and_numbers_do_not_split() -> None:
    text = "U.S. commanders cut troops to 4.500 by Nov. 1, said Gen. Smith. Mr. J. Doe agreed."
    assert sentences(text) == [
        "U.S. commanders cut troops to 4.500 by Nov. 1, said Gen. Smith.",
        "Mr. J. Doe agreed.",
    ]


def test_quotes_stay_with_their_sentence() -> None:
    text = '"We will leave together." Stoltenberg said so. “They must negotiate.” He added.'
    expected = ['"We will leave together."', "Stoltenberg said so.", "“They must negotiate.”", "He added."]
    assert sentences(text) == expected


def test_offsets_map_back_to_the_text() -> None:
    text = "  Alpha beta.   Gamma delta?\n\n Epsilon. "
    for span in split_sentences(text):
        piece = text[span.start : span.end]
        assert piece == piece.strip() and piece


def test_headings_are_recognised() -> None:
    assert is_heading("Deteriorating situation")
    assert not is_heading("The Taliban added a statement.")
    assert not is_heading('"We consider this step a clear indication," the Taliban added.')
