"""A TCP proxy on loopback, optionally adding a one-way delay: PostgreSQL "on another host".

The worker's round trips to the database cost little on loopback (0.11 ms here) and more when
the database is on another host (0.3-0.5 ms in one data centre). To measure what that costs,
and what psycopg's pipeline mode (support/core/round_trips.py) saves, run the intake bench
through this proxy:

    .venv/bin/python bench/latency_proxy.py --listen 5434 --target 5432 &
    .venv/bin/python bench/intake_bench.py --database-url \
        postgresql+psycopg://postgres@127.0.0.1:5434/lead_bench --wipe [--no-pipeline] ...

With no delay the proxy alone makes a round trip 0.38 ms on this machine (measured with 300
`select 1`); every added millisecond of delay adds about two to each round trip, and more on a
loaded machine (asyncio timers).

`--turns` prints, every few seconds, how many times a client has sent after the server answered:
the round trips it waited for (a pipeline's statements sent together count once), to divide by
the messages a worker processed meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

#: Round trips seen (a client sending after the server answered), over all connections.
turns = 0


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    delay: float,
    side: list[str],
    name: str,
) -> None:
    global turns
    loop = asyncio.get_running_loop()
    try:
        while data := await reader.read(65536):
            if side[0] != name:
                side[0] = name
                turns += name == "client"
            if delay:
                loop.call_later(delay, writer.write, data)  # in order: deadlines only grow
            else:
                writer.write(data)
    finally:
        loop.call_later(2 * delay, writer.close)


async def _serve(listen: int, target: int, delay: float) -> None:
    async def handle(client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        server_reader, server = await asyncio.open_connection("127.0.0.1", target)
        side = ["server"]  # who sent last on this connection
        await asyncio.gather(
            _pump(client_reader, server, delay, side, "client"),
            _pump(server_reader, client, delay, side, "server"),
            return_exceptions=True,
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
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
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
