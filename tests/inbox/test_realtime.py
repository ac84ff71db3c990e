"""The one background sender of live events: in order, bounded, and nothing dropped without a trace."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from typing import Any

import pytest

from inbox import realtime
from tests.support import wait_for


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the sender hands to the channel layer; `gate` holds it inside its first send until set."""
    record: dict[str, Any] = {"messages": [], "gate": threading.Event(), "entered": threading.Event()}

    async def group_send(group: str, message: dict[str, Any], events: list[dict[str, Any]]) -> None:
        record["entered"].set()
        while not record["gate"].is_set():
            await asyncio.sleep(0.01)
        record["messages"].append((group, message))

    monkeypatch.setattr(realtime, "_group_send", group_send)
    return record


@pytest.fixture
def loops() -> Any:
    made: list[realtime._PublishLoop] = []

    def make(limit: int) -> realtime._PublishLoop:
        made.append(realtime._PublishLoop(limit=limit))
        return made[-1]

    yield make
    for loop in made:
        loop.close()


def item(n: int) -> dict[str, Any]:
    return {"event": {"type": "message.created", "n": n}, "audience": None}


def test_events_leave_in_order_batched_per_group(sent, loops):
    loop = loops(100)
    sent["gate"].set()
    for n in range(5):
        loop.submit("shop.1", item(n))
    loop.submit("shop.2", item(99))
    wait_for(lambda: sum(len(realtime.layer_events(m)) for _, m in sent["messages"]) == 6, timeout=5)
    numbers = [e["n"] for group, m in sent["messages"] if group == "shop.1" for e in realtime.layer_events(m)]
    assert numbers == [0, 1, 2, 3, 4]
    assert loop.dropped_total == 0


def test_a_full_queue_drops_counts_and_logs(sent, caplog, loops):
    loop = loops(3)
    loop.submit("shop.1", item(0))
    assert sent["entered"].wait(5)  # the sender holds item 0, its queue is empty
    with caplog.at_level(logging.WARNING, logger="balas.realtime"):
        for n in range(1, 8):
            loop.submit("shop.1", item(n))
        wait_for(lambda: loop.dropped_total == 4, timeout=5)
    assert caplog.text.count("realtime.publish_dropped") == 4
    assert "total=4" in caplog.text
    sent["gate"].set()
    wait_for(lambda: sum(len(realtime.layer_events(m)) for _, m in sent["messages"]) == 4, timeout=5)
    time.sleep(0.1)
    kept = [e["n"] for _, m in sent["messages"] for e in realtime.layer_events(m)]
    assert kept == [0, 1, 2, 3]  # the oldest kept, in order; 4..7 dropped and counted


def test_a_forked_process_gets_a_sender_of_its_own(sent, loops):
    loop = loops(10)
    sent["gate"].set()
    loop.submit("shop.1", item(0))
    first = loop._loop
    assert first is not None
    loop._pid = os.getpid() + 1  # what a child of this process sees: the parent's pid
    loop.submit("shop.1", item(1))
    assert loop._loop is not first and loop._pid == os.getpid()
    wait_for(lambda: len(sent["messages"]) == 2, timeout=5)
    realtime.loop_stop(first)
