"""A study whose every trial raises: the engine must stop, not loop forever."""

from __future__ import annotations

from typing import Any

from search.spec import Report
from tests.fake_studies.quadratic import (  # noqa: F401  (the parts that work)
    SPEC as _SPEC,
    FakeData,
    baseline_params,
    count_params,
    load_data,
    pruner_steps,
    smallest_config,
    suggest,
)

SPEC = _SPEC.replace(name="always_failing", summary="fake: every trial raises")


def evaluate(config: dict[str, Any], data: FakeData, report: Report, seed: int) -> float:
    raise RuntimeError("this objective always fails")
