#!/usr/bin/env python3
"""refapi's API in another stack, aiohttp + asyncpg (Debian's python3-aiohttp
and python3-asyncpg), for gracecheck's own proof that its pool checks hold
on an async pool that closes by refusing.

    asyncpg_server.py PORT DATABASE_URL [--pool N] [--bug close-pool-at-signal]

Endpoints as refapi's: GET /healthz, GET /readyz (503 once shutdown began),
GET /items/{id}, POST /items {"key": ..., "body": ...} (201 created, 200 if
the key exists, answered after the commit), GET /slow?ms=N (holds a pooled
connection in pg_sleep). A request that gets no connection, or whose query
fails, is answered 503.

Shutdown (correct): on SIGTERM or SIGINT, /readyz says 503, the listener
closes, idle keep-alive connections are closed and the handlers in flight
finish (aiohttp's AppRunner.cleanup); only then is the pool closed
(asyncpg's Pool.close(): waits until every connection is released, then
closes them all); exit 0. A second signal exits 1 at once.

  --bug close-pool-at-signal
      The signal handler starts pool.close() at once, beside the HTTP drain
      ("close everything at the signal"). asyncpg then refuses every new
      acquire ("pool is closing": the handler answers 503) but keeps every
      session open until the last busy connection is released: requests
      accepted before the signal fail while the database sees nothing go.
"""
import argparse
import asyncio
import json
import os
import signal
import sys

import asyncpg
from aiohttp import web

SCHEMA = """CREATE TABLE IF NOT EXISTS items (
  id bigserial PRIMARY KEY,
  key text UNIQUE NOT NULL,
  body text,
  created_at timestamptz DEFAULT now())"""
MAX_SLEEP_MS = 10 * 60 * 1000
POOL_WAIT_S = 5.0


def log(message):
    print(f"asyncpg_server[{os.getpid()}] {message}", file=sys.stderr, flush=True)


def reply(status, body):
    return web.json_response(body, status=status)


class Api:
    def __init__(self, pool):
        self.pool = pool
        self.ready = True

    async def with_connection(self, query):
        try:
            async with self.pool.acquire(timeout=POOL_WAIT_S) as connection:
                return await query(connection)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError,
                asyncio.TimeoutError) as e:
            return reply(503, {"error": f"database error: {type(e).__name__}: {e}"})

    async def healthz(self, request):
        return reply(200, {"status": "ok"})

    async def readyz(self, request):
        return reply(200 if self.ready else 503, {"ready": self.ready})

    async def get_item(self, request):
        try:
            item = int(request.match_info["id"])
        except ValueError:
            return reply(404, {"error": "no such item"})

        async def query(c):
            row = await c.fetchrow("SELECT id, key FROM items WHERE id = $1", item)
            if row is None:
                return reply(404, {"error": "no such item"})
            return reply(200, {"id": row["id"], "key": row["key"]})

        return await self.with_connection(query)

    async def post_item(self, request):
        text = await request.text()
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return reply(400, {"error": "body is not a JSON object"})
        key = body.get("key")
        if not isinstance(key, str) or not key:
            return reply(400, {"error": 'body needs a non-empty string "key"'})

        async def query(c):
            async with c.transaction():
                item = await c.fetchval(
                    "INSERT INTO items (key, body) VALUES ($1, $2) "
                    "ON CONFLICT (key) DO NOTHING RETURNING id", key, text)
                created = item is not None
                if not created:
                    item = await c.fetchval("SELECT id FROM items WHERE key = $1", key)
            return reply(201 if created else 200, {"id": item, "key": key})

        return await self.with_connection(query)

    async def slow(self, request):
        try:
            ms = int(request.query.get("ms", ""))
        except ValueError:
            ms = -1
        if ms < 0 or ms > MAX_SLEEP_MS:
            return reply(400, {"error": "ms wants a whole number of milliseconds from 0 to 600000"})

        async def query(c):
            await c.execute("SELECT pg_sleep($1)", ms / 1000.0)
            return reply(200, {"slept_ms": ms})

        return await self.with_connection(query)


async def serve(args):
    pool = await asyncpg.create_pool(args.database_url, min_size=args.pool, max_size=args.pool)
    async with pool.acquire() as c:
        await c.execute(SCHEMA)
    api = Api(pool)
    app = web.Application()
    app.add_routes([
        web.get("/healthz", api.healthz),
        web.get("/readyz", api.readyz),
        web.get(r"/items/{id}", api.get_item),
        web.post("/items", api.post_item),
        web.get("/slow", api.slow),
    ])
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, backlog=1024, shutdown_timeout=10.0)
    await site.start()
    print(f"listening on 127.0.0.1:{args.port}", flush=True)

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = 0
    closing_pool = None

    def on_signal(sig):
        nonlocal signals, closing_pool
        signals += 1
        log(f"signal {signal.Signals(sig).name}")
        if signals > 1:
            log("second signal: exiting now")
            os._exit(1)
        api.ready = False
        if args.bug == "close-pool-at-signal":
            closing_pool = asyncio.ensure_future(pool.close())  # BUG: before the drain
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    await stop.wait()
    await runner.cleanup()  # stop accepting, close idle connections, finish handlers
    log("http drained")
    if closing_pool is None:
        await pool.close()
    else:
        await closing_pool
    log("pool closed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("database_url")
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--bug", choices=["close-pool-at-signal"])
    args = parser.parse_args()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
