"""A quadratic whose trials take a while (sleeps between reports): for kill and Ctrl-C tests."""

from __future__ import annotations

import os
import time
from typing import Any

from search.spec import Report
from tests.fake_studies.quadratic import SPEC as _SPEC
from tests.fake_studies.quadratic import STEPS_PER_EPOCH, FakeData, value
from tests.fake_studies.quadratic import baseline_params as baseline_params
from tests.fake_studies.quadratic import count_params as count_params
from tests.fake_studies.quadratic import load_data as load_data
from tests.fake_studies.quadratic import pruner_steps as pruner_steps
from tests.fake_studies.quadratic import smallest_config as smallest_config
from tests.fake_studies.quadratic import suggest as suggest

SPEC = _SPEC.replace(name="slow", summary="fake: a quadratic that sleeps", n_trials=20)
SECONDS_PER_REPORT = float(os.environ.get("SLOW_SECONDS_PER_REPORT", "0.3"))


def evaluate(config: dict[str, Any], data: FakeData, report: Report, seed: int) -> float:
    for i in range(1, 5):
        time.sleep(SECONDS_PER_REPORT)
        report(i * STEPS_PER_EPOCH // 2, value(config["x"]) - (4 - i))
    return value(config["x"])
