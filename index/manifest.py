"""The index manifest: what an index on disk holds and how it was made (format version first)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from index.errors import IndexUnusableError


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MB blocks (index files and model files alike)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Bump on any change to the files of an index (including index.lexical.LEXICAL_VERSION, the BM25
# tokenizer); an index of another version is rebuilt.
# 2: lexical.npz (BM25) added to every generation.
# 3: sentences.npz (sentence spans and embeddings for answer extraction) added.
# 4: the encoder (runtime, precision, model file checksum) and how sentence vectors are made (pooled
#    from the chunk pass, or encoded on their own) are recorded; an index is never mixed from two.
FORMAT_VERSION = 4
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
    # sha256 of the model's weights file (index.embedding.model_weights_sha256): another file under the same
    # model name (another release of its package) is another model, whose questions do not match these
    # vectors. "" in an index written before it was recorded (not checked) or by a model of no file.
    model_sha256: str = ""
    # What computed the vectors (index.embedding, ``describe()``): runtime, precision, model file and its
    # sha256. Vectors of another encoder differ slightly, so a change re-embeds everything.
    encoder: dict[str, str] = field(default_factory=dict)
    # "pooled" (from the chunk pass) or "encoded" (a pass of their own): Settings.sentence_vectors.
    sentence_vectors: str = "encoded"
    # "encoded" (a chunk pass) or "from-sentences" (pooled from the sentence pass): Settings.chunk_vectors.
    # Absent from indexes written before it existed, which are all "encoded".
    chunk_vectors: str = "encoded"
    # The answer model installed when the index was last written (name, sha256, threshold; {} with the rules):
    # which model the index was built beside, for a reader comparing runs. Answers use the installed model.
    answer_model: dict[str, str] = field(default_factory=dict)
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
            # Fields a newer Newsdesk added (as answer_model was) are read past, not taken for damage.
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known})
        except (ValueError, TypeError, KeyError) as err:
            raise IndexUnusableError(
                f"the index manifest at {where} is damaged ({type(err).__name__}): "
                "rebuild it with 'newsdesk index --rebuild'"
            ) from None

    def same_model(self, other: IndexManifest) -> bool:
        """True when the vectors of one answer the other's questions: the same model (name and, where both
        record it, weights file) and dimension."""
        same_weights = not self.model_sha256 or not other.model_sha256 or self.model_sha256 == other.model_sha256
        return self.model_id == other.model_id and self.dimension == other.dimension and same_weights

    def same_vectors(self, other: IndexManifest) -> bool:
        """True when both were embedded by the same encoder in the same way (sentence and chunk vectors)."""
        return (
            self.encoder == other.encoder
            and self.sentence_vectors == other.sentence_vectors
            and self.chunk_vectors == other.chunk_vectors
        )

    def same_recipe(self, other: IndexManifest, encoder: bool = True) -> bool:
        """True when chunks and vectors of one can be reused by the other. ``encoder=False``: whether
        one can be served as the other (vectors of another runtime of the same model, or sentence
        vectors made the other way, answer the same questions; only an update must not mix them, and
        ``newsdesk index --rebuild`` re-embeds with the current settings)."""
        return (
            self.format_version == other.format_version
            and self.same_model(other)
            and self.chunking == other.chunking
            and (not encoder or self.same_vectors(other))
        )
