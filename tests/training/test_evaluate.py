"""The eval gate: a candidate is promoted only when it is not worse on any of the three measures."""

from __future__ import annotations

import pytest

from training.evaluate import gate

ACTIVE = {"grounded_accuracy": 0.5, "verifier_pass": 0.8, "moderation_pass": 1.0}


def test_not_worse_is_promoted():
    assert gate({**ACTIVE, "grounded_accuracy": 0.6}, ACTIVE) == (True, [])
    assert gate(dict(ACTIVE), ACTIVE) == (True, [])


@pytest.mark.parametrize("key", ["grounded_accuracy", "verifier_pass", "moderation_pass"])
def test_worse_on_any_measure_is_held_back_with_the_reason(key):
    promote, reasons = gate({**ACTIVE, "grounded_accuracy": 0.9, key: ACTIVE[key] - 0.2}, ACTIVE)
    assert not promote and len(reasons) == 1 and reasons[0].startswith(key)
