"""Open-loop load generator (its own process): signed webhooks at a steady rate, and WebSocket listeners.

    python bench/loadgen.py rate --url URL --bodies B.jsonl --rate 300 --seconds 20 --out R.json [--ws WS_URL]
    python bench/loadgen.py alerts --ws WS_URL --count N --timeout S --out R.json

`rate` sends request i at t0 + i/rate whatever the answers do (no coordinated omission: a slow answer
does not delay the next send), each on a new connection as wrk does against gunicorn's sync workers, and
times each from its scheduled moment. With --ws it also listens on an admin's socket and times every
`message.created` event from the moment its webhook was scheduled. Its own CPU time and how late it got
its sends out are reported, to show it is not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None


async def _post(host: str, port: int, path: str, body: bytes, signature: str) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"X-Hub-Signature-256: {signature}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # until the server closes: the whole answer is in
        return int(status_line.split()[1])
    finally:
        writer.close()


async def _ws_listen(url: str, seen: dict[str, float], ready: asyncio.Event, stop: asyncio.Event) -> None:
    import websockets

    parts = urlsplit(url)
    async with websockets.connect(url, origin=f"http://{parts.hostname}", max_queue=None) as socket:  # type: ignore[arg-type]
        ready.set()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout=0.5)
            except TimeoutError:
                continue
            now = time.time()
            event = json.loads(raw)
            if event.get("type") == "message.created":
                seen.setdefault(event["message"]["platform_message_id"], now)


async def rate_run(args: argparse.Namespace) -> dict[str, Any]:
    items = [json.loads(line) for line in Path(args.bodies).read_text().splitlines()]
    total = int(args.rate * args.seconds)
    if total > len(items):
        raise SystemExit(f"{total} requests need {total} distinct bodies; {args.bodies} has {len(items)}")
    parts = urlsplit(args.url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    seen: dict[str, float] = {}
    stop = asyncio.Event()
    listener = None
    if args.ws:
        ready = asyncio.Event()
        listener = asyncio.create_task(_ws_listen(args.ws, seen, ready, stop))
        await asyncio.wait_for(ready.wait(), timeout=10)
        await asyncio.sleep(0.5)
    results: list[tuple[str, float, float, float, int]] = []

    async def one(item: dict[str, str], scheduled: float) -> None:
        sent = time.time()
        try:
            status = await _post(host, port, path, item["b"].encode(), item["s"])
        except OSError:
            status = 0
        results.append((item["id"], scheduled, sent, time.time(), status))

    cpu0 = time.process_time()
    t0 = time.time() + 0.2
    tasks = []
    for i in range(total):
        scheduled = t0 + i / args.rate
        delay = scheduled - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(items[i], scheduled)))
    await asyncio.gather(*tasks)
    wall = time.time() - t0
    if listener is not None:
        deadline = time.time() + 10
        while time.time() < deadline and len(seen) < sum(1 for r in results if r[4] == 200):
            await asyncio.sleep(0.05)
        stop.set()
        await listener
    cpu = time.process_time() - cpu0
    return {
        "requests": [
            {"id": rid, "scheduled": sch, "sent": sent, "done": done, "status": st, "ws": seen.get(rid)}
            for rid, sch, sent, done, st in results
        ],
        "wall_s": wall,
        "cpu_s": cpu,
    }


async def alerts_run(args: argparse.Namespace) -> dict[str, Any]:
    import websockets

    parts = urlsplit(args.ws)
    received: dict[int, float] = {}
    deadline = time.time() + args.timeout
    async with websockets.connect(args.ws, origin=f"http://{parts.hostname}", max_queue=None) as socket:  # type: ignore[arg-type]
        Path(args.out).with_suffix(".ready").write_text("ready")
        while len(received) < args.count and time.time() < deadline:
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout=0.5)
            except TimeoutError:
                continue
            now = time.time()
            event = json.loads(raw)
            if event.get("type") == "alert.created":
                received.setdefault(event["alert"]["id"], now)
    return {"alerts": received}


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    rate = sub.add_parser("rate")
    rate.add_argument("--url", required=True)
    rate.add_argument("--bodies", required=True)
    rate.add_argument("--rate", type=float, required=True)
    rate.add_argument("--seconds", type=float, required=True)
    rate.add_argument("--ws", default="")
    rate.add_argument("--out", required=True)
    alerts = sub.add_parser("alerts")
    alerts.add_argument("--ws", required=True)
    alerts.add_argument("--count", type=int, required=True)
    alerts.add_argument("--timeout", type=float, required=True)
    alerts.add_argument("--out", required=True)
    args = parser.parse_args()
    if uvloop is not None:
        uvloop.install()
    result = asyncio.run(rate_run(args) if args.mode == "rate" else alerts_run(args))
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
