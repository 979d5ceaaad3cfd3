"""$group accumulators. Each compiles to a factory of small state objects, one per group.

An accumulator compiles (compile_accumulator) into its per-document argument expression, an
optional initializer evaluated once per group against the group key (the `n` of $firstN, $topN
...), and a factory that makes the group's state from the initializer's value. A state has
add(value) and result().
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bson import Int64

from .errors import PipelineError
from .expressions import ROOT_SCOPE, Compiler, Expr
from .expressions.statistics import (
    ExtremeN,
    check_sort_pattern,
    check_specification,
    merge_into,
    parse_n_input,
    parse_quantile,
    sort_key_part,
    validate_n,
)
from .reducers import StdDev, as_double, avg_of, percentiles_of, sum_of
from .values import INT32_MAX, MISSING, compare, group_key, sort_key


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


# --- accumulators with n: $firstN $lastN $maxN $minN $topN $bottomN $top $bottom ---------------


class _FirstN:
    __slots__ = ("n", "values")

    def __init__(self, n: int) -> None:
        self.n = n
        self.values: list = []

    def add(self, value: Any) -> None:
        if len(self.values) < self.n:
            self.values.append(None if value is MISSING else value)  # missing counts, as null

    def result(self) -> list:
        return self.values


class _LastN:
    __slots__ = ("values",)

    def __init__(self, n: int) -> None:
        self.values: deque = deque(maxlen=n)

    def add(self, value: Any) -> None:
        self.values.append(None if value is MISSING else value)

    def result(self) -> list:
        return list(self.values)


def _first(entry: tuple) -> Any:
    return entry[0]


class _TopBottom:
    """$top $bottom $topN $bottomN: the n first (top) or last (bottom) outputs in sortBy order.
    On a tie the output seen first stays (AccumulatorTopBottomN); a missing output is null."""

    __slots__ = ("entries", "n", "order", "single", "top")

    def __init__(self, n: int, order: Callable[[list], Any], top: bool, single: bool) -> None:
        self.n = n
        self.order = order
        self.top = top
        self.single = single
        self.entries: list = []  # (sort key, output), ascending in sortBy order

    def add(self, item: tuple[Any, list]) -> None:
        output, keys = item
        key = self.order(keys)
        entries = self.entries
        if len(entries) == self.n:
            if self.top:
                if not entries[-1][0] > key:
                    return
                entries.pop()
            else:
                if not key > entries[0][0]:
                    return
                del entries[0]
        bisect.insort_right(entries, (key, None if output is MISSING else output), key=_first)

    def result(self) -> Any:
        outputs = [output for _, output in self.entries]
        if self.single:
            return outputs[0] if outputs else None
        return outputs


# --- $mergeObjects, $stdDevPop, $stdDevSamp, $median, $percentile ------------------------------


class _MergeObjects:
    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out: dict = {}

    def add(self, value: Any) -> None:
        merge_into(self.out, value)

    def result(self) -> dict:
        return self.out


class _Quantile:
    """$median / $percentile: every numeric value kept (NaN left out), the discrete rank picked
    at the end (see reducers.percentiles_of)."""

    __slots__ = ("ps", "single", "values")

    def __init__(self, ps: list[float], single: bool) -> None:
        self.ps = ps
        self.single = single
        self.values: list[float] = []

    def add(self, value: Any) -> None:
        x = as_double(value)
        if x is not None and x == x:
            self.values.append(x)

    def result(self) -> Any:
        found = percentiles_of(self.values, self.ps)
        if self.single:
            return None if found is None else found[0]
        return [None] * len(self.ps) if found is None else found


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
    "$mergeObjects": _MergeObjects,
    "$stdDevPop": lambda: StdDev(False),
    "$stdDevSamp": lambda: StdDev(True),
}


@dataclass(frozen=True)
class CompiledAccumulator:
    argument: Expr  # evaluated on each document of the group
    # Evaluated once per group, against the group key when it is a document ({} otherwise).
    initializer: Expr | None
    factory: Callable[[Any], Any]  # the initializer's value (None without one) -> a state


def _compile_n_accumulator(name: str, spec: Any, c: Compiler) -> CompiledAccumulator:
    n_spec, input_spec = parse_n_input(name, spec)
    n_fn = c.compile(n_spec, ROOT_SCOPE)
    input_fn = c.compile(input_spec, ROOT_SCOPE)
    make: Callable[[int], Any] = {
        "$firstN": _FirstN,
        "$lastN": _LastN,
        "$maxN": lambda n: ExtremeN(n, True),
        "$minN": lambda n: ExtremeN(n, False),
    }[name]
    return CompiledAccumulator(input_fn, n_fn, lambda n: make(validate_n(n)))


def _compile_top_bottom(name: str, spec: Any, c: Compiler) -> CompiledAccumulator:
    single = name in ("$top", "$bottom")
    required = ("output", "sortBy") if single else ("n", "output", "sortBy")
    check_specification(name, spec, required, "Unknown argument to {name} '{key}'")
    sort_by = check_sort_pattern(name, spec["sortBy"])
    directions = [direction for _, direction in sort_by]
    key_fns = [c.compile("$" + path, ROOT_SCOPE) for path, _ in sort_by]
    output_fn = c.compile(spec["output"], ROOT_SCOPE)

    def argument(doc: dict, frame: list) -> tuple[Any, list]:
        keys = [
            sort_key_part(fn(doc, frame), direction)
            for fn, direction in zip(key_fns, directions, strict=True)
        ]
        return output_fn(doc, frame), keys

    order_key = sort_key(directions)
    top = name in ("$top", "$topN")
    n_fn = None if single else c.compile(spec["n"], ROOT_SCOPE)
    return CompiledAccumulator(
        argument,
        n_fn,
        lambda n: _TopBottom(1 if single else validate_n(n), order_key, top, single),
    )


def _compile_quantile(name: str, spec: Any, c: Compiler) -> CompiledAccumulator:
    input_spec, ps = parse_quantile(name, spec)
    wanted = ps if ps is not None else [0.5]
    return CompiledAccumulator(
        c.compile(input_spec, ROOT_SCOPE), None, lambda _: _Quantile(wanted, ps is None)
    )


ACCUMULATOR_COMPILERS: dict[str, Callable[[str, Any, Compiler], CompiledAccumulator]] = {
    "$firstN": _compile_n_accumulator,
    "$lastN": _compile_n_accumulator,
    "$maxN": _compile_n_accumulator,
    "$minN": _compile_n_accumulator,
    "$top": _compile_top_bottom,
    "$bottom": _compile_top_bottom,
    "$topN": _compile_top_bottom,
    "$bottomN": _compile_top_bottom,
    "$median": _compile_quantile,
    "$percentile": _compile_quantile,
}
SUPPORTED_ACCUMULATORS = frozenset(ACCUMULATOR_FACTORIES) | frozenset(ACCUMULATOR_COMPILERS)
FORBIDDEN_ACCUMULATORS = {"$accumulator": "it runs server-side JavaScript"}


def check_accumulator(name: str, argument: Any) -> None:
    if name not in SUPPORTED_ACCUMULATORS:
        reason = FORBIDDEN_ACCUMULATORS.get(name)
        if reason:
            raise PipelineError(f"forbidden accumulator {name} ({reason})")
        raise PipelineError(f"unsupported accumulator {name}")
    if name == "$count" and argument != {}:
        raise PipelineError("$count takes no arguments, i.e. $count:{}")


def compile_accumulator(name: str, argument: Any, c: Compiler) -> CompiledAccumulator:
    """Check and compile one {<accumulator>: <argument>} of $group, $bucket or $bucketAuto."""
    check_accumulator(name, argument)
    compile_special = ACCUMULATOR_COMPILERS.get(name)
    if compile_special is not None:
        return compile_special(name, argument, c)
    factory = ACCUMULATOR_FACTORIES[name]
    fn = c.compile(argument if name != "$count" else None, ROOT_SCOPE)
    return CompiledAccumulator(fn, None, lambda _: factory())
