"""Packed fine-tuning rows: examples end to end in one row, positions restarting, must read as if alone."""

from __future__ import annotations

import random

import pytest

from training.finetune import _packed_batches

pytestmark = pytest.mark.slow


def test_an_example_packed_after_another_reads_as_if_it_were_alone(local_model):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(local_model.path, dtype=torch.float32).eval()
    first = list(range(100, 140))
    second = list(range(300, 325))
    rows = _packed_batches([(first, first), (second, second)], 1, 80, 0, random.Random(0))
    ids, labels, positions, real = next(rows)
    assert real == len(first) + len(second) and int((labels != -100).sum()) == real
    with torch.no_grad():
        packed = model(input_ids=ids, position_ids=positions, use_cache=False).logits[0]
        # Whichever came first in the row, the one after it must not see it.
        later, earlier = (second, first) if ids[0, 0].item() == first[0] else (first, second)
        start = len(earlier)
        alone = model(input_ids=torch.tensor([later]), use_cache=False).logits[0]
    assert positions[0, start].item() == 0
    assert torch.allclose(packed[start : start + len(later)], alone, atol=1e-3)
