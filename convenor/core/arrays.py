"""Small numpy helpers shared by the bulk code paths (the demo, the map)."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T", bound=np.generic)


def sorted_unique(values: npt.NDArray[T]) -> npt.NDArray[T]:
    """``np.unique`` of integers, by sorting: numpy 2's hash-based unique takes seconds on a
    few hundred thousand integers, where a sort takes milliseconds."""
    ordered = np.sort(values, kind="stable")
    out: npt.NDArray[T] = ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered
    return out
