"""PNG figures of a benchmark run; every figure names the machine it ran on."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _figure(title: str, machine_label: str) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5))
    axes.set_title(title)
    figure.text(0.01, 0.01, machine_label, fontsize=7, color="#555555")
    return figure, axes


def _save(figure: Any, path: Path) -> Path:
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    figure.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return path


def plot_latency(report: dict[str, Any], machine_label: str, out_dir: Path) -> Path | None:
    runs = {k: v for k, v in report.get("latency_ms", {}).items() if isinstance(v, dict) and "stages_p50_ms" in v}
    if not runs:
        return None
    figure, axes = _figure("Warm query latency, p50 by stage (ms)", machine_label)
    names = list(runs)
    bottoms = [0.0] * len(names)
    stages = ["encode", "dense", "bm25", "fusion", "answer", "render"]
    for stage in stages:
        # BM25 read beside the encoder (``beside_encode``) lies within the encode's bar.
        heights = [
            0.0 if stage == "bm25" and "beside_encode" in runs[n]["stages_p50_ms"] else
            float(runs[n]["stages_p50_ms"].get(stage, 0.0))
            for n in names
        ]  # fmt: skip
        axes.bar(names, heights, bottom=bottoms, label=stage)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    for i, name in enumerate(names):
        axes.annotate(
            f"p50 {runs[name]['p50']:.0f} / p95 {runs[name]['p95']:.0f}",
            (i, bottoms[i]),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axes.set_ylabel("milliseconds")
    axes.legend(fontsize=8)
    return _save(figure, out_dir / "latency.png")


def plot_scale(report: dict[str, Any], machine_label: str, out_dir: Path) -> Path | None:
    scale = report.get("scale", {})
    kinds = [k for k in ("flat", "ivfpq", "hnsw") if isinstance(scale.get(k), dict) and "recall_at_10" in scale[k]]
    if not kinds:
        return None
    figure, axes = _figure(f"Index types over {scale['vectors']:,} vectors: recall@10 vs search p50", machine_label)
    for kind in kinds:
        row = scale[kind]
        axes.scatter(row["search_p50_ms"], row["recall_at_10"], s=60)
        axes.annotate(
            f"{kind} (build {row['build_s']:.0f} s, {row['memory_mb']:.0f} MB)",
            (row["search_p50_ms"], row["recall_at_10"]),
            fontsize=8,
            xytext=(5, 5),
            textcoords="offset points",
        )
    axes.set_xscale("log")
    axes.set_xlabel("single-query search p50 (ms, log scale)")
    axes.set_ylabel("recall@10 vs exact")
    axes.axhline(0.95, color="#999999", linestyle="--", linewidth=0.8)
    axes.axvline(10, color="#999999", linestyle="--", linewidth=0.8)
    return _save(figure, out_dir / "scale.png")


def plot_cold_start(report: dict[str, Any], machine_label: str, out_dir: Path) -> Path | None:
    breakdown = report.get("cold_start", {}).get("breakdown", {})
    parts = {k: v for k, v in breakdown.items() if k.endswith("_s") and isinstance(v, float)}
    if not parts:
        return None
    figure, axes = _figure("Cold start of a question, in one fresh process (s)", machine_label)
    axes.barh(list(parts), list(parts.values()))
    axes.set_xlabel("seconds")
    return _save(figure, out_dir / "cold_start.png")


def plot_throughput(report: dict[str, Any], machine_label: str, out_dir: Path) -> Path | None:
    """Indexing Reuters: articles/s of the pipeline (and of an older commit's, when measured), and
    each document runtime's chunk texts/s on the same sample."""
    thr = report.get("index_throughput")
    if not thr:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    figure.suptitle(f"Indexing Reuters ({thr['articles']:,} stories, {thr['chunks']:,} chunks)")
    figure.text(0.01, 0.01, machine_label, fontsize=7, color="#555555")
    bars = {f"pipeline ({thr['encoder']['backend']})": thr["articles_per_s"]}
    old = thr.get("old_pipeline", {})
    if old.get("articles_per_s"):
        bars = {f"pipeline of {old['commit']}": old["articles_per_s"]} | bars
    left.bar(list(bars), list(bars.values()), color=["#999999", "#1f77b4"][-len(bars) :])
    for i, value in enumerate(bars.values()):
        left.annotate(f"{value:.1f}", (i, value), ha="center", va="bottom", fontsize=8)
    left.set_ylabel("articles per second (whole pipeline)")
    encoders = thr.get("encoders", {})
    # "sentence-transformers" on two lines: one is wider than its bar.
    names = [
        k.replace("-transformers", "-\ntransformers")
        + f"\n{v['precision']}"
        + (f", {v['inference']}" if "inference" in v else "")
        for k, v in encoders.items()
    ]
    speeds = [v["texts_per_s"] for v in encoders.values()]
    right.bar(names, speeds)
    for i, (value, row) in enumerate(zip(speeds, encoders.values(), strict=True)):
        right.annotate(
            f"{value:.0f}/s, cos>={row['min_cosine_to_fp32']:.5f}", (i, value), ha="center", va="bottom", fontsize=7
        )
    right.set_ylabel("chunk texts per second (encode alone)")
    return _save(figure, out_dir / "throughput.png")
