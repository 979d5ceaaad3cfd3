"""$group accumulators. Each compiles to a factory of small state objects, one per group."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson import Int64

from .errors import PipelineError
from .reducers import avg_of, sum_of
from .values import INT32_MAX, MISSING, compare, group_key


class _Collect:
    """Keeps every value and reduces them at the end ($sum, $avg)."""

    __slots__ = ("reduce", "values")

    def __init__(self, reduce: Callable[[list], Any]) -> None:
        self.values: list = []
        self.reduce = reduce

    def add(self, value: Any) -> None:
        self.values.append(value)

    def result(self) -> Any:
        return self.reduce(self.values)


class _Extreme:
    """$min / $max: null and missing are ignored; null when nothing else was seen."""

    __slots__ = ("best", "sign")

    def __init__(self, sign: int) -> None:
        self.best: Any = MISSING
        self.sign = sign

    def add(self, value: Any) -> None:
        if value is None or value is MISSING:
            return
        if self.best is MISSING or compare(value, self.best) * self.sign > 0:
            self.best = value

    def result(self) -> Any:
        return None if self.best is MISSING else self.best


class _First:
    __slots__ = ("seen", "value")

    def __init__(self) -> None:
        self.seen = False
        self.value: Any = None

    def add(self, value: Any) -> None:
        if not self.seen:
            self.seen = True
            self.value = value

    def result(self) -> Any:
        return None if self.value is MISSING else self.value  # a missing field gives null


class _Last:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None

    def add(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return None if self.value is MISSING else self.value


class _Push:
    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: list = []

    def add(self, value: Any) -> None:
        if value is not MISSING:  # missing values are skipped, nulls are kept
            self.values.append(value)

    def result(self) -> list:
        return self.values


class _AddToSet:
    __slots__ = ("keys", "values")

    def __init__(self) -> None:
        self.keys: set = set()
        self.values: list = []

    def add(self, value: Any) -> None:
        if value is MISSING:
            return
        key = group_key(value)
        if key not in self.keys:
            self.keys.add(key)
            self.values.append(value)

    def result(self) -> list:
        return self.values


class _Count:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def add(self, value: Any) -> None:
        self.count += 1

    def result(self) -> Any:
        return self.count if self.count <= INT32_MAX else Int64(self.count)  # as {$sum: 1}


ACCUMULATOR_FACTORIES: dict[str, Callable[[], Any]] = {
    "$sum": lambda: _Collect(sum_of),
    "$avg": lambda: _Collect(avg_of),
    "$min": lambda: _Extreme(-1),
    "$max": lambda: _Extreme(1),
    "$first": _First,
    "$last": _Last,
    "$push": _Push,
    "$addToSet": _AddToSet,
    "$count": _Count,
}
SUPPORTED_ACCUMULATORS = frozenset(ACCUMULATOR_FACTORIES)
FORBIDDEN_ACCUMULATORS = {"$accumulator": "it runs server-side JavaScript"}


def check_accumulator(name: str, argument: Any) -> None:
    if name not in ACCUMULATOR_FACTORIES:
        reason = FORBIDDEN_ACCUMULATORS.get(name)
        if reason:
            raise PipelineError(f"forbidden accumulator {name} ({reason})")
        raise PipelineError(f"unsupported accumulator {name}")
    if name == "$count" and argument != {}:
        raise PipelineError("$count takes no arguments, i.e. $count:{}")
