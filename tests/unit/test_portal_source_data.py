"""The pure rules of annotations, comments, taxonomies and classifications: SkyPortal's
checks and messages, tdtax's schema as SkyPortal applies it."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
import tdtax

from services.portal import annotations, classifications, comments, grouped


def test_tdtax_default_taxonomy_validates_and_names_its_classes() -> None:
    classifications.check_hierarchy(copy.deepcopy(tdtax.taxonomy))
    allowed = list(classifications.allowed_classes(tdtax.taxonomy))
    assert allowed[0] == "Time-domain Source"
    assert "binary lens" in allowed
    # tdtax's tree spells one key "subclass": SkyPortal never offers what hangs under it.
    assert "lens with planet" not in allowed


@pytest.mark.parametrize(
    ("hierarchy", "words"),
    [
        ({"class": "X", "extra": 1}, "('extra' was unexpected)"),
        ({"comments": "no class"}, "'class' is a required property"),
        ({"class": 3}, "3 is not of type 'string'"),
        ([{"class": "X"}], "is not of type 'object'"),
        ({"class": "X", "tags": ["a", "a"]}, "has non-unique elements"),
        ({"class": "X", "subclasses": {"class": "Y"}}, "is not of type 'array'"),
        ({"class": "X", "subclasses": ["Y"]}, "hierarchy.subclasses[0] must be a node"),
        (
            {"class": "X", "subclasses": [{"class": "Y", "subclasses": [{"klass": "Z"}]}]},
            "hierarchy.subclasses[0].subclasses[0] must be a node",
        ),
    ],
)
def test_invalid_hierarchies_are_refused_with_the_reason(hierarchy: Any, words: str) -> None:
    with pytest.raises(ValueError, match=r"^Hierarchy does not validate against the schema: ") as e:
        classifications.check_hierarchy(hierarchy)
    assert words in str(e.value)


def test_every_class_of_the_tree_is_allowed() -> None:
    tree = {
        "class": "A",
        "other names": ["a"],
        "links": ["https://example.org"],
        "subclasses": [{"class": "B", "subclasses": [{"class": "C"}]}, {"class": "D"}],
    }
    classifications.check_hierarchy(tree)
    assert list(classifications.allowed_classes(tree)) == ["A", "B", "C", "D"]


@pytest.mark.parametrize("value", [0, 0.0, 0.5, 1, 1.0, None])
def test_probabilities_in_range(value: Any) -> None:
    assert classifications._probability(value) == (None if value is None else float(value))


@pytest.mark.parametrize("value", [-0.01, 1.01, 2])
def test_probabilities_out_of_range(value: float) -> None:
    with pytest.raises(ValueError, match=r"outside the allowable range \(0-1\)\.$"):
        classifications._probability(value)


@pytest.mark.parametrize("value", ["0.5", True, [0.5]])
def test_probabilities_must_be_numbers(value: Any) -> None:
    with pytest.raises(ValueError, match="must be a number"):
        classifications._probability(value)


@pytest.mark.parametrize(
    ("value", "truth"),
    [(True, True), ("True", True), ("t", True), ("true", True), (False, False), ("f", False)],
)
def test_ml_takes_skyportals_spellings(value: Any, truth: bool) -> None:
    assert classifications._ml(value) is truth


def test_ml_refuses_other_words() -> None:
    with pytest.raises(ValueError, match="ml must be one of"):
        classifications._ml("yes")


@pytest.mark.parametrize("origin", ["a", "_x", "9:filter", "group:filter name"])
def test_origins_begin_with_a_word_character(origin: str) -> None:
    assert annotations.check_origin(origin) == origin


@pytest.mark.parametrize("origin", ["-x", " x", ":x", 3])
def test_other_origins_are_refused(origin: Any) -> None:
    with pytest.raises(ValueError, match="must begin with alphanumeric/underscore"):
        annotations.check_origin(origin)


@pytest.mark.parametrize("origin", [None, ""])
def test_an_origin_is_required(origin: Any) -> None:
    with pytest.raises(ValueError, match="origin must be specified"):
        annotations.check_origin(origin)


@pytest.mark.parametrize("data", [None, [], "x", 1, {}])
def test_annotation_data_is_a_non_empty_object(data: Any) -> None:
    with pytest.raises(ValueError, match=r"^Invalid data"):
        annotations.check_data(data)


def test_attachments_are_base64_with_or_without_a_data_url_prefix() -> None:
    body = base64.b64encode(b"\x00\x01binary").decode()
    for sent in (body, f"data:application/octet-stream;base64,{body}"):
        found = comments.check_attachment({"name": "f.bin", "body": sent})
        assert (found.name, found.data) == ("f.bin", b"\x00\x01binary")
    for bad in ({"name": "f"}, {"body": body}, {"name": "f", "body": "%%%"}, "f", None):
        with pytest.raises(ValueError, match=r"^Malformed comment attachment"):
            comments.check_attachment(bad)


def test_attachment_names_make_a_safe_header() -> None:
    assert comments.disposition("spec.csv") == 'attachment; filename="spec.csv"'
    assert comments.disposition('a"b\\c\né.txt') == 'attachment; filename="a_b_c__.txt"'


@pytest.mark.parametrize(("value", "number"), [(3, 3), (3.0, 3), ("12", 12), ("-4", -4)])
def test_ids_from_json_bodies(value: Any, number: int) -> None:
    assert grouped.integer(value, "group_ids") == number


@pytest.mark.parametrize("value", [True, 3.5, "x", None, [1]])
def test_non_integer_ids_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="group_ids must be an integer"):
        grouped.integer(value, "group_ids")


def test_group_id_lists() -> None:
    assert grouped.id_list([3, 1.0, "2", 3]) == [1, 2, 3]
    with pytest.raises(ValueError, match="must be a list"):
        grouped.id_list(5)
