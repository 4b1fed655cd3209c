"""Errors of the TF side. Kept apart from ``search.errors`` so objectives/ imports nothing of
the engine; the study glue turns them into engine errors."""

from __future__ import annotations


class DataError(ValueError):
    """Data that is missing, empty or malformed. ``str()`` names the file and line."""
