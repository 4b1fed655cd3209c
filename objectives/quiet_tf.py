"""Importing TensorFlow without its start-up chatter.

TF 2.21 writes absl and CUDA-probe lines ("Could not find cuda drivers", "failed call to
cuInit") straight to file descriptor 2 before ``TF_CPP_MIN_LOG_LEVEL`` is read, which tears
a live terminal view. They are informational, so the import and the device probe run with
fd 2 pointed at /dev/null; ``TIAOCAN_TF_VERBOSE=1`` keeps them. Import ``tf`` and ``keras``
from here. Python errors still surface: the exception propagates after fd 2 is restored.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    if os.environ.get("TIAOCAN_TF_VERBOSE"):
        yield
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


with _stderr_silenced():
    import keras
    import tensorflow as tf

    GPUS = tf.config.list_physical_devices("GPU")  # runs the CUDA probe while silenced

__all__ = ["GPUS", "keras", "tf"]
