"""Array expression operators, including $filter/$map/$reduce and $sum/$avg/$min/$max."""

from __future__ import annotations

from functools import cmp_to_key
from typing import Any

from bson import Decimal128, Int64

from ..errors import EvaluationError, PipelineError
from ..reducers import avg_of, max_of, min_of, sum_of
from ..values import (
    INT32_MAX,
    INT32_MIN,
    MISSING,
    compare,
    equal,
    format_number,
    group_key,
    sort_key,
    truthy,
    type_name,
)
from .core import (
    Compiler,
    Expr,
    Scope,
    all_operands_operator,
    compile_operands,
    constant,
    constant_value,
    fold_constant,
    is_constant,
    object_arguments,
    operator,
    reduction_operator,
    unary_operator,
)


def _is_integral(value: Any) -> bool:
    t = type(value)
    if t is int or t is Int64:
        return True
    return t is float and value.is_integer()


def _is_numeric(value: Any) -> bool:
    t = type(value)
    return t is float or t is int or t is Int64


def is_int32(value: Any) -> bool:
    """Value::integral(): a number with a whole value that fits in 32 bits (Decimal128 too)."""
    t = type(value)
    if t is int or t is Int64:
        return INT32_MIN <= value <= INT32_MAX
    if t is float:
        return value.is_integer() and INT32_MIN <= value <= INT32_MAX
    if t is Decimal128:
        number = value.to_decimal()
        return (
            number.is_finite()
            and number == number.to_integral_value()
            and (INT32_MIN <= number <= INT32_MAX)
        )
    return False


def as_int(value: Any) -> int:
    """The whole value of a number that passed is_int32."""
    return int(value.to_decimal()) if type(value) is Decimal128 else int(value)


def value_text(value: Any) -> str:
    """A value as MongoDB's Value::toString prints it inside error messages."""
    if value is MISSING:
        return "MISSING"
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is str:
        return f'"{value}"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return format_number(value if type(value) is float else int(value))
    return str(value)


# --- $filter, $map, $reduce -------------------------------------------------------------------


