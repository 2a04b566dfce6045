"""The probe's token-budget batches (tests/bench/batching.py): what it times must be what it says."""

from __future__ import annotations

from tests.bench.batching import token_batches, variant


def test_without_a_budget_the_batches_are_rows_of_the_length_sorted_texts() -> None:
    lengths = [30, 5, 12, 30, 7, 200, 9]
    assert list(token_batches(lengths, rows=3)) == [[1, 4, 6], [2, 0, 3], [5]]


def test_a_budget_grows_batches_of_short_texts_only() -> None:
    lengths = [10] * 10 + [100] * 4
    batches = list(token_batches(lengths, rows=2, tokens=200))
    # Ten texts of 10 tokens: 10 rows x 10 = 100 <= 200, one batch; texts of 100: 2 rows x 100 = 200, rows alone.
    assert batches == [list(range(10)), [10, 11], [12, 13]]
    assert all(len(b) * max(lengths[i] for i in b) <= 200 for b in batches)


def test_a_batch_is_never_smaller_than_rows_nor_over_budget_beyond_them() -> None:
    lengths = [3, 40, 41, 8, 60, 2, 33, 33, 90, 1]
    for rows in (1, 2, 4):
        for tokens in (0, 50, 130, 1000):
            batches = list(token_batches(lengths, rows, tokens))
            assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
            for batch in batches[:-1]:
                padded = max(lengths[i] for i in batch)
                assert len(batch) == rows or len(batch) * padded <= tokens


def test_variant_names() -> None:
    assert variant("32x4096") == (32, 4096)
    assert variant("128") == (128, 0)
