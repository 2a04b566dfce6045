"""The story text of a news web page: trafilatura on the page with its related-article lists, "More
from ..." rails, newsletter and share blocks removed first, and the standfirst kept.

trafilatura keeps a list of related headlines when it sits inside the article container, and drops the
standfirst (the sentence under the headline) on many CMS layouts; both are fixed here on the page tree,
by class names and headings that CMSs use for them, never by position.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from lxml import html as lxml_html

# Class or id words of blocks that are not the story.
_NOT_STORY = re.compile(
    r"related|more-?from|recommend|read-?more|read-?next|most-?(?:read|popular|viewed)|also-?like|newsletter"
    r"|sign-?up|subscri|share|sharing|social|promo|outbrain|taboola|comment|advert|(?:^|[-_ ])ads?(?:$|[-_ ])"
    r"|breadcrumb|trending|teaser-?list|onward|further-?reading|tags?-?list",
    re.IGNORECASE,
)
# Headings that introduce a list of other articles.
_ONWARD_HEADING = re.compile(
    r"^(?:more (?:from|on|in|about)\b|related\b|read more\b|most (?:read|popular|viewed)\b|you (?:may|might) also"
    r"|recommended\b|also on\b|latest (?:news|stories)\b|top stories\b|further reading\b|what to read next)",
    re.IGNORECASE,
)
_STANDFIRST = re.compile(
    r"standfirst|(?:^|[-_ ])dek(?:$|[-_ ])|sub-?head(?:line)?|subtitle|strapline|article-?summary|summary"
    r"|(?:^|[-_ ])lede(?:$|[-_ ])|(?:^|[-_ ])intro(?:$|[-_ ])|excerpt|teaser-?text|abstract",
    re.IGNORECASE,
)
_STANDFIRST_CHARS = (30, 500)
_REMOVE_TAGS = ("aside", "nav", "footer", "form", "noscript", "iframe", "figure", "figcaption")
# A block holding more than this share of the page's paragraph text is the story, whatever its class says.
_STORY_SHARE = 0.5
_MIN_STORY_CHARS = 200


def story_text(tree: Any) -> str:
    """The story of the page ``tree`` as paragraphs separated by newlines (empty when none is found)."""
    page = copy.deepcopy(tree)
    standfirst = _standfirst(page)
    _remove_non_story(page)
    markup = lxml_html.tostring(page, encoding="unicode")
    text = _extract(markup, precision=True)
    if len(text) < _MIN_STORY_CHARS:
        # Old table layouts and bare pages defeat the precise mode; recall mode then finds the story.
        text = max(text, _extract(markup, precision=False), key=len)
    if standfirst and " ".join(_words(standfirst)) not in " ".join(_words(text)):
        text = standfirst + "\n" + text
    return text


def _extract(markup: str, precision: bool) -> str:
    import trafilatura

    return trafilatura.extract(
        markup, include_comments=False, include_tables=False, include_images=False, include_links=False,
        favor_precision=precision, favor_recall=not precision, deduplicate=False, with_metadata=False,
    ) or ""  # fmt: skip


def _remove_non_story(page: Any) -> None:
    # A table that holds paragraphs is the page's layout (1990s-2000s sites), not data: trafilatura would
    # read it as one table, so it becomes plain blocks.
    for table in list(page.iter("table")):
        if table.xpath(".//p"):
            for element in table.iter("table", "tbody", "thead", "tr", "td", "th"):
                element.tag = "div"
    total = _paragraph_chars(page) or 1
    for element in list(page.iter(*_REMOVE_TAGS)):
        if _paragraph_chars(element) <= _STORY_SHARE * total:
            _drop(element)
    for element in list(page.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None:
            continue
        marks = f"{element.get('class', '')} {element.get('id', '')} {element.get('data-component', '')}"
        if _NOT_STORY.search(marks) and _paragraph_chars(element) <= _STORY_SHARE * total:
            _drop(element)
    for heading in list(page.iter("h2", "h3", "h4", "h5", "h6", "strong")):
        if heading.getparent() is not None and _ONWARD_HEADING.match(heading.text_content().strip()):
            _drop_heading_and_list(heading)


def _drop_heading_and_list(heading: Any) -> None:
    # The list of headlines follows the heading as its next sibling (or the heading's wrapper's).
    anchor = heading if heading.getnext() is not None else heading.getparent()
    following = anchor.getnext() if anchor is not None else None
    if following is not None and following.tag in ("ul", "ol", "div", "section"):
        links, paragraphs = len(following.xpath(".//a")), len(following.xpath(".//p"))
        if links >= max(1, paragraphs // 2):
            _drop(following)
    _drop(heading)


def _standfirst(page: Any) -> str:
    scopes = page.xpath("//article") or page.xpath("//main") or [page]
    for element in scopes[0].iter("p", "h2", "div", "span"):
        marks = " ".join(element.get(a, "") for a in ("class", "id", "itemprop", "data-gu-name", "data-component"))
        if not _STANDFIRST.search(marks) or element.xpath("ancestor::aside|ancestor::nav|ancestor::footer"):
            continue
        text = " ".join(element.text_content().split())
        if _STANDFIRST_CHARS[0] <= len(text) <= _STANDFIRST_CHARS[1] and len(element.xpath(".//p")) <= 1:
            return text
    return ""


def _paragraph_chars(element: Any) -> int:
    return sum(len(p.text_content()) for p in element.iter("p"))


def _drop(element: Any) -> None:
    parent = element.getparent()
    if parent is None:
        return
    # Keep the text that follows the element inside its parent (lxml stores it on the element).
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())
