"""Cost of building one auto-reply: ``compose_message`` + ``message_bytes``, in ms per mail.

The worker composes one such mail per new ticket, so this is a direct share of intake time.
The input is shaped like a real auto-reply: Chinese display names and subject, ~1.5 KB of
Chinese and English text, its HTML version, and a short References chain.

    .venv/bin/python bench/compose_bench.py                # 2,000 mails, best of 5 rounds
    .venv/bin/python bench/compose_bench.py -n 500 -r 3
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailrouter.compose import compose_message, message_bytes

TEXT = (
    "王芳，您好！\n\n"
    "感谢您联系示例科技。您的来信已安全送达，现由售后服务部负责跟进。\n\n"
    "工单编号：SUP-000123\n\n"
    "我们的工作人员会仔细阅读您的来信，并在11月25日（星期二）18:00之前亲自给您答复。\n\n"
    "在此期间，以下常见问题解答或许已经能帮到您：\n\n"
    "1. 收到的商品有破损怎么办？\n"
    "   请在签收后七天内拍照并回复本邮件，我们会为您安排免费换货或退款。\n"
    "   查看完整解答：https://help.example.com/faq/damaged-goods?t=abcdefghijklmnop\n"
    "   这解决了我的问题：https://help.example.com/s/SUP-000123/17/abcdefghijklmnopqrst\n\n"
    "Dear customer, thank you for contacting Example Technology. Your message has arrived "
    "safely and the after-sales team is looking after it. Ticket reference: SUP-000123. "
    "A member of staff will read your message and answer you personally before "
    "Tuesday 25 November, 18:00.\n\n"
    "您可以随时通过以下链接查看工单进度：\n"
    "https://help.example.com/t/SUP-000123/abcdefghijklmnopqrstuvwxyz234567\n\n"
    "如需补充信息，请直接回复本邮件，并保留邮件主题中的 [#SUP-000123]，"
    "这样您的回复会自动归入同一工单。\n\n"
    "祝好！\n示例科技 售后服务部\n\n"
    "（这是一封自动发送的收件确认邮件，稍后会有工作人员亲自回复您。）\n"
)
HTML = (
    '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
    "<title>示例科技 [#SUP-000123]</title>\n</head>\n"
    '<body style="margin:0;padding:0;background:#f4f5f7;">\n'
    '<div style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff;'
    "font-family:'PingFang SC','Microsoft YaHei',Arial,sans-serif;font-size:15px;"
    'line-height:1.8;color:#1f2933;">\n'
    + "".join(f"<p>{paragraph}</p>\n" for paragraph in TEXT.split("\n\n"))
    + "</div>\n</body>\n</html>\n"
)


def compose_one() -> bytes:
    """One auto-reply as the worker builds it."""
    return message_bytes(
        compose_message(
            from_name="售后服务部 · 示例科技",
            from_address="service@example.com",
            to=["王芳 <wang.fang@example.cn>"],
            subject="[#SUP-000123] 已收到：订单5567货物破损，请尽快处理 (order 5567 damaged)",
            text=TEXT,
            html=HTML,
            message_id="<SUP-000123.abcdefgh.abcdefghijklmnop@example.com>",
            in_reply_to="<CAF=abc123456789@mail.gmail.com>",
            references=["<root.1234@mail.example.cn>", "<second.5678@mail.example.cn>"],
            automatic=True,
            date_at=datetime(2026, 11, 24, 7, 0, tzinfo=UTC),
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--mails", type=int, default=2000, help="mails per round")
    parser.add_argument("-r", "--rounds", type=int, default=5, help="rounds (best is reported)")
    args = parser.parse_args()
    size = len(compose_one())
    timings = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        for _ in range(args.mails):
            compose_one()
        timings.append((time.perf_counter() - started) * 1000 / args.mails)
    print(
        f"compose_message + message_bytes: best {min(timings):.3f} ms per mail, "
        f"rounds {', '.join(f'{t:.3f}' for t in timings)} ({args.mails} mails each, "
        f"text {len(TEXT.encode())} B, html {len(HTML.encode())} B, mail {size} B)"
    )


if __name__ == "__main__":
    main()
