"""Offline evaluation of the auto-reply's FAQ offers (``faq.matching.answers_for``) on whole emails.

The FAQ's own evaluation (faq/demo_eval.csv) holds bare questions; customers write emails. Here
each question is wrapped, deterministically, in the context real mail has: a subject, a
greeting, an order number, a delivery address, the product, a signature, and sometimes the
question only in the subject. Mails no article answers (press, job applications, partnership
offers, praise, a supplier's invoice) test that nothing unrelated is offered. The mails go
through the real parser, and the text matched is the subject and the new text, as the
auto-reply reads them.

The mails are split in two halves by question (a seeded shuffle): thresholds are chosen on
``TUNE`` and reported on ``TEST``. ``bench/autoreply_offers_eval.py`` prints the figures.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from faq.evaluate import DEMO_EVAL, read_eval_csv
from mailrouter.parsing import parse_message
from support.core.text import detect_language

BOOTSTRAP = Path(__file__).resolve().parent.parent / "routing" / "training_data" / "bootstrap.csv"
SEED = 20240611
TUNE, TEST = "tune", "test"
VARIANTS = 3  # emails per evaluation question

_EN_NAMES = ("Emma Clarke", "David Wong", "Priya Nair", "Tom Becker", "Li Na", "Sarah Kim")
_ZH_NAMES = ("王芳", "李明", "张伟", "刘洋", "陈静", "赵磊")
_EN_PRODUCTS = ("smart kettle", "air purifier", "robot vacuum", "desk lamp", "rice cooker")
_ZH_PRODUCTS = ("智能电水壶", "空气净化器", "扫地机器人", "台灯", "电饭煲")
_EN_CITIES = ("Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Chengdu")
_ZH_CITIES = ("上海市浦东新区", "北京市朝阳区", "深圳市南山区", "杭州市西湖区", "成都市武侯区")

_EN_GREETINGS = ("Hello,", "Hi there,", "Dear Customer Service,", "Good morning,", "Hi,")
_EN_CONTEXT = (
    "My order number is {order}.",
    "I ordered a {product} from your online shop last week (order {order}).",
    "The delivery address on the order is {street}, {city}.",
    "I have been a customer for a couple of years and usually order online.",
    "This is about order {order}, placed on the 3rd for the {product}.",
    "I bought the {product} for my parents, the order was sent to their address in {city}.",
    "Order no. {order}, paid by card.",
    "My account email is the one I am writing from.",
)
_EN_AFTER = (
    "For reference, my delivery address is {street}, {city}.",
    "You can reach me on 138 0013 {tail} if that is easier.",
    "The order number again is {order}.",
    "",
)
_EN_CLOSINGS = ("Thanks in advance.", "Many thanks,", "Looking forward to your reply.", "Best,")
_EN_SUBJECTS = (
    "Question about order {order}",
    "Order {order}",
    "My {product}",
    "Enquiry",
    "Help please - order {order}",
)

_ZH_GREETINGS = ("你好，", "您好！", "客服你好：", "你们好，")
_ZH_CONTEXT = (
    "我的订单号是 {order}。",
    "我上周在你们网店买了一台{product}，订单号 {order}。",
    "订单上的收货地址是{city}{street_zh}。",
    "我是你们的老客户了，一般都在网上下单。",
    "这是关于订单 {order} 的问题，3号下的单，买的是{product}。",
    "给爸妈买的{product}，寄到他们在{city}的地址。",
    "订单 {order}，用信用卡付的款。",
    "我的账号就是这个邮箱。",
)
_ZH_AFTER = (
    "我的收货地址是{city}{street_zh}。",
    "有问题可以打我电话 138 0013 {tail}。",
    "订单号再发一遍：{order}。",
    "",
)
_ZH_CLOSINGS = ("谢谢！", "麻烦了，谢谢。", "期待回复。", "辛苦了！")
_ZH_SUBJECTS = ("关于订单 {order} 的问题", "订单 {order}", "咨询一下", "我的{product}", "求助")

# Mails no FAQ article answers, beside the bootstrap training mails of hr and pr.
_UNANSWERABLE = (
    (
        "en",
        "Invoice INV-{order} for May deliveries",
        "Please find attached our invoice INV-{order} for the 400 cartons of packaging "
        "delivered to your warehouse on 12 May. Payment is due within 30 days to the account "
        "shown on the invoice. Please confirm that it has been passed to accounts payable.",
    ),
    (
        "en",
        "Partnership proposal",
        "We run a chain of 40 hotels in East China and would like to discuss a partnership: "
        "your kettles in every room, with your brand on the welcome card. Could we set up a "
        "call with your business development team next week?",
    ),
    (
        "en",
        "Thank you!",
        "Just a note to say thank you. The rice cooker arrived well packed and it works "
        "beautifully. My whole family loves it. Keep up the great work!",
    ),
    (
        "en",
        "Supplier introduction",
        "We are a manufacturer of heating elements based in Foshan and supply several "
        "appliance brands. Attached is our catalogue and price list; we would be glad to quote "
        "for your next production run.",
    ),
    (
        "en",
        "SEO services for your website",
        "I noticed your online shop does not rank on the first page for 'smart kettle'. Our "
        "agency can fix that in 90 days. Can I send you a proposal?",
    ),
    (
        "en",
        "Customs clearance documents for shipment {order}",
        "Our freight forwarder needs the commercial invoice and packing list for container "
        "shipment {order} before Friday, otherwise the goods stay at the port.",
    ),
    (
        "en",
        "University research survey",
        "I am a master's student writing a thesis on consumer trust in e-commerce. Would your "
        "company be willing to answer a 10-minute survey? All answers are anonymous.",
    ),
    (
        "zh",
        "发票 {order} - 五月份货款",
        "附件是我司五月份包装箱的发票，共400箱，已于5月12日送到贵司仓库，账期30天，"
        "请转给应付账款同事安排付款，谢谢。",
    ),
    (
        "zh",
        "合作洽谈",
        "我们是华东地区一家连锁酒店，有40家门店，想和贵公司谈谈合作，在客房里统一使用你们的"
        "电水壶，能否安排商务同事下周电话沟通一下？",
    ),
    ("zh", "表扬一下", "电饭煲收到了，包装很好，煮饭很香，全家都很喜欢，给你们点个赞！"),
    (
        "zh",
        "供应商自荐",
        "我们是佛山的发热管生产厂家，给多个家电品牌供货，附件是产品目录和报价单，"
        "希望有机会为贵司下一批生产报价。",
    ),
    (
        "zh",
        "网站推广服务",
        "贵司网店在搜索引擎上排名靠后，我们团队可以在三个月内帮您做到首页，要不要看看方案？",
    ),
    (
        "zh",
        "报关资料",
        "货代需要集装箱 {order} 的商业发票和装箱单，周五前要提交，不然货物会滞留在港口。",
    ),
    (
        "zh",
        "问卷调查邀请",
        "我是一名研究生，正在写关于网购信任的论文，想邀请贵公司填写一份十分钟的匿名问卷。",
    ),
)
# A job applicant may fairly be pointed to the careers article; nothing else is acceptable.
_ACCEPTABLE = {"hr": ("careers-en", "careers-zh")}
_EMERGENCY = "5"  # the auto-reply offers nothing on emergencies, so they are not evaluated


@dataclass(frozen=True)
class OfferCase:
    """One generated email: what the auto-reply reads and what it may offer."""

    subject: str
    body: str
    text: str  # subject and new text, as the auto-reply matches them
    language: str
    expected: str | None  # slug of the article that answers it; None when none does
    acceptable: tuple[str, ...]  # slugs that are also fine to offer
    half: str
    kind: str  # "subject and body", "subject only", "question last", "unanswerable"


@dataclass(frozen=True)
class OfferReport:
    answerable: int
    unanswerable: int
    precision: float  # offered articles that are expected or acceptable, all mails
    first_right: float  # answerable mails whose first offer is the expected article
    expected_offered: float  # answerable mails offering the expected article
    only_wrong: float  # answerable mails offering something, but only wrong articles
    nothing_offered: float  # answerable mails offering nothing
    unanswerable_offered: float  # unanswerable mails offering something not acceptable
    offers_per_mail: float

    def summary(self) -> str:
        return (
            f"answerable {self.answerable}: first right {self.first_right:.0%}, expected offered "
            f"{self.expected_offered:.0%}, only wrong {self.only_wrong:.0%}, nothing "
            f"{self.nothing_offered:.0%}; unanswerable {self.unanswerable}: offered "
            f"{self.unanswerable_offered:.0%}; precision {self.precision:.0%}, "
            f"{self.offers_per_mail:.2f} offers per mail"
        )


def _fill(template: str, values: dict[str, str]) -> str:
    return template.format(**values)


def _values(rng: random.Random, language: str) -> dict[str, str]:
    zh = language == "zh"
    return {
        "order": f"{rng.choice(('SO', 'DD', ''))}{rng.randrange(10**7, 10**8)}",
        "product": rng.choice(_ZH_PRODUCTS if zh else _EN_PRODUCTS),
        "city": rng.choice(_ZH_CITIES if zh else _EN_CITIES),
        "street": f"{rng.randrange(1, 300)} {rng.choice(('Zhangjiang', 'Huaihai'))} Road",
        "street_zh": f"{rng.choice(('张江路', '南京路', '淮海路'))}{rng.randrange(1, 300)}号",
        "tail": f"{rng.randrange(1000, 9999)}",
        "name": rng.choice(_ZH_NAMES if zh else _EN_NAMES),
    }


def _signature(values: dict[str, str], language: str, rng: random.Random) -> str:
    phone = f"138 0013 {values['tail']}"
    if language == "zh":
        return rng.choice((values["name"], f"{values['name']}\n电话：{phone}"))
    return rng.choice((values["name"], f"-- \n{values['name']}\nMobile: {phone}"))


def _email(rng: random.Random, question: str, language: str, variant: int) -> tuple[str, str, str]:
    """(subject, body, kind) of one email asking `question`."""
    zh = language == "zh"
    values = _values(rng, language)
    greeting = rng.choice(_ZH_GREETINGS if zh else _EN_GREETINGS)
    context = [_fill(c, values) for c in rng.sample(_ZH_CONTEXT if zh else _EN_CONTEXT, 2)]
    after = _fill(rng.choice(_ZH_AFTER if zh else _EN_AFTER), values)
    closing = rng.choice(_ZH_CLOSINGS if zh else _EN_CLOSINGS)
    signature = _signature(values, language, rng)
    subject = _fill(rng.choice(_ZH_SUBJECTS if zh else _EN_SUBJECTS), values)
    join = "" if zh else " "
    if variant == 0:  # the question after one line of context
        lines = [greeting, "", join.join([context[0], question]), "", closing, signature]
        kind = "subject and body"
    elif variant == 1:  # the question is the subject; the body only gives context
        subject = question
        lines = [greeting, "", join.join(context), "", closing, signature]
        kind = "subject only"
    else:  # context first, the question, then more context
        lines = [greeting, "", join.join(context), question, after, "", closing, signature]
        kind = "question last"
    return subject, "\n".join(line for line in lines if line is not None), kind


def _parsed_text(subject: str, body: str, sender: str) -> str:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "service@example.com"
    message["Subject"] = subject
    message.set_content(body)
    parsed = parse_message(message.as_bytes())
    return f"{parsed.subject}\n{parsed.new_text}".strip()


def _halves(keys: Sequence[str], rng: random.Random) -> dict[str, str]:
    order = sorted(set(keys))
    rng.shuffle(order)
    return {key: (TUNE if n % 2 == 0 else TEST) for n, key in enumerate(order)}


def _unanswerable_sources() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(language, subject, body, acceptable slugs) of mails no article answers."""
    sources: list[tuple[str, str, str, tuple[str, ...]]] = [
        (lang, subject, body, ()) for lang, subject, body in _UNANSWERABLE
    ]
    with open(BOOTSTRAP, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["department"] in ("hr", "pr") and row["language"] in ("en", "zh"):
                if row["urgency"] != _EMERGENCY:
                    acceptable = _ACCEPTABLE.get(row["department"], ())
                    sources.append((row["language"], row["subject"], row["body"], acceptable))
    return sources


def build_cases(
    eval_rows: Iterable[tuple[str, str]] | None = None, *, seed: int = SEED
) -> list[OfferCase]:
    """Every generated email, answerable (VARIANTS per question) and unanswerable, in order."""
    rows = list(read_eval_csv(DEMO_EVAL) if eval_rows is None else eval_rows)
    rng = random.Random(seed)
    half_of = _halves([query for query, _ in rows], random.Random(seed + 1))
    cases = []
    for query, expected in rows:
        language = detect_language(query, min_cjk_share=0)
        for variant in range(VARIANTS):
            subject, body, kind = _email(rng, query, language, variant)
            sender = f"customer{rng.randrange(1000)}@example.cn"
            text = _parsed_text(subject, body, sender)
            cases.append(
                OfferCase(subject, body, text, language, expected, (), half_of[query], kind)
            )
    sources = _unanswerable_sources()
    negative_half = _halves([f"{s}\n{b}" for _l, s, b, _a in sources], random.Random(seed + 2))
    for language, subject, body, acceptable in sources:
        half = negative_half[f"{subject}\n{body}"]
        values = _values(rng, language)
        greeting = rng.choice(_ZH_GREETINGS if language == "zh" else _EN_GREETINGS)
        signature = _signature(values, language, rng)
        full_body = "\n".join([greeting, "", _fill(body, values), "", signature])
        subject = _fill(subject, values)
        text = _parsed_text(subject, full_body, f"sender{rng.randrange(1000)}@example.com")
        cases.append(
            OfferCase(subject, full_body, text, language, None, acceptable, half, "unanswerable")
        )
    return cases


def evaluate_offers(
    cases: Iterable[OfferCase], offer: Callable[[str, str], Sequence[str]]
) -> OfferReport:
    """Score `offer` (text, language -> offered slugs, best first) on `cases`."""
    answerable = unanswerable = offered = right_offers = 0
    first_right = expected_offered = only_wrong = nothing = unanswerable_offered = 0
    for case in cases:
        slugs = list(offer(case.text, case.language))
        good = {case.expected, *case.acceptable} - {None}
        offered += len(slugs)
        right_offers += sum(slug in good for slug in slugs)
        if case.expected is None:
            unanswerable += 1
            unanswerable_offered += any(slug not in good for slug in slugs)
            continue
        answerable += 1
        first_right += bool(slugs) and slugs[0] == case.expected
        expected_offered += case.expected in slugs
        only_wrong += bool(slugs) and not (good & set(slugs))
        nothing += not slugs
    mails = answerable + unanswerable
    return OfferReport(
        answerable=answerable,
        unanswerable=unanswerable,
        precision=right_offers / offered if offered else 1.0,
        first_right=first_right / answerable if answerable else 0.0,
        expected_offered=expected_offered / answerable if answerable else 0.0,
        only_wrong=only_wrong / answerable if answerable else 0.0,
        nothing_offered=nothing / answerable if answerable else 0.0,
        unanswerable_offered=unanswerable_offered / unanswerable if unanswerable else 0.0,
        offers_per_mail=offered / mails if mails else 0.0,
    )
