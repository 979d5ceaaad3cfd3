"""The engine README's operator table is current, and every operator the filter-engine issue
names is supported or refused by name with a reason."""

from __future__ import annotations

import pytest

from services.filters.engine import (
    REFUSED,
    SUPPORTED_ACCUMULATORS,
    SUPPORTED_EXPRESSION_OPERATORS,
    SUPPORTED_STAGES,
    PipelineError,
    compile_pipeline,
)
from tests.unit.filters.operator_table import README, readme_table, render

# The operators Fritz users' filters reach for, as the filter-engine issue lists them.
EXPRESSIONS = """
$anyElementTrue $allElementsTrue $arrayToObject $objectToArray $range $reverseArray $sortArray
$zip $firstN $lastN $maxN $minN $indexOfArray $setUnion $setIntersection $setDifference $setEquals
$setIsSubset $mergeObjects $getField $setField $unsetField $isNumber $toDecimal $toObjectId
$toDate $split $trim $ltrim $rtrim $indexOfBytes $indexOfCP $strLenBytes $strcasecmp $replaceOne
$replaceAll $regexFind $regexFindAll $dateToString $dateFromString $dateToParts $dateFromParts
$dateAdd $dateSubtract $dateDiff $dateTrunc $year $month $dayOfMonth $dayOfYear $dayOfWeek $hour
$minute $second $millisecond $week $isoWeek $isoWeekYear $isoDayOfWeek $stdDevPop $stdDevSamp
$median $percentile $bitAnd $bitOr $bitXor $bitNot $let $literal
""".split()
STAGES = "$facet $bucket $bucketAuto $sortByCount $sample $densify $fill".split()
ACCUMULATORS = """
$top $bottom $topN $bottomN $firstN $lastN $maxN $minN $mergeObjects $stdDevPop $stdDevSamp
$median $percentile $sum $avg $min $max $first $last $push $addToSet $count
""".split()


def test_the_readme_holds_the_generated_table() -> None:
    assert readme_table(README.read_text()) == render(), (
        "regenerate it: python -m tests.unit.filters.operator_table --write"
    )


@pytest.mark.parametrize(
    ("names", "supported"),
    [
        (EXPRESSIONS, SUPPORTED_EXPRESSION_OPERATORS),
        (STAGES, SUPPORTED_STAGES),
        (ACCUMULATORS, SUPPORTED_ACCUMULATORS),
    ],
    ids=["expressions", "stages", "accumulators"],
)
def test_every_operator_the_issue_names_is_supported(
    names: list[str], supported: frozenset[str]
) -> None:
    assert sorted(set(names) - supported) == []


def test_rand_is_refused_with_its_reason() -> None:
    reason = REFUSED[("expression", "$rand")]
    with pytest.raises(PipelineError) as raised:
        compile_pipeline([{"$match": {"$expr": {"$lt": [{"$rand": {}}, 0.5]}}}])
    assert "$rand" in str(raised.value) and reason in str(raised.value)


def test_now_is_a_supported_variable() -> None:
    (out,) = compile_pipeline([{"$project": {"_id": 0, "t": {"$type": "$$NOW"}}}]).run([{}])
    assert out == {"t": "date"}
