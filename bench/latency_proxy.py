"""A TCP proxy on loopback, optionally adding a one-way delay: PostgreSQL "on another host".

The worker's round trips to the database cost little on loopback (0.11 ms here) and more when
the database is on another host (0.3-0.5 ms in one data centre). To measure what that costs,
and what psycopg's pipeline mode (support/core/round_trips.py) saves, run the intake bench
through this proxy:

    .venv/bin/python bench/latency_proxy.py --listen 5434 --target 5432 &
    .venv/bin/python bench/intake_bench.py --database-url \
        postgresql+psycopg://postgres@127.0.0.1:5434/lead_bench --wipe [--no-pipeline] ...

The delay itself costs no CPU on a real network; the proxy costs some here, on the same cores
as the workers it measures. To keep that small it is written on asyncio's protocols (no streams,
no task per read) and runs on uvloop when installed (`pip install -e '.[bench]'`: about half the
CPU a round trip, 95-117 against 200-210 us with four connections); it says which loop it runs.

`--turns` prints, every few seconds, how many times a client has sent after the server answered:
the round trips it waited for (a pipeline's statements sent together count once), to divide by
the messages a worker processed meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import cast

#: Round trips seen (a client sending after the server answered), over all connections.
turns = 0


class _Pair:
    """One proxied connection: which side sent last (to count round trips) and both ends."""

    def __init__(self) -> None:
        self.last = "server"
        self.client: asyncio.Transport | None = None
        self.server: asyncio.Transport | None = None
        self.early: list[bytes] = []  # the client's bytes before the server's end is up


class _End(asyncio.Protocol):
    """One end of a pair: forwards what it receives to the other end after the delay."""

    def __init__(self, pair: _Pair, name: str, delay: float) -> None:
        self.pair, self.name, self.delay = pair, name, delay
        self.loop = asyncio.get_running_loop()

    def _peer(self) -> asyncio.Transport | None:
        return self.pair.server if self.name == "client" else self.pair.client

    def data_received(self, data: bytes) -> None:
        global turns
        if self.pair.last != self.name:
            self.pair.last = self.name
            turns += self.name == "client"
        peer = self._peer()
        if peer is None:
            self.pair.early.append(data)
        elif self.delay:
            self.loop.call_later(self.delay, peer.write, data)  # in order: deadlines only grow
        else:
            peer.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        peer = self._peer()
        if peer is not None:
            self.loop.call_later(2 * self.delay, peer.close)


class _ClientEnd(_End):
    def __init__(self, target: int, delay: float) -> None:
        super().__init__(_Pair(), "client", delay)
        self.target = target

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        client = cast(asyncio.Transport, transport)
        self.pair.client = client
        client.pause_reading()  # until the server's end is up
        self.loop.create_task(self._connect())

    async def _connect(self) -> None:
        pair = self.pair
        try:
            transport, _ = await self.loop.create_connection(
                lambda: _End(pair, "server", self.delay), "127.0.0.1", self.target
            )
        except OSError:
            if pair.client is not None:
                pair.client.close()
            return
        pair.server = transport
        for data in pair.early:
            transport.write(data)
        pair.early.clear()
        if pair.client is not None and not pair.client.is_closing():
            pair.client.resume_reading()


async def _serve(listen: int, target: int, delay: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _ClientEnd(target, delay), "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


async def _report_turns(every: float) -> None:
    while True:
        await asyncio.sleep(every)
        print(f"{time.strftime('%H:%M:%S')}  {turns} round trips", file=sys.stderr, flush=True)


async def _main(args: argparse.Namespace) -> None:
    if args.turns:
        asyncio.get_running_loop().create_task(_report_turns(args.turns))
    await _serve(args.listen, args.target, args.delay_ms / 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, default=5434)
    parser.add_argument("--target", type=int, default=5432)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="one way, each direction")
    parser.add_argument(
        "--turns", type=float, default=0.0, metavar="SECONDS", help="print round trips this often"
    )
    args = parser.parse_args()
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        print("latency_proxy: asyncio's own loop (uvloop not installed)", file=sys.stderr)
        asyncio.run(_main(args))
    else:
        print("latency_proxy: uvloop", file=sys.stderr)
        uvloop.run(_main(args))


if __name__ == "__main__":
    main()
