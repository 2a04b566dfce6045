from __future__ import annotations

import pytest

from index.cleaning import clean_text, is_furniture
from index.settings import BUNDLED_CORPUS

FURNITURE = [
    "Skip to content",
    "Skip to main menu",
    "Skip to more DW sites",
    "Accessibility links",
    "Breaking News",
    "Image: Reuters/Omar Sobhan",
    "16x9 Image",
    "NATO Secretary-General Jens Stoltenberg (file photo)",
    "ksb/sb (Reuters, AFP)",
    "wd/dj (AP, dpa)",
    "With reporting by AP",
    "RFE/RL journalists report the news in 27 languages in 23 countries where a free press is banned",
    "Afghanistan NATO ceremony",  # the caption title above a photo credit
    "US soldiers, part of the NATO-led force, walk near Kabul, AfghanistanImage: Hoshang Hashimi/AP Photo",
]


def seed_texts() -> dict[str, str]:
    return {p.stem[:3]: clean_text(p.read_text()) for p in sorted(BUNDLED_CORPUS.glob("*.md"))}


@pytest.mark.parametrize("line", FURNITURE)
def test_every_furniture_pattern_of_the_seeds_is_gone(line: str) -> None:
    cleaned = "\n".join(seed_texts().values())
    assert line not in cleaned


@pytest.mark.parametrize(
    "line",
    [
        "1. Skip to content",
        "• 16x9 Image",
        "With reporting by Reuters and AFP",
        "abc/xy/zz (dpa, AFP)",
        "Image: AP Photo/picture alliance",
    ],
)
def test_furniture_rules_are_general(line: str) -> None:
    assert is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        "Breaking news of the withdrawal reached Kabul on Monday.",
        "The image of NATO suffered, officials said.",
        "Up to 850 German troops will also be deployed to Afghanistan.",
        "'Training and support'",
    ],
)
def test_story_lines_are_not_furniture(line: str) -> None:
    assert not is_furniture(line)


def test_real_paragraphs_are_kept() -> None:
    texts = seed_texts()
    assert "Up to 850 German troops will also be deployed to Afghanistan" in texts["000"]
    assert "Since 2001, nearly 3,500 foreign soldiers have been killed in the war" in texts["000"]
    assert "Under the deal, foreign forces will leave Afghanistan by May 2021" in texts["001"]
    assert "Ghani tweeted" in texts["002"]
    # The story's last paragraph survives even though the page's furniture followed it.
    assert texts["001"].rstrip().endswith("power-sharing formula with the Afghan government.")


def test_paragraphs_are_separated_by_blank_lines() -> None:
    text = clean_text("First  paragraph.\r\n\r\n\r\nSecond\u00a0one.\n")
    assert text == "First paragraph.\n\nSecond one."
