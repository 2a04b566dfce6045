"""Chunk vectors in Milvus: Milvus Lite (a ``*.db`` file, in-process) or a Milvus server, same code.

Each index folder owns two collections, ``<base>_a`` and ``<base>_b`` (``<base>`` from the folder's
path), and an alias ``<base>`` on the live one. A build brings the collection that the live generation
does *not* use in line with the new generation, then the generation files are written naming it, and
only then is ``CURRENT`` switched (and the alias moved). So:

* **Incremental.** Every row carries its article's content hash. Syncing deletes the articles whose
  hash (or row count) differs from the new generation's and inserts only what is missing; the vectors
  come from the generation (``vectors.npy``), so nothing is re-embedded that the content hashes keep.
* **Crash-safe.** Searches answer from the collection the live generation names, which a build never
  touches; a crash mid-sync leaves the other collection half-synced, and the next build finishes it
  (the sync compares what is there, not what a log says). The previous generation keeps its collection
  one build longer, as the files keep the previous generation, for readers that just opened it.
* **One writer.** Builds hold the index folder's lock (:func:`index.store.build_lock`); indexers sharing
  a Milvus server share the index folder (they need its generation files anyway).

Filters run inside Milvus: ``day`` (the publication date as a proleptic ordinal, 0 when undated) and
``outlet`` are scalar fields, and a filtered search is one ``search(filter=...)`` call.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.errors import ConfigError, IndexUnusableError
from index.extras import require_extra
from index.vector_store import VectorFilter, VectorRows, store_kind

if TYPE_CHECKING:
    from index.manifest import IndexManifest
    from index.records import Article, Chunk

VECTOR_STORE_NAME = "vector_store.json"
CONTENT_KEY_CHARS = 12
NO_DAY = 0  # undated articles: below every real date's ordinal (>= 1), so never inside a date range
# Milvus caps one request's payload; rows are sent in batches of this many.
INSERT_BATCH = 2_000
DELETE_BATCH = 500
HNSW_LINKS = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128
IVF_PROBE = 32
_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def client_for(uri: str) -> Any:
    """One ``MilvusClient`` per URI per process (Milvus Lite allows one opener of a file)."""
    MilvusClient = require_extra("pymilvus", f"vector store {uri!r}").MilvusClient  # noqa: N806 - a class
    # Milvus Lite serves gRPC inside this process and lacks an optional call (a timestamp for
    # iterators); grpc logs that as an error with a traceback and pymilvus warns, though the iterator
    # falls back correctly. Neither is the user's concern.
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
    with _CLIENTS_LOCK:
        if uri not in _CLIENTS:
            try:
                _CLIENTS[uri] = MilvusClient(uri)
            except Exception as err:  # pymilvus raises several types for an unreachable server
                if store_kind(uri) == "milvus-lite":
                    raise ConfigError(
                        f"cannot open the Milvus Lite file {uri} ({err}): Milvus Lite lets one process open a "
                        "file at a time; stop the other one, or use a Milvus server for several processes"
                    ) from None
                raise ConfigError(
                    f"cannot reach the Milvus vector store at {uri} ({err}): start it or fix the URI"
                ) from None
        return _CLIENTS[uri]


def close_clients() -> None:
    """Close every cached client (tests that restart a server; processes that want to exit tidily)."""
    with _CLIENTS_LOCK:
        for client in _CLIENTS.values():
            with contextlib.suppress(Exception):  # closing a dead connection may fail; nothing to do
                client.close()
        _CLIENTS.clear()


def normalise_uri(uri: str) -> str:
    """Milvus Lite files by absolute path, so the generation names the same file from any folder."""
    if store_kind(uri) == "milvus-lite":
        return str(Path(uri).expanduser().resolve())
    return uri.rstrip("/")


def collection_base(index_dir: Path) -> str:
    """A Milvus-safe name unique to the index folder: ``newsdesk_<folder name>_<hash of its path>``."""
    resolved = index_dir.resolve()
    stem = re.sub(r"[^0-9A-Za-z_]", "_", resolved.name)[:40]
    return f"newsdesk_{stem}_{hashlib.sha1(str(resolved).encode()).hexdigest()[:10]}"


def article_key(article_id: str) -> str:
    """Article ids may hold any character; filter expressions get this hex digest instead."""
    return hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:24]


def chunk_key(article_id: str, ordinal: int, content: str, key: str | None = None) -> str:
    """A row's primary key: the article, the first characters of its content hash, the chunk's ordinal.
    With the content in it, a reader that still holds an older generation never takes a re-embedded
    chunk of a changed article for the chunk it knows under the same ordinal (the key differs)."""
    return f"{key or article_key(article_id)}:{content[:CONTENT_KEY_CHARS]}:{ordinal}"


def literal(text: str) -> str:
    """A Milvus string literal (double quotes; backslash and quote escaped)."""
    return json.dumps(text, ensure_ascii=False)


def filter_expression(where: VectorFilter | None) -> str:
    """The Milvus filter for ``where`` ('' when it allows everything)."""
    if where is None:
        return ""
    parts = []
    if where.since is not None:
        parts.append(f"day >= {where.since.toordinal()}")
    if where.until is not None:
        parts.append(f"day > {NO_DAY} and day <= {where.until.toordinal()}")
    if where.outlets is not None:
        parts.append(f"outlet in [{', '.join(literal(o) for o in where.outlets)}]")
    if where.exclude:
        parts.append(f"article not in [{', '.join(literal(article_key(a)) for a in where.exclude)}]")
    return " and ".join(parts)


@dataclass(frozen=True)
class MilvusIndexSpec:
    """The Milvus index of a collection, from ``Settings.index_type`` resolved by collection size."""

    index_type: str  # FLAT, IVF_FLAT, HNSW or IVF_PQ
    build: dict[str, int]
    search: dict[str, int]

    @classmethod
    def for_kind(cls, kind: str, count: int, dimension: int, requested: str = "auto") -> MilvusIndexSpec:
        """``kind``: the resolved ``index_type`` (flat, hnsw, ivfpq); ``requested``: what the settings asked.

        ``auto`` picks FLAT (exact, the answers FAISS gives) below ``IVFPQ_FROM`` chunks and IVF_FLAT
        above: Milvus 2.3 has no exact re-ranking for IVF_PQ (FAISS's ``RFlat``), and without it PQ codes
        cannot tell near-copies of a story apart, while IVF_FLAT compares full vectors in the probed
        lists. ``ivfpq`` asked for explicitly gets Milvus's IVF_PQ."""
        from index.ann import ivf_lists

        if kind == "flat":
            return cls("FLAT", {}, {})
        if kind == "hnsw":
            return cls("HNSW", {"M": HNSW_LINKS, "efConstruction": HNSW_EF_CONSTRUCTION}, {"ef": HNSW_EF_SEARCH})
        if requested == "auto":
            return cls("IVF_FLAT", {"nlist": ivf_lists(count)}, {"nprobe": IVF_PROBE})
        sub = next(m for m in (dimension // 8, 48, 32, 16, 8, 4, 2, 1) if m and dimension % m == 0)
        return cls("IVF_PQ", {"nlist": ivf_lists(count), "m": sub, "nbits": 8}, {"nprobe": IVF_PROBE})


class MilvusVectorStore:
    """One Milvus collection of chunk vectors, seen through one generation's chunk positions.

    ``positions`` maps a row's primary key (:func:`chunk_key`) to the chunk's position in the
    generation; rows without one (none, once synced) are skipped by :meth:`search`."""

    def __init__(self, client: Any, collection: str, spec: MilvusIndexSpec, positions: dict[str, int]) -> None:
        self.client = client
        self.collection = collection
        self.spec = spec
        self.positions = positions

    # -- the VectorStore protocol ---------------------------------------------------------------
    def add(self, rows: VectorRows) -> None:
        keys = {aid: article_key(aid) for aid in set(rows.article_ids)}
        for start in range(0, len(rows), INSERT_BATCH):
            stop = min(start + INSERT_BATCH, len(rows))
            batch = [
                {
                    "pk": chunk_key(
                        rows.article_ids[i], rows.ordinals[i], rows.content_hashes[i], keys[rows.article_ids[i]]
                    ),
                    "article": keys[rows.article_ids[i]],
                    "content": rows.content_hashes[i],
                    "day": d.toordinal() if (d := rows.dates[i]) is not None else NO_DAY,
                    "outlet": rows.outlets[i][:OUTLET_CHARS],
                    "vector": rows.vectors[i].astype(np.float32).tolist(),
                }
                for i in range(start, stop)
            ]
            self.client.insert(self.collection, batch)
        for i, (position, aid) in enumerate(zip(rows.positions, rows.article_ids, strict=True)):
            self.positions[chunk_key(aid, rows.ordinals[i], rows.content_hashes[i], keys[aid])] = int(position)

    def delete_articles(self, article_ids: Sequence[str]) -> int:
        return self._delete_keys([article_key(a) for a in article_ids])

    def search(self, query: np.ndarray, k: int, where: VectorFilter | None = None) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        expression = filter_expression(where)
        found = self.client.search(
            self.collection,
            data=[np.asarray(query, dtype=np.float32).reshape(-1).tolist()],
            limit=k,
            filter=expression,
            output_fields=["pk"],
            search_params={"metric_type": "IP", "params": self.spec.search},
            anns_field="vector",
        )
        pairs = []
        for hit in found[0] if found else []:
            position = self.positions.get(str(hit.get("id", hit.get("pk"))))
            # The engine applied the conditions; the mask is a check that costs nothing.
            if position is not None and (where is None or where.mask[position]):
                pairs.append((position, float(hit["distance"])))
        return pairs

    def count(self) -> int:
        rows = self.client.query(self.collection, filter="", output_fields=["count(*)"], consistency_level="Strong")
        return int(rows[0]["count(*)"])

    # -- writing a generation -------------------------------------------------------------------
    def sync(self, rows: VectorRows) -> tuple[int, int]:
        """Make the collection hold exactly ``rows``: delete articles whose content hash or row count
        differs, insert what is missing. Returns (rows deleted, rows inserted)."""
        keys = [article_key(a) for a in rows.article_ids]
        wanted: dict[str, tuple[str, int]] = {}
        for key, content in zip(keys, rows.content_hashes, strict=True):
            wanted[key] = (content, wanted.get(key, (content, 0))[1] + 1)
        present = self._articles_present()
        stale = [key for key, state in present.items() if wanted.get(key) != state]
        deleted = self._delete_keys(stale)
        keep = {key for key in present if key not in set(stale)}
        missing = [i for i, key in enumerate(keys) if key not in keep]
        self.add(_subset(rows, missing))
        self.client.flush(self.collection)
        self.client.load_collection(self.collection)
        for i, key in enumerate(keys):
            pk = chunk_key(rows.article_ids[i], rows.ordinals[i], rows.content_hashes[i], key)
            self.positions[pk] = int(rows.positions[i])
        return deleted, len(missing)

    def _articles_present(self) -> dict[str, tuple[str, int]]:
        """article key -> (content hash, rows) of what the collection holds now."""
        present: dict[str, tuple[str, int]] = {}
        iterator = self.client.query_iterator(
            self.collection, batch_size=16_384, filter="", output_fields=["article", "content"],
            consistency_level="Strong",
        )  # fmt: skip
        try:
            while batch := iterator.next():
                for row in batch:
                    content, seen = present.get(row["article"], (row["content"], 0))
                    # Two contents under one key means a half-finished update: mark it stale.
                    present[row["article"]] = (content if content == row["content"] else "", seen + 1)
        finally:
            iterator.close()
        return present

    def _delete_keys(self, keys: Sequence[str]) -> int:
        removed = 0
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            result = self.client.delete(self.collection, filter=f"article in [{', '.join(map(literal, batch))}]")
            removed += _deleted_count(result)
        return removed


OUTLET_CHARS = 512


def _deleted_count(result: Any) -> int:
    if isinstance(result, dict):
        return int(result.get("delete_count", 0))
    return len(result) if isinstance(result, list) else int(getattr(result, "delete_count", 0) or 0)


def _subset(rows: VectorRows, picked: Sequence[int]) -> VectorRows:
    index = np.asarray(picked, dtype=np.int64)
    return VectorRows(
        positions=rows.positions[index],
        article_ids=[rows.article_ids[i] for i in picked],
        ordinals=[rows.ordinals[i] for i in picked],
        content_hashes=[rows.content_hashes[i] for i in picked],
        dates=[rows.dates[i] for i in picked],
        outlets=[rows.outlets[i] for i in picked],
        vectors=rows.vectors[index] if len(picked) else rows.vectors[:0],
    )


def ensure_collection(client: Any, name: str, dimension: int, spec: MilvusIndexSpec, fresh: bool) -> None:
    """Create ``name`` with our schema and ``spec``; recreate it when ``fresh`` or when what is there
    has another dimension or index (its rows could not be reused)."""
    from pymilvus import DataType

    if client.has_collection(name):
        if not fresh and _matches(client, name, dimension, spec):
            return
        client.drop_collection(name)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("article", DataType.VARCHAR, max_length=32)
    schema.add_field("content", DataType.VARCHAR, max_length=80)
    schema.add_field("day", DataType.INT32)
    schema.add_field("outlet", DataType.VARCHAR, max_length=OUTLET_CHARS * 4)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    index_params = client.prepare_index_params()
    index_params.add_index(field_name="vector", index_type=spec.index_type, metric_type="IP", params=spec.build)
    client.create_collection(name, schema=schema, index_params=index_params)


def _matches(client: Any, name: str, dimension: int, spec: MilvusIndexSpec) -> bool:
    try:
        fields = {f["name"]: f for f in client.describe_collection(name)["fields"]}
        described = client.describe_index(name, index_name="vector")
    except Exception:  # noqa: BLE001 - an unreadable collection is recreated
        return False
    params = fields.get("vector", {}).get("params", {})
    return int(params.get("dim", -1)) == dimension and described.get("index_type") == spec.index_type


def publish_alias(client: Any, alias: str, collection: str) -> None:
    """Point ``alias`` at ``collection`` (for other tools; Newsdesk reads the name its generation holds)."""
    aliases = client.list_aliases().get("aliases", [])
    if alias in aliases:
        client.alter_alias(collection, alias)
    else:
        client.create_alias(collection, alias)


@dataclass(frozen=True)
class MilvusPlacement:
    """Where a generation's vectors live (its ``vector_store.json``)."""

    uri: str
    collection: str
    alias: str
    spec: MilvusIndexSpec
    count: int

    def to_json(self) -> str:
        return json.dumps(
            {"uri": self.uri, "collection": self.collection, "alias": self.alias, "index_type": self.spec.index_type,
             "build": self.spec.build, "search": self.spec.search, "count": self.count},
            indent=2,
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> MilvusPlacement:
        data = json.loads(text)
        spec = MilvusIndexSpec(data["index_type"], dict(data["build"]), dict(data["search"]))
        return cls(data["uri"], data["collection"], data["alias"], spec, int(data["count"]))


def open_placement(placement: MilvusPlacement, positions: dict[str, int], where: str) -> MilvusVectorStore:
    """The store a generation names, loaded and checked: its row count must be the generation's."""
    client = client_for(placement.uri)
    hint = f"rebuild it with 'newsdesk index --rebuild --index-dir {where} --vector-store {placement.uri}'"
    try:
        if not client.has_collection(placement.collection):
            raise IndexUnusableError(
                f"the Milvus collection {placement.collection} of the index at {where} is gone: {hint}"
            )
        client.load_collection(placement.collection)
        store = MilvusVectorStore(client, placement.collection, placement.spec, positions)
        count = store.count()
    except IndexUnusableError:
        raise
    except Exception as err:  # noqa: BLE001 - pymilvus raises many types for one "cannot use it"
        raise IndexUnusableError(f"cannot use the Milvus collection {placement.collection} ({err}): {hint}") from None
    if count != placement.count:
        raise IndexUnusableError(
            f"the Milvus collection {placement.collection} holds {count} vectors, the index at {where} "
            f"{placement.count}: {hint}"
        )
    return store


def positions_of(article_ids: Iterable[str], ordinals: Iterable[int], contents: dict[str, str]) -> dict[str, int]:
    """Primary key -> chunk position for a generation's chunks (``contents``: article id -> content
    hash, from the manifest; article keys hashed once each)."""
    keys: dict[str, str] = {}
    out: dict[str, int] = {}
    for position, (aid, ordinal) in enumerate(zip(article_ids, ordinals, strict=True)):
        key = keys.get(aid) or keys.setdefault(aid, article_key(aid))
        out[chunk_key(aid, ordinal, contents[aid], key)] = position
    return out


def sync_generation(
    index_dir: Path,
    uri: str,
    manifest: IndexManifest,
    requested_type: str,
    articles: list[Article],
    chunks: list[Chunk],
    vectors: np.ndarray,
    fresh: bool,
    live: MilvusPlacement | None,
) -> tuple[MilvusVectorStore, MilvusPlacement]:
    """Bring the collection the live generation (``live``) does not use in line with a new generation.

    Called before the generation is written and CURRENT moves: readers keep searching the live one.
    ``fresh``: the vectors are all new (a rebuild), so nothing already in the collection may be kept."""
    uri = normalise_uri(uri)
    base = collection_base(index_dir)
    live_collection = live.collection if live is not None and live.uri == uri else ""
    target = f"{base}_b" if live_collection == f"{base}_a" else f"{base}_a"
    spec = MilvusIndexSpec.for_kind(manifest.index_type, len(vectors), manifest.dimension, requested_type)
    client = client_for(uri)  # says which extra to install when pymilvus is missing
    from pymilvus.exceptions import MilvusException

    by_id = {a.id: a for a in articles}
    # The content tag names the model and chunking too: rows embedded under another recipe never match.
    recipe_json = json.dumps([manifest.model_id, manifest.chunking], sort_keys=True)
    recipe = hashlib.sha256(recipe_json.encode()).hexdigest()[:16]
    hashes = {e.id: f"{e.content_hash[:40]}:{recipe}" for e in manifest.articles}
    rows = VectorRows(
        positions=np.arange(len(chunks)),
        article_ids=[c.article_id for c in chunks],
        ordinals=[c.ordinal for c in chunks],
        content_hashes=[hashes[c.article_id] for c in chunks],
        dates=[by_id[c.article_id].date for c in chunks],
        outlets=[by_id[c.article_id].outlet for c in chunks],
        vectors=vectors,
    )
    try:
        ensure_collection(client, target, manifest.dimension, spec, fresh)
        store = MilvusVectorStore(client, target, spec, {})
        store.sync(rows)
        count = store.count()
    except (MilvusException, ConnectionError) as err:
        raise IndexUnusableError(
            f"cannot write the vectors to Milvus at {uri} ({err}): check that it is running"
        ) from None
    if count != len(chunks):
        raise IndexUnusableError(
            f"Milvus at {uri} holds {count} vectors after the update, expected {len(chunks)}: run the update again"
        )
    return store, MilvusPlacement(uri, target, base, spec, count)
