# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""Kinds of mail whose level is settled: a pressed double charge 4, a VAT invoice asked for 2,
a personal-data request 3, read only where the model's own level is the one they move from.
The mails are written for these tests; none is in a realistic set or the bootstrap CSV."""

from __future__ import annotations

import pytest

from mailrouter.routing.matters import (
    ANALYST_QUESTION,
    AUDIT_CONFIRMATION,
    BANK_CHANGE,
    DISCRIMINATION,
    INVOICE_PAPERWORK,
    JOB_APPLICATION,
    MONEY_PRESSED,
    PRIVACY_REQUEST,
    SPONSORSHIP,
    TENDER_DOCUMENTS,
    match_matter,
    match_press_emergency,
)
from tests.work import cpu_seconds

# fmt: off
# (text, the model's level, the kind found, the level it moves to)
FOUND = [
    ("Paid twice. My card shows two payments of 240.00 for order 7781. Please refund the second one immediately, that is a lot of money for us.", 3, MONEY_PRESSED, 4),
    ("订单扣了两次款。您好，我的订单在支付宝被扣了两次 899 元，请尽快把多扣的钱退回来！", 3, MONEY_PRESSED, 4),
    ("重複扣款。信用卡被刷了兩次，每筆 NT$5,400，這筆錢對我來說不小，請馬上退還。", 3, MONEY_PRESSED, 4),
    ("VAT invoice please. Could you issue a VAT invoice for order 4410 with our company name and VAT number? Harbour Print Ltd, GB 998 1234 55.", 3, INVOICE_PAPERWORK, 2),
    ("开票申请。您好，订单 20261201-55 需要开具增值税专用发票，抬头：宁波星河贸易有限公司。谢谢", 3, INVOICE_PAPERWORK, 2),
    ("發票。您好，麻煩幫我補開有統一編號的發票，統編 87654321，公司：青禾工作室。", 3, INVOICE_PAPERWORK, 2),
    ("Application: warehouse supervisor. Dear Hiring Team, I am applying for the warehouse supervisor role. My CV and cover letter are attached.", 3, JOB_APPLICATION, 2),
    ("应聘质检员。您好，我想应聘贵公司的质检员岗位，附件是我的简历。", 3, JOB_APPLICATION, 2),
    ("Balance confirmation for our audit. Please confirm directly to our auditors the balance owed to you as at 31 December.", 3, AUDIT_CONFIRMATION, 2),
    ("银行询证函。您好，我们的审计师需要贵司回函确认截至12月31日的往来余额。", 3, AUDIT_CONFIRMATION, 2),
    ("Erase my data. Under data protection law please delete all personal data you hold about me and confirm when it is done.", 4, PRIVACY_REQUEST, 3),
    ("個資查詢。請提供貴公司保存的我的個人資料副本，以及分享給哪些第三方。", 4, PRIVACY_REQUEST, 3),
]

# (text, the model's level): nothing to move
NOT_FOUND = [
    # a double charge told calmly stays a specialist's check
    ("Charged twice. My card shows two payments of 89.99 for one order. Please refund the duplicate. Screenshot attached.", 3),
    ("重复扣款。你好，付款时页面卡住，银行卡扣了两次 599 元，麻烦把多扣的那笔退给我，谢谢。", 3),
    # pressing, but not about money
    ("The app will not pair with the hub after the update. Please send an engineer as soon as possible.", 3),
    # an invoice issued wrong, a tax question, new bank details: the specialist's
    ("Invoice 5521 charges the wrong VAT rate; please re-issue it with reverse charge.", 3),
    ("专票税号开错了一位，请作废后重新开具。", 3),
    ("Please note our new bank account for all future invoices; the letter is attached.", 3),
    # the invoice kept as proof of purchase, not paperwork asked for
    ("冰箱冷藏室不冷，自己排查过了，麻烦安排师傅上门。还在保修期内，发票有。", 3),
    # an applicant's personal data: the privacy specialist's
    ("Please delete my application and all personal data you hold about me.", 3),
    ("I applied in May and took another job. Please delete my CV and cover letter from your systems.", 3),
    ("我之前应聘过仓管，现在已经找到工作了，请删除我的简历。", 3),
    # the model's own level is not the one a kind moves from
    ("Please refund the duplicate charge immediately.", 2),
    ("Please delete my personal data.", 3),
    ("Could you send a VAT invoice for order 4410?", 4),
]
# fmt: on


@pytest.mark.parametrize(("text", "level", "kind", "to_level"), FOUND)
def test_a_kind_of_mail_moves_the_model_s_level(text, level, kind, to_level) -> None:
    hit = match_matter(text, level)
    assert hit is not None
    assert (hit.kind, hit.from_level, hit.to_level) == (kind, level, to_level)
    assert hit.phrase


@pytest.mark.parametrize(("text", "level"), NOT_FOUND)
def test_other_mail_keeps_the_model_s_level(text, level) -> None:
    assert match_matter(text, level) is None


def test_a_hostile_mail_is_read_in_bounded_time() -> None:
    text = ("refund charge money 钱 " * 2_000 + "invoice 发票 " * 2_000) * 5
    # Regular expressions' work (uncountable from Python): 3 ms of CPU at load 17; the bound
    # is 300 times that.
    assert cpu_seconds(lambda: (match_matter(text, 3), match_matter(text, 4))) < 1.0


@pytest.mark.parametrize(
    "text",
    [
        # thirty-first session: the pressing word in the sentence after the money's (written
        # for this test)
        "扣了两次款。你好，付款时银行卡被扣了两次 1299 元，五天了还没退回来。请尽快处理！",
        "Charged twice. My card was charged two times for one order. Please sort this out as soon as possible.",
    ],
)
def test_money_pressed_in_the_next_sentence(text) -> None:
    hit = match_matter(text, 3)
    assert hit is not None and hit.kind == MONEY_PRESSED


def test_pressing_two_sentences_after_the_money_is_not_read() -> None:
    text = (
        "My card was charged twice. The app also crashes. The hub is offline. Please fix it asap."
    )
    assert match_matter(text, 3) is None


@pytest.mark.parametrize(
    "text",
    [
        # thirty-first session: discrimination or harassment reported without "complaint"
        # (written for this test; sets 13 and 14 label such mail 4)
        "At my interview the manager asked whether I plan to have children. I found it discriminatory and want to know what you will do.",
        "面试时被问到婚育计划，我认为这是就业歧视，请公司给个说法。",
        "我們主管一直對我說一些下流的話，這是性騷擾，請人資處理。",  # Traditional
        "I am being harassed by a colleague on my shift and I need HR to step in.",
    ],
)
def test_discrimination_or_harassment_reported_is_important(text) -> None:
    hit = match_matter(text, 3)
    assert hit is not None and (hit.kind, hit.to_level) == (DISCRIMINATION, 4)


@pytest.mark.parametrize(
    "text",
    [
        # a policy asked about, not a case reported
        "Could you send me your anti-discrimination policy for our supplier audit?",
        "请问贵公司有没有反性骚扰培训的资料？",
        # a case not of a person: a price difference
        "Is it price discrimination that the shop charges more than the app?",
    ],
)
def test_a_policy_question_is_no_discrimination_report(text) -> None:
    assert match_matter(text, 3) is None


# Thirty-fourth session: two kinds the docs' table settles and the model got one off on sets
# 4, 12, 13, 15, 16 and 17 (docs/urgency-levels.md). Mails written for these tests.
@pytest.mark.parametrize(
    "text",
    [
        "Sponsorship for our youth football club. Would your company sponsor our under-10s kit this season? Your logo would go on the shirts.",
        "Christmas fair. We wondered whether you would be willing to donate a small appliance as a raffle prize for our school fair.",
        "社区活动赞助。您好，我们小区下个月办亲子运动会，想请贵公司赞助几台小家电作为抽奖奖品，可以吗？",
        "校慶活動贊助。您好，我們學校下個月舉辦園遊會，不知貴公司是否願意捐贈幾台小家電當摸彩獎品？",  # Traditional
    ],
)
def test_a_sponsorship_asked_for_is_normal(text) -> None:
    hit = match_matter(text, 3)
    assert hit is not None and (hit.kind, hit.to_level) == (SPONSORSHIP, 2)


@pytest.mark.parametrize(
    "text",
    [
        # "sponsor" a work visa: an HR specialist's paperwork
        "Work visa. Our new hire from Malaysia needs the company to sponsor her work visa. Which documents does HR need from her?",
        # an agreed sponsorship's invoice issued wrong: the accounts specialist's
        "The invoice for our sponsorship of the fun run shows the wrong VAT rate. Would you void and reissue it?",
        "赞助款的发票税率开错了，能否作废后重新开具？",
    ],
)
def test_other_mail_with_sponsor_words_keeps_its_level(text) -> None:
    hit = match_matter(text, 3)
    assert hit is None or hit.kind != SPONSORSHIP


@pytest.mark.parametrize(
    "text",
    [
        "Analyst question. I cover home appliances at a research firm; could you share your revenue growth in online channels and your plans for next year?",
        "Briefing request. I'm a senior analyst preparing a market report and would like a call on your roadmap and market share.",
        "您好，我是某证券公司的家电行业分析师，想了解贵司今年的营收规模和海外扩张计划，能否安排电话交流？",
        "您好，我是券商研究員，想請教貴司線上渠道佔比與明年的融資計劃。",  # Traditional
    ],
)
def test_an_analyst_asking_the_company_s_figures_is_a_specialist_s(text) -> None:
    hit = match_matter(text, 2)
    assert hit is not None and (hit.kind, hit.to_level) == (ANALYST_QUESTION, 3)


@pytest.mark.parametrize(
    "text",
    [
        # where to find a published report: normal
        "Annual report. I'm an equity analyst; where can I find your 2025 annual report and its revenue figures?",
        "我是券商分析师，请问贵司2025年年报什么时候发布？",
        # an analyst by trade with a fault, an analyst applying for a job
        "I'm a business analyst and my kettle stopped heating this week. Can you help?",
        "Application: data analyst. I am applying for the data analyst role; my CV with my revenue forecasting work is attached.",
    ],
)
def test_other_mail_of_analysts_keeps_its_level(text) -> None:
    assert match_matter(text, 2) is None


# Thirty-fourth session: a press story about a danger due today is an emergency (5), also
# where a complaint keyword made it 4 ("记者...异物的投诉", set 6) or the model was unsure
# (set 13's ozone story due 18:00 today). Mails written for these tests.
PRESS_DANGER_TODAY = [
    "Press enquiry. I'm a reporter at the Evening Post. Readers sent us videos of your heater catching fire; we publish tonight and need your statement by 6pm today.",
    "记者求证：多位家长反映贵公司奶粉中有异物，稿件今晚发出，请两小时内回应。",
    "媒體詢問：網傳電暖器起火影片，今晚截稿，請回應是否召回。",  # Traditional
]
PRESS_NOT_DANGER_TODAY = [
    # a danger story, but due on Thursday
    "I'm a journalist at Consumer Weekly. Readers say your kettle is being quietly recalled. Our deadline is Thursday 5pm.",
    # due today, but no danger in it
    "I'm a reporter; we publish a piece on delivery delays tomorrow and need your comment by 5pm today.",
    # "today" tells when a video went up; the answer is due tomorrow
    "我是记者。今天抖音上有条视频说贵司炸锅涂层脱落，很多人问是否召回，希望明天中午前回复。",
    # a customer's own fire is the keyword rules' (5 already), no press story
    "Our heater caught fire today, please call me.",
]


@pytest.mark.parametrize("text", PRESS_DANGER_TODAY)
def test_a_press_story_on_a_danger_due_today_is_found(text) -> None:
    assert match_press_emergency(text) is not None


@pytest.mark.parametrize("text", PRESS_NOT_DANGER_TODAY)
def test_other_press_mail_is_not(text) -> None:
    assert match_press_emergency(text) is None


# Thirty-fourth session: a change of bank details is the accounts specialist's check (3)
# whatever level the model read (set 10: 5, set 16: 2); bank details "unchanged" beside an
# invoice sent for payment are no change (set 8: the invoice stayed 3); a zero-rated export
# invoice is a tax question (set 15: it was made 2); "fapiao" is an invoice word. Mails
# written for these tests.
@pytest.mark.parametrize(
    ("text", "level"),
    [
        (
            "Change of bank details. Please note that from 1 January our bank account changes to HSBC, account 12345678. A signed letter is attached.",
            2,
        ),
        (
            "Change of bank details. Please note that from 1 January our bank account changes to HSBC, account 12345678. A signed letter is attached.",
            5,
        ),
        ("关于变更收款账户的通知：因我司银行账户调整，自即日起请将货款汇入以下新账户。", 5),
        (
            "供應商匯款帳戶變更通知：自下月起收款帳戶變更為台灣銀行，請更新付款資料。",
            2,
        ),  # Traditional
    ],
)
def test_a_change_of_bank_details_is_a_specialist_s_check(text, level) -> None:
    hit = match_matter(text, level)
    assert hit is not None and (hit.kind, hit.from_level, hit.to_level) == (BANK_CHANGE, level, 3)


@pytest.mark.parametrize(
    ("text", "level", "kind"),
    [
        (
            "Please find attached our invoice INV-881 for November. Our bank details are unchanged.",
            3,
            INVOICE_PAPERWORK,
        ),
        (
            "Could you send the fapiao for order 5512 with our company name and tax ID?",
            3,
            INVOICE_PAPERWORK,
        ),
        (
            "Please find attached our invoice INV-881 for November. Our bank details are unchanged.",
            2,
            None,
        ),
        ("发票已开具，收款账户信息不变，请按合同付款。", 2, None),
        (
            "We are a Malaysian company; for our SST records we need an export invoice showing zero-rated tax. Can you issue that?",
            3,
            None,
        ),
        ("我们是香港公司，需要开具零税率的出口发票，请问需要什么资料？", 3, None),
    ],
)
def test_invoices_beside_bank_details_and_tax_questions(text, level, kind) -> None:
    hit = match_matter(text, level)
    assert (hit.kind if hit else None) == kind


# Thirty-fourth session: certificates or test reports asked for a tender or an import are
# sales' specialist work (3; docs/urgency-levels.md), which the model read as 2 in sets 14 and
# 16 (the other nine such mails of sets 1-17 were 3 or 4). Mails written for these tests.
@pytest.mark.parametrize(
    "text",
    [
        "Tender documents. We are bidding for a hospital tender of 120 purifiers and need your CE certificates and test reports by the 20th.",
        "学校采购招标资料：投标需要3C证书、第三方检测报告和原厂授权书，请问贵司能否提供？",
        "轉售台灣需要BSMI文件：我們想進口貴司清淨機在台銷售，請問是否有相關證書或測試報告？",  # Traditional
    ],
)
def test_certificates_for_a_tender_or_an_import_are_a_specialist_s(text) -> None:
    hit = match_matter(text, 2)
    assert hit is not None and (hit.kind, hit.to_level) == (TENDER_DOCUMENTS, 3)


@pytest.mark.parametrize(
    "text",
    [
        # a buyer asking whether a product is certified, an applicant's certificates
        "Does your kettle have a CE certificate? I'd like to buy one for my flat.",
        "应聘采购专员，附件是我的简历和资格证书。",
        "Application - warehouse operative. I am applying for the role; my forklift certificate is attached and I have worked on import orders.",
    ],
)
def test_other_mail_of_certificates_keeps_its_level(text) -> None:
    assert match_matter(text, 2) is None