@operator("$filter")
def _filter(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments("$filter", args, ("input", "cond"), ("as", "limit"))
    input_fn = c.compile(args["input"], scope)
    limit_fn = c.compile(args["limit"], scope) if "limit" in args else None
    slot = c.bind_variable(args.get("as", "this"), "$filter")
    cond_fn = c.compile(args["cond"], scope.bind({args.get("as", "this"): slot}))

    def filter_array(doc: dict, frame: list) -> Any:
        array = input_fn(doc, frame)
        if array is None or array is MISSING:
            return None
        if not isinstance(array, list):
            raise EvaluationError(
                f"input to $filter must be an array not {type_name(array)}", 28651
            )
        limit = _filter_limit(limit_fn(doc, frame)) if limit_fn is not None else None
        kept = []
        for element in array:
            frame[slot] = element
            if truthy(cond_fn(doc, frame)):
                kept.append(element)
                if limit is not None and len(kept) >= limit:
                    break
        return kept

    return filter_array


def _filter_limit(value: Any) -> int | None:
    if value is None or value is MISSING:
        return None
    if not _is_numeric(value) or not _is_integral(value):
        raise EvaluationError(
            "$filter: limit must be represented as a 32-bit integral value: "
            f"{format_number(value) if _is_numeric(value) else type_name(value)}",
            327391,
        )
    if value < 1:
        raise EvaluationError(f"$filter: limit must be greater than 0: {int(value)}", 327392)
    return int(value)


@operator("$map")
def _map(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments("$map", args, ("input", "in"), ("as",))
    input_fn = c.compile(args["input"], scope)
    slot = c.bind_variable(args.get("as", "this"), "$map")
    in_fn = c.compile(args["in"], scope.bind({args.get("as", "this"): slot}))

    def map_array(doc: dict, frame: list) -> Any:
        array = input_fn(doc, frame)
        if array is None or array is MISSING:
            return None
        if not isinstance(array, list):
            raise EvaluationError(f"input to $map must be an array not {type_name(array)}", 16883)
        out = []
        for element in array:
            frame[slot] = element
            value = in_fn(doc, frame)
            out.append(None if value is MISSING else value)
        return out

    return map_array


@operator("$reduce")
def _reduce(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments("$reduce", args, ("input", "initialValue", "in"))
    input_fn = c.compile(args["input"], scope)
    initial_fn = c.compile(args["initialValue"], scope)
    this_slot = c.new_slot()
    value_slot = c.new_slot()
    in_fn = c.compile(args["in"], scope.bind({"this": this_slot, "value": value_slot}))

    def reduce_array(doc: dict, frame: list) -> Any:
        array = input_fn(doc, frame)
        if array is None or array is MISSING:
            return None
        if not isinstance(array, list):
            raise EvaluationError(
                f"$reduce requires an array as the 'input', found: {type_name(array)}", 40080
            )
        accumulated = initial_fn(doc, frame)
        for element in array:
            frame[this_slot] = element
            frame[value_slot] = accumulated
            accumulated = in_fn(doc, frame)
        return accumulated

    return reduce_array


# --- size and element access ------------------------------------------------------------------


unary_operator(
    "$size",
    list,
    "The argument to $size must be an array, but was of type: ",
    17124,
    nullable=False,
)(len)


def element_at(name: str, array: Any, index: Any, first_argument: str) -> Any:
    if array is None or array is MISSING or index is None or index is MISSING:
        return None
    if not isinstance(array, list):
        raise EvaluationError(
            f"{name}'s {first_argument} must be an array, but is {type_name(array)}", 28689
        )
    if not _is_numeric(index):
        raise EvaluationError(
            f"{name}'s second argument must be a numeric value, but is {type_name(index)}",
            28690,
        )
    if not _is_integral(index):
        raise EvaluationError(
            f"{name}'s second argument must be representable as a 32-bit integer: "
            f"{format_number(float(index))}",
            28691,
        )
    i = int(index)
    if i < 0:
        i += len(array)
        if i < 0:
            return MISSING
    return array[i] if i < len(array) else MISSING


@operator("$arrayElemAt")
def _array_elem_at(args: Any, c: Compiler, scope: Scope) -> Expr:
    array_fn, index_fn = compile_operands("$arrayElemAt", args, c, scope, 2)
    return lambda doc, frame: element_at(
        "$arrayElemAt", array_fn(doc, frame), index_fn(doc, frame), "first argument"
    )


def _register_end_element(name: str, index: int) -> None:
    @operator(name)
    def compile_end(args: Any, c: Compiler, scope: Scope) -> Expr:
        (array_fn,) = compile_operands(name, args, c, scope, 1)
        return lambda doc, frame: element_at(name, array_fn(doc, frame), index, "argument")


_register_end_element("$first", 0)
_register_end_element("$last", -1)


@operator("$slice")
def _slice(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$slice", args, c, scope, 2, 3)

    def slice_array(doc: dict, frame: list) -> Any:
        array = items[0](doc, frame)
        second = items[1](doc, frame)
        if array is None or array is MISSING or second is None or second is MISSING:
            return None
        if not isinstance(array, list):
            raise EvaluationError(
                f"First argument to $slice must be an array, but is of type: {type_name(array)}",
                28724,
            )
        if not _is_numeric(second):
            raise EvaluationError(
                "Second argument to $slice must be a numeric value, but is of type: "
                f"{type_name(second)}",
                28725,
            )
        if not _is_integral(second):
            raise EvaluationError(
                "Second argument to $slice can't be represented as a 32-bit integer: "
                f"{format_number(float(second))}",
                28726,
            )
        length = len(array)
        if len(items) == 2:
            count = int(second)
            return array[:count] if count >= 0 else array[max(0, length + count) :]
        position = int(second)
        start = max(0, length + position) if position < 0 else min(length, position)
        count_value = items[2](doc, frame)
        if count_value is None or count_value is MISSING:
            return None
        if not _is_numeric(count_value):
            raise EvaluationError(
                "Third argument to $slice must be numeric, but is of type: "
                f"{type_name(count_value)}",
                28727,
            )
        if not _is_integral(count_value):
            raise EvaluationError(
                "Third argument to $slice can't be represented as a 32-bit integer: "
                f"{format_number(float(count_value))}",
                28728,
            )
        if count_value <= 0:
            raise EvaluationError(
                f"Third argument to $slice must be positive: {int(count_value)}", 28729
            )
        return array[start : start + int(count_value)]

    return slice_array


# --- membership and search --------------------------------------------------------------------


def _hashable_members(values: list) -> frozenset | None:
    """The members as a set when plain numbers and strings only (set lookup agrees with MongoDB
    equality there: 1 == 1.0, and no bool or NaN to confuse it); else None."""
    for value in values:
        t = type(value)
        if not (t is str or t is int or t is Int64 or (t is float and value == value)):
            return None
    return frozenset(values)


@operator("$in")
def _in(args: Any, c: Compiler, scope: Scope) -> Expr:
    needle_fn, array_fn = compile_operands("$in", args, c, scope, 2)
    if is_constant(array_fn) and isinstance(constant_value(array_fn), list):
        members = _hashable_members(constant_value(array_fn))
        if members is not None:

            def in_set(doc: dict, frame: list) -> bool:
                needle = needle_fn(doc, frame)
                t = type(needle)
                if t is str or t is int or t is float or t is Int64:
                    return needle in members
                return False  # the set holds only numbers and strings

            return in_set

    def in_array(doc: dict, frame: list) -> bool:
        needle = needle_fn(doc, frame)
        array = array_fn(doc, frame)
        if not isinstance(array, list):
            raise EvaluationError(
                f"$in requires an array as a second argument, found: {type_name(array)}", 40081
            )
        return any(equal(needle, element) for element in array)

    return in_array


@all_operands_operator("$concatArrays", list, "$concatArrays only supports arrays, not ", 28664)
def _concat_arrays(arrays: list[list]) -> list:
    out: list = []
    for array in arrays:
        out.extend(array)
    return out


def _index_bound(value: Any, which: str) -> int:
    if not is_int32(value):
        # MongoDB 7.0 prints the operator name and "requires" with no space between them.
        raise EvaluationError(
            f"$indexOfArrayrequires an integral {which}, found a value of type: "
            f"{type_name(value)}, with value: {value_text(value)}",
            40096,
        )
    index = as_int(value)
    if index < 0:
        raise EvaluationError(
            f"$indexOfArray requires a nonnegative {which}, found: {value_text(value)}", 40097
        )
    return index


@operator("$indexOfArray")
def _index_of_array(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$indexOfArray", args, c, scope, 2, 4)
    start_fn = items[2] if len(items) > 2 else None
    end_fn = items[3] if len(items) > 3 else None
    needle_fn = items[1]

    def bounds(doc: dict, frame: list, length: int) -> tuple[int, int]:
        start = _index_bound(start_fn(doc, frame), "starting index") if start_fn is not None else 0
        end = length
        if end_fn is not None:
            end = min(end, _index_bound(end_fn(doc, frame), "ending index"))
        return start, end

    if is_constant(items[0]) and not all(is_constant(fn) for fn in items):
        # A constant array is checked once and indexed by value (MongoDB's optimize()).
        array = constant_value(items[0])
        if array is None or array is MISSING:
            return constant(None)
        if not isinstance(array, list):
            raise PipelineError(
                "First operand of $indexOfArray must be an array. First argument is of type: "
                f"{type_name(array)}"
            )
        positions: dict[Any, list[int]] = {}
        for i, element in enumerate(array):
            positions.setdefault(group_key(element), []).append(i)

        def index_in_constant(doc: dict, frame: list) -> int:
            start, end = bounds(doc, frame, len(array))
            needle = needle_fn(doc, frame)
            if needle is MISSING:
                return -1  # missing equals nothing in an array (group_key pairs it with null)
            for i in positions.get(group_key(needle), ()):
                if start <= i < end:
                    return i
            return -1

        return index_in_constant

    def index_of(doc: dict, frame: list) -> Any:
        array = items[0](doc, frame)
        if array is None or array is MISSING:
            return None
        if not isinstance(array, list):
            raise EvaluationError(
                f"$indexOfArray requires an array as a first argument, found: {type_name(array)}",
                40090,
            )
        start, end = bounds(doc, frame, len(array))
        needle = needle_fn(doc, frame)
        for i in range(start, end):
            if equal(array[i], needle):
                return i
        return -1

    return fold_constant(index_of, items)


@operator("$isArray")
def _is_array(args: Any, c: Compiler, scope: Scope) -> Expr:
    (item,) = compile_operands("$isArray", args, c, scope, 1)
    return lambda doc, frame: isinstance(item(doc, frame), list)


# --- element tests, reshaping, generation -----------------------------------------------------


def _register_element_test(name: str, code: int, decisive: bool) -> None:
    """$allElementsTrue (decided by a false element) and $anyElementTrue (by a true one)."""

    # No null rule here: null and missing are "not an array" too.
    @unary_operator(
        name, list, f"{name}'s argument must be an array, but is ", code, nullable=False, fold=True
    )
    def element_test(array: list) -> bool:
        for element in array:
            if truthy(element) is decisive:
                return decisive
        return not decisive


_register_element_test("$allElementsTrue", 17040, False)
_register_element_test("$anyElementTrue", 17041, True)


def _key_name(key: Any, null_byte_code: int) -> str:
    if "\0" in key:
        raise EvaluationError("Key field cannot contain an embedded null byte", null_byte_code)
    return key


def array_to_object(array: list) -> dict:
    """[[k, v], ...] or [{k: k, v: v}, ...] as a document; a repeated name keeps its first
    position and takes its last value. The first element decides the form for all."""
    out: dict = {}
    if not array:
        return out
    first = array[0]
    if isinstance(first, list):
        for element in array:
            if not isinstance(element, list):
                # MongoDB's messages read "mustall" and "arrays,found" (sic).
                raise EvaluationError(
                    "$arrayToObject requires a consistent input format. Elements mustall be "
                    "arrays or all be objects. Array was detected, now found: "
                    f"{type_name(element)}",
                    40396,
                )
            if len(element) != 2:
                raise EvaluationError(
                    "$arrayToObject requires an array of size 2 arrays,found array of size: "
                    f"{len(element)}",
                    40397,
                )
            key = element[0]
            if type(key) is not str:
                raise EvaluationError(
                    "$arrayToObject requires an array of key-value pairs, where the key must be "
                    f"of type string. Found key type: {type_name(key)}",
                    40395,
                )
            out[_key_name(key, 4940400)] = element[1]
        return out
    if not isinstance(first, dict):
        raise EvaluationError(
            f"Unrecognised input type format for $arrayToObject: {type_name(first)}", 40398
        )
    for element in array:
        if not isinstance(element, dict):
            raise EvaluationError(
                "$arrayToObject requires a consistent input format. Elements mustall be arrays "
                f"or all be objects. Object was detected, now found: {type_name(element)}",
                40391,
            )
        if len(element) != 2:
            raise EvaluationError(
                "$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number "
                f"of keys:{len(element)}",
                40392,
            )
        if "k" not in element or "v" not in element:
            raise EvaluationError(
                "$arrayToObject requires an object with keys 'k' and 'v'. Missing either or "
                f"both keys from: {value_text(element)}",
                40393,
            )
        key = element["k"]
        if type(key) is not str:
            raise EvaluationError(
                "$arrayToObject requires an object with keys 'k' and 'v', where the value of "
                f"'k' must be of type string. Found type: {type_name(key)}",
                40394,
            )
        out[_key_name(key, 4940401)] = element["v"]
    return out


unary_operator(
    "$arrayToObject", list, "$arrayToObject requires an array input, found: ", 40386, fold=True
)(array_to_object)


@unary_operator(
    "$objectToArray", dict, "$objectToArray requires a document input, found: ", 40390, fold=True
)
def _object_to_array(value: dict) -> list:
    return [{"k": k, "v": v} for k, v in value.items()]


_RANGE_MAX_BYTES = 64 * 1024 * 1024  # internalQueryMaxRangeBytes
_VALUE_BYTES = 16  # sizeof(Value): MongoDB's estimate per generated element
_VECTOR_BYTES = 24  # sizeof(std::vector<Value>)


def _range_bound(value: Any, which: str, code: int) -> int:
    if not (_is_numeric(value) or type(value) is Decimal128):
        raise EvaluationError(
            f"$range requires a numeric {which} value, found value of type: {type_name(value)}",
            code,
        )
    if not is_int32(value):
        raise EvaluationError(
            f"$range requires a{'n' if which == 'ending' else ''} {which} value that can be "
            f"represented as a 32-bit integer, found value: {value_text(value)}",
            code + 1,
        )
    return as_int(value)


def _range_step(value: Any) -> int:
    if not (_is_numeric(value) or type(value) is Decimal128):
        # MongoDB's message has no space after "type:".
        raise EvaluationError(
            f"$range requires a numeric step value, found value of type:{type_name(value)}",
            34447,
        )
    if not is_int32(value):
        raise EvaluationError(
            "$range requires a step value that can be represented as a 32-bit integer, "
            f"found value: {value_text(value)}",
            34448,
        )
    step = as_int(value)
    if step == 0:
        raise EvaluationError("$range requires a non-zero step value", 34449)
    return step


@operator("$range")
def _range(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$range", args, c, scope, 2, 3)
    step_fn = items[2] if len(items) == 3 else None

    def generate(doc: dict, frame: list) -> list:
        start = _range_bound(items[0](doc, frame), "starting", 34443)
        end = _range_bound(items[1](doc, frame), "ending", 34445)
        step = _range_step(step_fn(doc, frame)) if step_fn is not None else 1
        # MongoDB refuses a range it estimates over 64 MiB rather than building it.
        distance = end - start
        steps = abs(distance) // abs(step)
        if (distance < 0) != (step < 0):
            steps = -steps
        length = steps + 1 if steps >= 0 else 0
        needed = _VECTOR_BYTES + length * _VALUE_BYTES
        if needed >= _RANGE_MAX_BYTES:
            raise EvaluationError(
                f"$range would use too much memory ({needed} bytes) and cannot spill to disk. "
                f"Memory limit: {_RANGE_MAX_BYTES} bytes",
                146,
            )
        return list(range(start, end, step))

    return fold_constant(generate, items)


@unary_operator(
    "$reverseArray",
    list,
    "The argument to $reverseArray must be an array, but was of type: ",
    34435,
    fold=True,
)
def _reverse_array(array: list) -> list:
    return array[::-1]


# --- $sortArray ---------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return _is_numeric(value) or type(value) is Decimal128


def _direction(value: Any) -> int | None:
    """1 or -1 for a numeric 1 or -1 (any numeric type), else None."""
    if not _is_number(value):
        return None
    number = value.to_decimal() if type(value) is Decimal128 else value
    return 1 if number == 1 else -1 if number == -1 else None


def _sort_spec(sort_by: Any) -> int | list[tuple[str, int]]:
    """A direction for the whole value, or (path, direction) pairs for documents."""
    if isinstance(sort_by, dict):
        if not sort_by:
            raise PipelineError(
                "BadValue: The sort pattern is empty when it should be a set of fields."
            )
        pattern = []
        for path, value in sort_by.items():
            direction = _direction(value)
            if direction is None:
                raise PipelineError("BadValue: The sort element value must be either 1 or -1")
            if not path:
                raise PipelineError("BadValue: The sort field cannot be empty")
            if "" in path.split("."):
                raise PipelineError(
                    "BadValue: The sort field is a dotted field but has an empty part: " + path
                )
            pattern.append((path, direction))
        return pattern
    if _is_number(sort_by):
        direction = _direction(sort_by)
        if direction is None:
            raise PipelineError("The $sort element value must be either 1 or -1")
        return direction
    raise PipelineError(
        "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort "
        "embedded fields"
    )


def _sort_key_at(value: Any, path: str) -> Any:
    """The sort key of one element at a dotted path, as $push's $sort extracts it: a field
    named by the whole path first, then component by component (an array is an object keyed
    "0", "1", ...); no fan-out over arrays, and missing becomes null."""
    while True:
        if isinstance(value, dict):
            if path in value:
                return value[path]
        elif isinstance(value, list):
            if path.isdigit() and str(int(path)) == path and int(path) < len(value):
                return value[int(path)]
        else:
            return None
        left, dot, right = path.partition(".")
        if not dot:
            return None
        if isinstance(value, dict):
            value = value.get(left)
        elif left.isdigit() and str(int(left)) == left and int(left) < len(value):
            value = value[int(left)]
        else:
            return None
        if not isinstance(value, (dict, list)) or not value:
            return None
        path = right


@operator("$sortArray")
def _sort_array(args: Any, c: Compiler, scope: Scope) -> Expr:
    if not isinstance(args, dict):
        raise PipelineError(
            f"$sortArray requires an object as an argument, found: {type_name(args)}"
        )
    spec: int | list[tuple[str, int]] | None = None
    for key, value in args.items():
        if key == "sortBy":
            spec = _sort_spec(value)
        elif key != "input":
            raise PipelineError(f"$sortArray found an unknown argument: {key}")
    if "input" not in args:
        raise PipelineError("$sortArray requires 'input' to be specified")
    if spec is None:
        raise PipelineError("$sortArray requires 'sortBy' to be specified")
    input_fn = c.compile(args["input"], scope)
    whole_key = cmp_to_key(compare)

    if isinstance(spec, int):
        descending = spec < 0

        def order(array: list) -> list:
            # Python's sort is stable, also reversed; MongoDB leaves ties unspecified.
            return sorted(array, key=whole_key, reverse=descending)

    else:
        pattern = spec

        pattern_key = sort_key([direction for _, direction in pattern])

        def order(array: list) -> list:
            # Scalars are sorted as {"": value}: every field of theirs reads null.
            keys = [
                [
                    _sort_key_at(element, path) if isinstance(element, dict) else None
                    for path, _ in pattern
                ]
                for element in array
            ]
            ranked = sorted(range(len(array)), key=lambda i: pattern_key(keys[i]))
            return [array[i] for i in ranked]

    def sort_array(doc: dict, frame: list) -> Any:
        array = input_fn(doc, frame)
        if array is None or array is MISSING:
            return None
        if not isinstance(array, list):
            raise EvaluationError(
                "The input argument to $sortArray must be an array, but was of type: "
                f"{type_name(array)}",
                2942504,
            )
        return order(array) if len(array) > 1 else array

    return sort_array


# --- $zip ---------------------------------------------------------------------------------------


@operator("$zip")
def _zip(args: Any, c: Compiler, scope: Scope) -> Expr:
    if not isinstance(args, dict):
        raise PipelineError(f"$zip only supports an object as an argument, found {type_name(args)}")
    use_longest = False
    input_specs: list = []
    default_specs: list = []
    for key, value in args.items():
        if key == "inputs":
            if not isinstance(value, list):
                raise PipelineError(
                    f"inputs must be an array of expressions, found {type_name(value)}"
                )
            input_specs = value
        elif key == "defaults":
            if not isinstance(value, list):
                raise PipelineError(
                    f"defaults must be an array of expressions, found {type_name(value)}"
                )
            default_specs = value
        elif key == "useLongestLength":
            if type(value) is not bool:
                raise PipelineError(f"useLongestLength must be a bool, found {type_name(value)}")
            use_longest = value
        else:
            raise PipelineError(f"$zip found an unknown argument: {key}")
    if not input_specs:
        raise PipelineError("$zip requires at least one input array")
    if default_specs and not use_longest:
        raise PipelineError("cannot specify defaults unless useLongestLength is true")
    if default_specs and len(default_specs) != len(input_specs):
        raise PipelineError("defaults and inputs must have the same length")
    input_fns = [c.compile(spec, scope) for spec in input_specs]
    default_fns = [c.compile(spec, scope) for spec in default_specs]

    def zip_arrays(doc: dict, frame: list) -> Any:
        arrays = []
        for fn in input_fns:
            array = fn(doc, frame)
            if array is None or array is MISSING:
                return None
            if not isinstance(array, list):
                raise EvaluationError(
                    f"$zip found a non-array expression in input: {value_text(array)}", 34468
                )
            arrays.append(array)
        lengths = [len(array) for array in arrays]
        shortest, longest = min(lengths), max(lengths)
        defaults: list = [None] * len(arrays)
        if shortest != longest and default_fns:
            # Defaults are evaluated only when some input is shorter than another.
            defaults = [fn(doc, frame) for fn in default_fns]
            defaults = [None if value is MISSING else value for value in defaults]
        return [
            [
                array[row] if row < len(array) else default
                for array, default in zip(arrays, defaults, strict=True)
            ]
            for row in range(longest if use_longest else shortest)
        ]

    return zip_arrays


# --- $sum, $avg, $min, $max as expressions ----------------------------------------------------


# With several operands an array is just a non-numeric value.
reduction_operator("$sum", sum_of)
reduction_operator("$avg", avg_of)
reduction_operator("$min", min_of)
reduction_operator("$max", max_of)
