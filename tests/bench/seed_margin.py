"""How far each seed question's answer probability stands from the threshold, per answer model.

    python -m tests.bench.seed_margin [MODEL.json ...]    # default: the shipped model

The seed set (tests/questions/seed.yaml, the three bundled articles) is a smoke test, not a yardstick:
no threshold is chosen on it. This prints, per model, the seed set's pass count and metrics, and every
question whose probability lies within ``--margin`` of the model's threshold: an answer that a small
change of the articles or the encoder would turn into an abstention (or back). docs/QUALITY.md reports it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.evaluation import Thresholds, evaluate, load_questions
from index.answer_model import DEFAULT_MODEL_FILE, AnswerModel
from index.embedding import make_query_embedder
from index.newsdesk import Newsdesk
from index.settings import Settings, load_settings
from tests.bench.answer_bench import add_index_arguments, index_variants
from tests.bench.bench_index import open_exact
from tests.bench.datasets import REPO_ROOT

SEED_SET = REPO_ROOT / "tests" / "questions" / "seed.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", type=Path, default=[DEFAULT_MODEL_FILE])
    parser.add_argument("--margin", type=float, default=0.05)
    add_index_arguments(parser, several=False, backend=Settings().document_backend)  # the product's default
    args = parser.parse_args(argv)
    (index,) = index_variants(args)
    settings = load_settings(
        {"corpus_dir": REPO_ROOT / "corpus", "index_dir": REPO_ROOT / ".newsdesk" / "bench" / f"seed-index-{index.tag}",
         "show_progress": False, "document_backend": index.document_backend,
         "sentence_vectors": index.sentence_vectors, "chunk_vectors": index.chunk_vectors},
        env={},
    )  # fmt: skip
    stored, report = open_exact(settings, index.documents, "seed")
    queries = make_query_embedder(settings.model, settings.query_backend, documents=index.documents)
    desk = Newsdesk(settings, queries, stored, report)
    questions = load_questions([SEED_SET])
    for path in args.models:
        model = AnswerModel.load(path)
        desk.answer_model = model
        result = evaluate(desk, questions, Thresholds())
        passed = sum(r.passed for r in result.results)
        metrics = {k: round(v, 3) if isinstance(v, float) else v for k, v in result.metrics.items()}
        print(f"{path.name} ({model.sha256[:12]}, threshold {model.threshold}): {passed}/{len(questions)} pass")
        print(f"  {metrics}")
        close = []
        answered = []
        for q in questions:
            answer = desk.ask(q.question, as_of=q.asked_on)
            if answer.confidence is None:
                continue
            if not answer.abstained:
                answered.append(answer.confidence)
            if not answer.abstained and abs(answer.confidence - model.threshold) < args.margin:
                close.append(f"  {q.id}: {answer.confidence:.4f} (expected {'abstain' if q.abstain else 'answer'})")
        low = min(answered) if answered else None
        print(f"  answered {len(answered)}; lowest answered probability {low}; within {args.margin} of the threshold: "
              f"{len(close)}")  # fmt: skip
        print("\n".join(close))
    return 0


if __name__ == "__main__":
    sys.exit(main())
