"""CPU one anonymous request costs on the portal's search endpoints, for hostile queries.

Builds the demo FAQ (60 articles, the bundled model) on a throw-away SQLite database and asks
each endpoint with queries an outsider can send: unique each time (so no cache helps), of
several shapes and lengths. Prints the process CPU seconds per request (user + system, every
thread: the model's too), the median and the worst of `--repeat` unique queries.

    .venv/bin/python bench/hostile_requests_bench.py
    .venv/bin/python bench/hostile_requests_bench.py --repeat 20
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.faq_pages_bench import BROWSER_UA, EN_WORDS  # noqa: E402

ZH = (
    "水壶净化器滤网台灯风扇扫地机电池充电器订单发票快递包裹"
    "退款退货保修维修价格优惠券会员积分账号密码"
)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _shapes(rng: random.Random) -> dict[str, str]:
    """One fresh query of each hostile shape (a random tail makes each unique)."""
    tag = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=8))

    def words(n: int) -> str:
        return " ".join(rng.choices(EN_WORDS, k=n))

    def junk(n: int) -> str:
        return " ".join(
            "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(4, 9)))
            for _ in range(n)
        )

    lines = "\n".join(f"{words(8)}? {junk(3)}." for _ in range(40))
    return {
        "2000 chars, words": (words(400) + " " + tag)[:2000],
        "2000 chars, unknown words": (tag + " " + junk(300))[:2000],
        "2000 chars, 40 lines (mail-like)": (tag + " " + lines)[:2000],
        "2000 chars, Chinese": (tag + "".join(rng.choices(ZH, k=2000)))[:2000],
        "2000 chars, combining marks": (tag + ". " + "a\u0301\u0302\u0303. " * 400)[:2000],
        "2000 chars, emoji sentences": (
            tag + "".join("".join(rng.choices("😀🙃🤯🧨🦄🫠", k=30)) + ". " for _ in range(60))
        )[:2000],
        "2000 chars, emoji, one line": (tag + "".join(rng.choices("😀🙃🤯🧨🦄🫠", k=2000)))[:2000],
        "8 sentences, accented letters": ". ".join(
            tag + "".join(rng.choice("aeiou") + "\u0301\u0302" for _ in range(27)) for _ in range(8)
        ),
        "60 chars, question": f"my {words(6)} {tag}?"[:60],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()

    from faq.importexport import import_articles
    from faq.index_sync import rebuild_index
    from support.app import create_app
    from support.core.db import get_db
    from support.desk.seed import seed_reference_data
    from support.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="hostile-bench-"))
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "MAIL_DOMAINS": ["example.com"],
            "MAIL_GENERAL_ADDRESS": "support@example.com",
            "FAQ_INDEX_DIR": str(workdir / "faq-index"),
            "CLASSIFIER_MODEL_PATH": str(workdir / "classifier.pkl"),
            "WORKER_PREPARE_PROCESS": False,
            # Measure the work, not the limit: an unlimited client.
            "FAQ_QUERIES_PER_IP_MINUTE": 1_000_000,
        },
        instance_path=workdir,
    )
    database = get_db(app)
    upgrade(database.engine)
    content = json.loads((ROOT / "faq" / "demo_content.json").read_text(encoding="utf-8"))
    with database.session() as session:
        seed_reference_data(session)
        import_articles(session, content)
    rebuild_index(app)
    client = app.test_client()
    headers = {"User-Agent": BROWSER_UA}
    # The contact form's CSRF token (its session cookie stays in the client), as app.js sends.
    form = client.get("/contact", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    csrf = {"csrf_token": token.group(1)} if token else {}
    client.post("/contact/matches", data={"q": "warm up the model", **csrf}, headers=headers)

    rng = random.Random(args.seed)
    endpoints = {  # app.js POSTs the contact form's text, and GETs the others
        "/contact/matches": lambda q: client.post(
            "/contact/matches", data={"q": q, **csrf}, headers=headers
        ),
        "/suggest": lambda q: client.get(f"/suggest?q={quote(q)}", headers=headers),
        "/search": lambda q: client.get(f"/search?q={quote(q)}", headers=headers),
    }
    costs: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeat):
        for shape, query in _shapes(rng).items():
            for name, ask in endpoints.items():
                before = _cpu()
                response = ask(query)
                spent = _cpu() - before
                assert response.status_code in (200, 429), (name, response.status_code)
                costs.setdefault((name, shape), []).append(spent)
    print(f"{'endpoint':18} {'query':34} {'median s':>9} {'max s':>7}")
    for (name, shape), spent in costs.items():
        print(f"{name:18} {shape:34} {statistics.median(spent):9.3f} {max(spent):7.3f}")


if __name__ == "__main__":
    main()
