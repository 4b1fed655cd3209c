"""A study whose every trial diverges at its first report (NaN), so it is pruned."""

from __future__ import annotations

import math
from typing import Any

from search.spec import Report
from tests.fake_studies.quadratic import (  # noqa: F401
    SPEC as _SPEC,
    FakeData,
    baseline_params,
    count_params,
    load_data,
    pruner_steps,
    smallest_config,
    suggest,
)

SPEC = _SPEC.replace(name="always_pruned", summary="fake: diverges at once", pruner="growth")


def evaluate(config: dict[str, Any], data: FakeData, report: Report, seed: int) -> float:
    report(10, math.nan)
    return 0.0
