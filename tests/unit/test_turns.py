"""Batches overlap in the pipeline, but every stage takes them in the order they came."""

from __future__ import annotations

import asyncio

from services.broker.turns import Turns


async def test_each_stage_takes_the_batches_in_order() -> None:
    turns = Turns(("a", "b"))
    seen: list[tuple[str, int]] = []
    gates = {n: asyncio.Event() for n in range(3)}

    async def batch(n: int) -> None:
        ticket = turns.enter()
        try:
            async with ticket.turn("a"):
                await gates[n].wait()  # the batches finish stage a in reverse order
                seen.append(("a", n))
            async with ticket.turn("b"):
                seen.append(("b", n))
        finally:
            ticket.close()

    tasks = [asyncio.ensure_future(batch(n)) for n in range(3)]
    for n in (2, 1, 0):
        gates[n].set()
        await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert [n for stage, n in seen if stage == "a"] == [0, 1, 2]
    assert [n for stage, n in seen if stage == "b"] == [0, 1, 2]


async def test_a_batch_may_be_in_a_later_stage_while_the_next_is_in_an_earlier_one() -> None:
    turns = Turns(("a", "b"))
    first, second = turns.enter(), turns.enter()
    in_b = asyncio.Event()
    leave_b = asyncio.Event()

    async def run_first() -> None:
        async with first.turn("a"):
            pass
        async with first.turn("b"):
            in_b.set()
            await leave_b.wait()
        first.close()

    task = asyncio.ensure_future(run_first())
    await asyncio.wait_for(in_b.wait(), 5)
    async with second.turn("a"):  # free while the first batch holds b
        pass
    entered_b = asyncio.Event()

    async def second_in_b() -> None:
        async with second.turn("b"):
            entered_b.set()

    waiting = asyncio.ensure_future(second_in_b())
    await asyncio.sleep(0.01)
    assert not entered_b.is_set()
    leave_b.set()
    await asyncio.wait_for(asyncio.gather(task, waiting), 5)
    assert entered_b.is_set()


async def test_a_closed_ticket_frees_the_stages_it_never_reached() -> None:
    turns = Turns(("a", "b"))
    failed = turns.enter()
    following = turns.enter()
    failed.close()  # raised before any stage
    for stage in ("a", "b"):
        async with following.turn(stage):
            pass
