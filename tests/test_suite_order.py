"""The suite's own ordering: the waiting tests spread evenly among the rest (tests/conftest.py)."""

from __future__ import annotations

import itertools

from tests.support.ordering import interleaved


def test_every_item_is_kept_once_and_each_list_keeps_its_order() -> None:
    rest = [f"r{n}" for n in range(100)]
    spread = [f"s{n}" for n in range(20)]

    result = interleaved(rest, spread, until=0.85)

    assert sorted(result) == sorted(rest + spread)
    assert [item for item in result if item.startswith("r")] == rest
    assert [item for item in result if item.startswith("s")] == spread


def test_the_spread_ones_are_evenly_apart_and_end_before_the_last_of_the_rest() -> None:
    rest = [f"r{n}" for n in range(100)]
    spread = [f"s{n}" for n in range(20)]

    result = interleaved(rest, spread, until=0.85)

    positions = [index for index, item in enumerate(result) if item.startswith("s")]
    gaps = {later - earlier for earlier, later in itertools.pairwise(positions)}
    # 85 of the rest carry 20 spread ones: one every 4 to 5 of the rest.
    assert gaps <= {5, 6}, gaps
    assert positions[0] == 0
    assert result[-15:] == rest[-15:]


def test_more_spread_than_rest_and_empty_lists() -> None:
    assert interleaved([], ["s0", "s1"], until=0.85) == ["s0", "s1"]
    assert interleaved(["r0"], [], until=0.85) == ["r0"]
    result = interleaved(["r0", "r1"], ["s0", "s1", "s2", "s3"], until=0.5)
    assert sorted(result) == ["r0", "r1", "s0", "s1", "s2", "s3"]
    assert result[-1] == "r1"
