"""The engine's error hierarchy.

Only the CLI's ``main(argv) -> int`` turns these into exit codes; everything below it raises.
A message says what was wrong, what was expected and what was given.
"""

from __future__ import annotations


class TiaocanError(Exception):
    """Base of every error a user can cause or fix; ``exit_code`` is what the CLI returns."""

    exit_code = 1


class UsageError(TiaocanError):
    """A bad flag, study name or value on the command line (exit 2)."""

    exit_code = 2


class DataError(TiaocanError):
    """Training data that is missing, empty or malformed (names the file and line)."""


class StorageError(TiaocanError):
    """A storage URL that cannot be opened, or a stored study that does not match."""


class InfeasibleStudyError(TiaocanError):
    """Even the smallest model of the search space is over the parameter budget."""


class StudySpecError(TiaocanError):
    """A study file that does not provide what the engine needs."""
