"""Title, date, outlet, url and byline of a news web page, from what the page declares about itself.

Order of trust: JSON-LD (``NewsArticle`` and kin), then ``<meta>`` and Open Graph tags, then ``<title>``
with the site's suffix split off ("Cup final ends in chaos | Rovers Weekly" -> title and outlet), then a
``<time datetime>`` in the article's header. Nothing is guessed from the story's sentences.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import html as lxml_html

_ARTICLE_TYPES = {
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "blogposting", "backgroundnewsarticle", "reviewnewsarticle", "liveblogposting", "webpage",
}  # fmt: skip
_DATE_META = (
    "article:published_time", "og:article:published_time", "datepublished", "date", "pubdate", "publishdate",
    "publish-date", "publish_date", "dc.date", "dc.date.issued", "dcterms.created", "dcterms.date",
    "sailthru.date", "parsely-pub-date", "article.published", "originalpublicationdate", "cxenseparse:recs:publishtime",
)  # fmt: skip
_AUTHOR_META = (
    "author", "byl", "byline", "dc.creator", "dcterms.creator", "parsely-author", "sailthru.author", "article:author",
)  # fmt: skip
_SITE_META = ("og:site_name", "application-name", "publisher", "dc.publisher")
_TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|\u2013|\u2014|::|\u00b7|\u2022)\s+")
_SITE_MAX_WORDS = 5


@dataclass
class PageMetadata:
    title: str = ""
    date: str = ""
    outlet: str = ""
    url: str = ""
    byline: str = ""


def page_metadata(tree: Any) -> PageMetadata:
    """What the page ``tree`` (an lxml HTML element) says about its article."""
    ld = _json_ld_article(tree)
    meta = _meta_tags(tree)
    found = PageMetadata(
        title=_text(ld.get("headline")) or meta.get("og:title", "") or meta.get("twitter:title", ""),
        date=_text(ld.get("datePublished")) or _text(ld.get("dateCreated")) or _first(meta, _DATE_META),
        outlet=_name(ld.get("publisher")) or _first(meta, _SITE_META),
        url=_url(ld) or meta.get("og:url", "") or _canonical(tree),
        byline=_name(ld.get("author")) or _first(meta, _AUTHOR_META) or _marked_author(tree),
    )
    page_title, suffix = split_site_suffix(_page_title(tree), found.outlet, _headings(tree))
    found.title, _ = split_site_suffix(found.title or page_title, found.outlet or suffix)
    found.outlet = found.outlet or suffix
    if not found.date:
        found.date = _header_time(tree)
    if found.byline.startswith(("http://", "https://")):
        found.byline = ""  # article:author is often a profile link, not a name
    return found


def split_site_suffix(title: str, site: str = "", headings: tuple[str, ...] = ()) -> tuple[str, str]:
    """("Cup final ends in chaos | Football | Rovers Weekly", "") -> ("Cup final ends in chaos", "Rovers Weekly").

    The site name may come first ("Valley Echo :: Cafe owners fight ..."): the part that is also the page's
    heading, or else the longer end, is the title."""
    title = " ".join(title.split())
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title, ""
    if parts[-1] in headings and len(parts[0].split()) <= _SITE_MAX_WORDS:
        return parts[-1], parts[0]
    if site and parts[-1].casefold() == site.casefold():
        return " - ".join(parts[:-1]) if len(parts) > 2 and not _is_section(parts[1:-1]) else parts[0], parts[-1]
    suffix = parts[-1]
    if len(suffix.split()) > _SITE_MAX_WORDS or len(parts[0].split()) < 2:
        return title, ""
    return parts[0], suffix


def _is_section(parts: list[str]) -> bool:
    # "Title | Football | Rovers Weekly": middle parts of one or two words are sections.
    return all(len(p.split()) <= 2 for p in parts)


def _json_ld_article(tree: Any) -> dict[str, Any]:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content() or "null", strict=False)
        except ValueError:
            continue
        for item in _ld_items(data):
            kinds = item.get("@type")
            kinds = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
            if any(isinstance(k, str) and k.lower() in _ARTICLE_TYPES for k in kinds) and item.get("headline"):
                return item
    return {}


def _ld_items(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for entry in data:
            yield from _ld_items(entry)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _ld_items(data["@graph"])


def _meta_tags(tree: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in tree.xpath("//meta[@content]"):
        key = (tag.get("property") or tag.get("name") or tag.get("itemprop") or "").strip().lower()
        value = " ".join((tag.get("content") or "").split())
        if key and value and key not in found:
            found[key] = value
    return found


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str:
    return next((meta[k] for k in keys if meta.get(k)), "")


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return " ".join(str(value).split()) if isinstance(value, (str, int, float)) else ""


def _name(value: Any) -> str:
    """A person or organisation: a string, {"name": ...} or a list of them (joined with "and")."""
    items = value if isinstance(value, list) else [value]
    names = [_text(v.get("name")) if isinstance(v, dict) else _text(v) for v in items]
    names = [n for n in names if n and not n.startswith(("http://", "https://"))]
    return " and ".join(names)


def _url(ld: dict[str, Any]) -> str:
    url = ld.get("url")
    if not url:
        entity = ld.get("mainEntityOfPage")
        url = entity.get("@id") if isinstance(entity, dict) else entity
    return _text(url) if _text(url).startswith(("http://", "https://")) else ""


def _canonical(tree: Any) -> str:
    links = tree.xpath('//link[@rel="canonical"]/@href')
    return str(links[0]).strip() if links else ""


def _headings(tree: Any) -> tuple[str, ...]:
    return tuple(" ".join(h.text_content().split()) for h in tree.xpath("//body//h1|//body//h2")[:10])


def _page_title(tree: Any) -> str:
    titles = tree.xpath("//head/title")
    return " ".join(titles[0].text_content().split()) if titles else ""


def _marked_author(tree: Any) -> str:
    """The author's name marked up in the byline (``rel="author"``, hCard ``class="author"``)."""
    for xpath in ('//a[@rel="author"]', '//*[contains(concat(" ", normalize-space(@class), " "), " author ")]'):
        for element in tree.xpath(xpath):
            name = " ".join(element.text_content().split())
            if 0 < len(name) <= 60 and not element.xpath("ancestor::aside|ancestor::footer"):
                return name
    return ""


def _header_time(tree: Any) -> str:
    for xpath in ('//time[@itemprop="datePublished"]', "//article//time[@datetime]", "//header//time[@datetime]"):
        times = tree.xpath(xpath)
        if times:
            return str(times[0].get("datetime") or times[0].text_content()).strip()
    return ""


def parse_page(raw: str) -> Any:
    """The lxml tree of ``raw`` (raises ``ValueError`` when it is not HTML at all)."""
    try:
        # The text is decoded already: a <meta charset> in it must not make lxml decode it again.
        return lxml_html.document_fromstring(raw.encode("utf-8"), parser=lxml_html.HTMLParser(encoding="utf-8"))
    except Exception as err:  # noqa: BLE001 - lxml raises several types for hopeless input
        raise ValueError(f"not HTML ({type(err).__name__})") from None
