"""The seed question set (tests/questions/seed.yaml) as a smoke test in `make test`.

Since the learned answer model (issue 12) the seed set is no longer the yardstick: answers are chosen on
the development benchmark (docs/QUALITY.md), where the model beats the rules of 093e210 on news (answer
holds the gold answer 0.757 vs 0.604 on the RealTime QA test split, false abstentions 0.105 vs 0.245) and
loses on these 55 questions (44 vs 49 pass: paraphrased questions over three long articles on one subject
get lower probabilities than the benchmark's). The floors are what it measures less a question's margin.
Since 2026-12-01 the model leaves a swapped name to its probability and abstains below 0.055 (was 0.04),
chosen on validation so that no benchmark answers more unanswerable questions or near misses than before
(test split: 88 fewer false answers, 28 more false abstentions, 7 more right answers over the four
benchmarks; docs/QUALITY.md). Three seed answers with probabilities 0.047-0.053 now abstain: hit@3 0.707,
answer accuracy 0.707, abstention recall 1.0, precision 0.636 (14/22), 42/55 pass (44 before), hence
floors of 0.68, 0.68, 0.92 and 0.6, the same floors `make eval` passes to `newsdesk eval`. Since 14:12 the
answer layer weighs the best sentence against another article's best and abstains below 0.075: 43/55 pass
(hit@3 0.756, answer accuracy 0.732, abstention recall 1.0, precision 0.667), 6 answered seed questions within
0.05 of the threshold (8 before); the floors stay.
"""

from __future__ import annotations

from pathlib import Path

from bot.evaluation import Thresholds, evaluate, load_questions

SEED_SET = Path(__file__).resolve().parents[1] / "questions" / "seed.yaml"
FLOORS = Thresholds(min_hit3=0.68, min_answer=0.68, min_abstain=0.92, min_abstain_precision=0.6)


def test_seed_question_set_holds_its_floor(seed_desk) -> None:
    questions = load_questions([SEED_SET])
    assert len(questions) >= 40 and sum(q.abstain for q in questions) >= 8
    report = evaluate(seed_desk, questions, FLOORS)
    failed = [f"{r.key}: {r.why}" for r in report.results if not r.passed]
    assert not report.failures, f"{report.failures}; failing questions: {failed}"
