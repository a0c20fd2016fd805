"""Throughput of the FAQ home and search pages under concurrent clients, next to a bare Flask page.

Each server runs in its own process on waitress with HTTP_THREADS threads, exactly as
`support run` serves the portal; a bare Flask "hello" app is served the same way in the same run,
so the figures separate what the FAQ costs from what the server and the machine cost. The
load generator (keep-alive HTTP clients in threads) runs in this process.

    .venv/bin/python bench/faq_pages_bench.py                      # 1,000 and 10,000 articles
    .venv/bin/python bench/faq_pages_bench.py --articles 1000 --seconds 5 --clients 20
    .venv/bin/python bench/faq_pages_bench.py --database-url postgresql+psycopg://u@h/db

The search page logs every search (a database write) as it does in production; the home page
only reads. Both use a browser user agent, so nothing is skipped as a bot.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
EN_WORDS = (
    "kettle toaster purifier filter lamp fan vacuum robot battery charger cable order invoice "
    "delivery parcel courier refund return warranty repair price discount coupon member points "
    "account password address payment card installment shipping customs store showroom job "
    "screen button noise smell water power plug light timer remote app wifi colour size box"
).split()
ZH_WORDS = (
    "水壶 净化器 滤网 台灯 风扇 扫地机 电池 充电器 订单 发票 快递 包裹 退款 退货 保修 维修 价格 "
    "优惠券 会员 积分 账号 密码 地址 付款 信用卡 分期 运费 关税 门店 招聘 噪音 异味 开关 遥控 "
    "颜色 尺寸 包装 到货 发货 破损 安装 说明书"
).split()


# -- building a database ----------------------------------------------------------------------


def build(database_url: str, instance: Path, articles: int, seed: int) -> None:
    """Schema, departments and `articles` generated articles in 12 categories, both languages."""
    from sqlalchemy import insert

    from faq.index_sync import rebuild_index
    from faq.models import Article, Category, Phrasing
    from support.app import create_app
    from support.core.db import get_db
    from support.desk.seed import seed_reference_data
    from support.migrate import upgrade

    rng = random.Random(seed)
    app = create_app(_config(database_url), instance_path=instance)
    database = get_db(app)
    upgrade(database.engine)
    now = datetime.now(UTC)
    with database.session() as session:
        seed_reference_data(session)
        categories = [
            Category(slug=f"topic-{n}", name_en=f"Topic {n}", name_zh=f"主题{n}") for n in range(12)
        ]
        session.add_all(categories)
        session.flush()
        rows, phrasings = [], []
        for n in range(articles):
            language = "zh" if n % 2 else "en"
            words = ZH_WORDS if language == "zh" else EN_WORDS
            joiner = "" if language == "zh" else " "
            question = joiner.join(rng.choices(words, k=rng.randint(4, 8))) + (
                "？" if language == "zh" else "?"
            )
            answer = joiner.join(rng.choices(words, k=rng.randint(40, 90)))
            rows.append(
                {
                    "slug": f"article-{n}",
                    "category_id": categories[rng.randrange(12)].id,
                    "language": language,
                    "translation_key": f"article-{n - n % 2}",
                    "question": question,
                    "answer_md": answer,
                    "is_published": True,
                    "demand_score": rng.expovariate(0.05),
                    "demand_at": now - timedelta(hours=rng.randint(0, 500)),
                }
            )
        session.execute(insert(Article), rows)
        ids = [
            a for (a,) in session.execute(Article.__table__.select().with_only_columns(Article.id))
        ]
        for article_id in ids[: len(ids) // 3]:
            words = EN_WORDS if article_id % 2 else ZH_WORDS
            phrasings.append(
                {
                    "article_id": article_id,
                    "text": " ".join(rng.choices(words, k=4)),
                    "status": "approved",
                    "source": "staff",
                }
            )
        session.execute(insert(Phrasing), phrasings)
    started = time.perf_counter()
    count = rebuild_index(app)
    print(f"  built: {count} articles indexed in {time.perf_counter() - started:.1f}s", flush=True)
    database.dispose()


def _config(database_url: str) -> dict:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "LOG_LEVEL": "WARNING",
        "HTTP_THREADS": 8,
    }


# -- serving (in a child process) -------------------------------------------------------------


def serve(kind: str, database_url: str, instance: str) -> None:
    """Child process: serve the portal or a bare Flask app on waitress; print the port."""
    import logging

    from flask import Flask
    from waitress import create_server

    logging.basicConfig(level=logging.WARNING)
    # "Task queue depth" warnings are the point of a load test, not news.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if kind == "portal":
        from support.app import create_app

        app = create_app(_config(database_url), instance_path=instance)
    else:
        app = Flask("hello")

        @app.get("/")
        def hello() -> str:
            return "hello"

    threads = 8  # HTTP_THREADS default, as `support run`
    server = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="bench")
    print(json.dumps({"port": server.effective_port}), flush=True)
    server.run()


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_server(kind: str, database_url: str, instance: Path) -> Server:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--database-url", database_url,
         "--instance", str(instance)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    line = process.stdout.readline() if process.stdout else ""
    if not line:
        raise SystemExit(f"{kind} server did not start")
    return Server(process, json.loads(line)["port"])


# -- load -------------------------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def load(port: int, paths: list[str], clients: int, seconds: float) -> Result:
    """`clients` keep-alive connections requesting `paths` round-robin for `seconds`."""
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        n = offset
        while time.perf_counter() < deadline:
            path = paths[n % len(paths)]
            n += 1
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"User-Agent": BROWSER_UA})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(response.status)
                mine.append((time.perf_counter() - started) * 1000)
            except Exception:
                with lock:
                    errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i * 7,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Result(len(latencies), errors[0], time.perf_counter() - started, latencies)


def search_paths(rng: random.Random, count: int = 200) -> list[str]:
    paths = []
    for n in range(count):
        words = rng.choices(ZH_WORDS if n % 3 == 0 else EN_WORDS, k=rng.randint(1, 3))
        text = ("" if n % 3 == 0 else " ").join(words)
        paths.append(f"/search?q={quote(text)}")
    return paths


def warm(port: int, paths: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for path in paths:
        conn.request("GET", path, headers={"User-Agent": BROWSER_UA})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"warm-up {path}: HTTP {response.status}")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", help="PostgreSQL URL (emptied!); default: SQLite")
    parser.add_argument("--serve", choices=["portal", "hello"], help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.database_url, args.instance)
        return

    rng = random.Random(args.seed)
    hello = start_server("hello", "sqlite://", Path(tempfile.mkdtemp()))
    rows = []
    try:
        warm(hello.port, ["/"])
        for articles in args.articles:
            instance = Path(tempfile.mkdtemp(prefix="faq-bench-"))
            url = args.database_url or f"sqlite:///{instance / 'bench.db'}"
            if args.database_url:
                _reset_postgres(url)
            print(f"{articles} articles ({url.split(':')[0]}):", flush=True)
            build(url, instance, articles, args.seed)
            portal = start_server("portal", url, instance)
            try:
                searches = search_paths(rng)
                warm(portal.port, ["/", "/?lang=en", *searches[:5]])
                cases = [
                    ("hello (bare Flask)", hello.port, ["/"]),
                    ("home zh", portal.port, ["/?lang=zh"]),
                    ("home en", portal.port, ["/?lang=en"]),
                    ("search", portal.port, searches),
                ]
                for name, port, paths in cases:
                    result = load(port, paths, args.clients, args.seconds)
                    rows.append((articles, name, result))
                    print(
                        f"  {name:<20} {result.rps:8.1f} req/s  p50 {result.pct(0.5):7.1f} ms  "
                        f"p95 {result.pct(0.95):7.1f} ms  errors {result.errors}",
                        flush=True,
                    )
            finally:
                portal.stop()
    finally:
        hello.stop()
    print()
    print(f"| articles | page | req/s ({args.clients} clients) | p50 ms | p95 ms | errors |")
    print("|---:|---|---:|---:|---:|---:|")
    for articles, name, r in rows:
        print(
            f"| {articles:,} | {name} | {r.rps:.0f} | {r.pct(0.5):.1f} | {r.pct(0.95):.1f} | "
            f"{r.errors} |"
        )


def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from support.core.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    main()
