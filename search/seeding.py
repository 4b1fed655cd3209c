"""Seeds: one fixed training seed for every trial, and a sampler seed that moves on resume.

A seeded sampler's state is not stored, so a resumed ``TPESampler(seed=s)`` would replay its
first suggestions; deriving the seed from the trials already in the study avoids that while
keeping two fresh single-worker runs identical.
"""

from __future__ import annotations

import hashlib


def sampler_seed(base_seed: int, n_trials_in_study: int, worker: int = 0) -> int:
    """A 32-bit seed that differs per (base seed, study progress, worker)."""
    digest = hashlib.sha256(f"{base_seed}:{n_trials_in_study}:{worker}".encode()).digest()
    return int.from_bytes(digest[:4], "big")
