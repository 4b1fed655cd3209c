"""A study whose every trial diverges at its first report (NaN), so it is pruned."""

from __future__ import annotations

import math
from typing import Any

from search.spec import Report
from tests.fake_studies.quadratic import SPEC as _SPEC
from tests.fake_studies.quadratic import FakeData
from tests.fake_studies.quadratic import baseline_params as baseline_params
from tests.fake_studies.quadratic import count_params as count_params
from tests.fake_studies.quadratic import load_data as load_data
from tests.fake_studies.quadratic import pruner_steps as pruner_steps
from tests.fake_studies.quadratic import smallest_config as smallest_config
from tests.fake_studies.quadratic import suggest as suggest

SPEC = _SPEC.replace(name="always_pruned", summary="fake: diverges at once", pruner="growth")


def evaluate(config: dict[str, Any], data: FakeData, report: Report, seed: int) -> float:
    report(10, math.nan)
    return 0.0
