"""A benchmark's index, made exactly the way the benchmark asks: by this encoder, with these sentence vectors.

The product serves an up-to-date index made by another encoder of the same model, or with sentence vectors
made the other way, as it is (index.builder.open_index: its vectors answer the same questions, and only an
update re-embeds). A benchmark that compares encoders or sentence vectors must not: a cached index of
another variant would be measured under this variant's name. So a mismatch rebuilds here, and each
variant has a folder of its own (:attr:`IndexVariant.tag`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from index.builder import BuildReport, open_index
from index.embedding import DocumentEmbedder
from index.errors import IndexUnusableError
from index.settings import Settings
from index.store import StoredIndex


@dataclass(frozen=True)
class IndexVariant:
    """How a benchmark's index is embedded: the document backend setting, the encoder it resolved to, and
    the kind of sentence and chunk vectors (``Settings.document_backend`` / ``sentence_vectors`` /
    ``chunk_vectors``)."""

    document_backend: str
    documents: DocumentEmbedder
    sentence_vectors: str
    chunk_vectors: str = "encoded"

    @property
    def kind(self) -> str:
        """The vectors, named: the sentence vectors' kind, then the chunk vectors' unless encoded ("encoded",
        "pooled", "encoded+from-sentences"), so the folders of encoded chunks keep their names."""
        chunks = "" if self.chunk_vectors == "encoded" else f"+{self.chunk_vectors}"
        return f"{self.sentence_vectors}{chunks}"

    @property
    def tag(self) -> str:
        """A folder-name tag: the encoder that runs (not the setting, whose "auto" resolves to different
        encoders on different installs and releases) and the sentence vectors."""
        encoder = self.documents.describe()
        return f"{encoder['backend']}-{encoder.get('precision', 'fp32')}-{self.kind}"


def open_exact(settings: Settings, documents: DocumentEmbedder, label: str) -> tuple[StoredIndex, BuildReport]:
    """``open_index``, rebuilt when the index was embedded by another encoder or has other sentence or chunk
    vectors, or when it is of another format version (a cache, not a user's index: nothing is lost)."""
    try:
        stored, report = open_index(settings, documents)
    except IndexUnusableError as err:
        print(f"[{label}] {err}: rebuilding", file=sys.stderr)
        return open_index(settings, documents, rebuild=True)
    made = stored.manifest
    kind = (made.sentence_vectors, made.chunk_vectors)
    if made.encoder != documents.describe() or kind != (settings.sentence_vectors, settings.chunk_vectors):
        print(f"[{label}] the cached index is {made.encoder} / {kind}: rebuilding", file=sys.stderr)
        stored, report = open_index(settings, documents, rebuild=True)
    return stored, report
