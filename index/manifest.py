"""The index manifest: what an index on disk holds and how it was made (format version first)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from index.errors import IndexUnusableError

# Bump on any change to the files of an index (including index.lexical.LEXICAL_VERSION, the BM25
# tokenizer); an index of another version is rebuilt.
# 2: lexical.npz (BM25) added to every generation.
# 3: sentences.npz (sentence spans and embeddings for answer extraction) added.
FORMAT_VERSION = 3
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ArticleEntry:
    id: str
    content_hash: str
    chunk_count: int


@dataclass
class IndexManifest:
    format_version: int
    model_id: str
    dimension: int
    model_max_tokens: int
    chunking: dict[str, int]
    index_type: str
    corpus_dir: str
    corpus_fingerprint: str
    articles: list[ArticleEntry]
    chunk_count: int
    # sha256 of every data file of the index, checked on open.
    files: dict[str, str] = field(default_factory=dict)
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, where: str) -> IndexManifest:
        try:
            data: dict[str, Any] = json.loads(text)
            version = data.get("format_version")
            if version != FORMAT_VERSION:
                raise IndexUnusableError(
                    f"the index at {where} has format version {version}, this Newsdesk reads "
                    f"{FORMAT_VERSION}: rebuild it with 'newsdesk index --rebuild'"
                )
            data["articles"] = [ArticleEntry(**a) for a in data["articles"]]
            return cls(**data)
        except (ValueError, TypeError, KeyError) as err:
            raise IndexUnusableError(
                f"the index manifest at {where} is damaged ({type(err).__name__}): "
                "rebuild it with 'newsdesk index --rebuild'"
            ) from None

    def same_recipe(self, other: IndexManifest) -> bool:
        """True when chunks and vectors of one can be reused by the other."""
        return (
            self.format_version == other.format_version
            and self.model_id == other.model_id
            and self.dimension == other.dimension
            and self.chunking == other.chunking
        )
