"""The same request in English, Simplified, Traditional Chinese and Cantonese gets one urgency.

Each group below is one meaning written in up to five ways (none of them a shipped training
row; pinyin is a Chinese customer's mail without a Chinese keyboard, read as the Chinese it
spells), decided as the worker decides a new mail (`decisions.decide`, default settings, the
model a fresh install trains). A group's levels must all be its level: a forgotten password is
normal in every language (twenty-fourth session's fresh clone had the English one at 3, its Chinese
twin at 2; main then read "我忘记密码了，登录不了" as 5), and so is a first question when a refund
will arrive.

The department groups below them go to one department the same way. The departments follow
their descriptions (`support/desk/seed.py`) and the labels' convention
(`bench/routing_realistic_eval.py`): the matter decides, not who writes. An employee's own pay is
HR's, however much it reads like money awaited; a solicitor's letter over a product that failed
or hurt someone is customer service's (faults), a creditor's solicitor chasing invoices
finance's; pre-sale questions and suggestions about the shop are sales', suggestions about a
product one owns service's. Routing set 10 (twenty-fifth session) had each wrong in some script.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailrouter.routing.classifier import ClassifierBundle, load_bundle
from mailrouter.routing.decisions import decide
from mailrouter.routing.labels import load_bootstrap_examples
from mailrouter.settings import SETTINGS
from tests.mailrouter.conftest import BUNDLE_SECRET_KEY as SECRET_KEY

DEPARTMENTS = {"sales", "service", "pr", "hr", "finance"}

# fmt: off
GROUPS: list[tuple[str, int, list[tuple[str, str]]]] = [
    ("forgotten password", 2, [
        ("Password", "I forgot my password and cannot log in. Please help."),
        ("密码", "我忘记密码了，登录不了，请帮忙。"),
        ("密碼", "我忘記密碼了，登入不了，請幫忙。"),
        ("密碼", "我唔記得咗密碼，登入唔到，唔該幫幫手。"),
        ("mi ma", "wo wang ji mi ma le, deng lu bu liao, qing bang mang."),
    ]),
    ("no login code", 2, [
        ("cant log in", "cant log in to my account\nforgot my pasword and the verification "
                        "code isnt coming through, tried 3 times now. help"),
        ("登不上", "登不上我的账号\n忘记密码了，验证码也一直收不到，已经试了3次。求助"),
        ("登不上", "登不上我的帳號\n忘記密碼了，驗證碼也一直收不到，已經試了3次。求助"),
        ("登唔到", "登入唔到我個帳戶\n唔記得咗密碼，驗證碼又收唔到，試咗3次。救命"),
    ]),
    ("refund: how long does it take", 2, [
        ("Refund", "I returned the heater last week and you confirmed it arrived. The refund is "
                   "not on my card yet. How long does it usually take?"),
        ("退款", "上周退回的取暖器你们确认收到了，退款还没到账。请问一般要多久？"),
        ("退款", "上週退回的暖爐你們確認收到了，退款還沒到帳。請問一般要多久？"),
        ("tui kuan", "shang zhou tui hui de qu nuan qi ni men que ren shou dao le, tui kuan hai "
                     "mei dao zhang. qing wen yi ban yao duo jiu?"),
    ]),
    ("plain fault", 2, [
        ("Kettle", "My kettle stopped working, the light does not come on any more. Can it be "
                   "repaired?"),
        ("水壶", "我的电水壶坏了，指示灯也不亮了，可以修吗？"),
        ("快煮壺", "我的快煮壺壞了，指示燈也不亮了，可以修嗎？"),
        ("shui hu", "wo de dian shui hu huai le, zhi shi deng ye bu liang le, ke yi xiu ma?"),
    ]),
    ("refund chased", 4, [
        ("Refund", "This is the third time I am asking about my refund. It is a month overdue."),
        ("退款", "这是我第三次问退款的事了，已经超期一个月。"),
        ("退款", "這是我第三次問退款的事了，已經超過期限一個月。"),
    ]),
    ("gas", 5, [
        ("Gas", "There is a strong smell of gas in the kitchen since the hob was installed."),
        ("煤气", "燃气灶装好以后厨房里一直有很浓的煤气味。"),
        ("瓦斯", "瓦斯爐裝好之後廚房一直有很重的瓦斯味。"),
        ("mei qi", "ran qi zao zhuang hao yi hou chu fang li yi zhi you hen nong de mei qi wei."),
    ]),
]

DEPARTMENT_GROUPS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("an employee's pay has not arrived", "hr", [
        ("My December pay", "Hi, my pay for December has not arrived in my bank account, everyone "
                            "else on my shift got theirs on Friday. Employee number 5521, "
                            "warehouse night shift. Could you check?"),
        ("工资还没发", "您好，我是门店店员，这个月的工资到今天还没打到卡上，同事们都已经收到了，"
                     "麻烦帮我查一下。工号 M-1207"),
        ("薪水還沒入帳", "您好，我是台北門市的員工，這個月的薪水到現在還沒入帳，其他同事都已經"
                       "收到了，麻煩幫我查一下。員工編號 T-4410"),
        ("人工未出", "你好，我係倉務部嘅同事，今個月人工到而家都未入數，其他同事上星期五已經"
                   "收到，唔該幫我查下。員工編號 H-2281"),
    ]),
    ("a solicitor's letter over a product's damage", "service", [
        ("Our client: Ms P. Grant - dishwasher leak",
         "Dear Sirs,\n\nWe are instructed by Ms Priya Grant regarding the dishwasher bought from "
         "you in March, which leaked and ruined her kitchen units. Our letters of 2 and 16 October "
         "have gone unanswered. If we do not receive your proposals for compensation within 10 "
         "days we will commence proceedings without further notice.\n\nYours faithfully,\n"
         "Dunmore Price Solicitors"),
        ("关于林女士洗碗机漏水一事",
         "贵公司：\n\n本所接受林女士委托，就其购买的贵司洗碗机漏水泡坏橱柜一事致函。此前两次去函"
         "均无答复，请于十日内提出赔偿方案，否则本所将依法代为提起诉讼。\n\n上海某律师事务所"),
        ("關於林小姐洗碗機漏水一事",
         "貴公司：\n\n本所受林小姐委託，就其購買之貴公司洗碗機漏水致櫥櫃損壞一事致函。前兩次去函"
         "均未獲回覆，請於十日內提出賠償方案，否則本所將依法代為提起訴訟。\n\n台北某律師事務所"),
    ]),
    ("a creditor's solicitor chasing unpaid invoices", "finance", [
        ("Overdue account - final demand",
         "Dear Sirs,\n\nWe act for Brightline Packaging Ltd, whose invoices 3381 and 3392 for GBP "
         "9,200 are now 75 days overdue. Unless payment is received within 7 days, we are "
         "instructed to issue proceedings without further notice.\n\nYours faithfully,\n"
         "Kell & Rowe LLP"),
        ("催收货款函",
         "贵司：\n\n本所受苏州明达包装有限公司委托，贵司拖欠的两笔货款共计人民币52,000元已逾期"
         "七十五天。请于七日内付清，否则本所将代表委托人提起诉讼。"),
    ]),
    ("a showroom before buying", "sales", [
        ("Showroom?", "Do you have a showroom in Leeds where I can see the air purifiers before I "
                      "buy one? I want to hear how loud they are."),
        ("有线下门店吗", "想买一台空气净化器，请问杭州有线下门店可以看看实物吗？"
                         "想先听听声音大不大。"),
        ("有門市嗎", "想買一台空氣清淨機，請問高雄有門市可以看實品嗎？想先聽聽聲音大不大。"),
        ("有冇門市", "想買部空氣清新機，請問觀塘有冇門市可以睇實物？想聽下嘈唔嘈先。"),
    ]),
    ("in stock and the price", "sales", [
        ("Air fryer", "Hi, is the 30 litre air fryer in stock at the moment, and how much is it? "
                      "Can you deliver to Bristol?"),
        ("空气炸锅有货吗", "你好，30升的空气炸锅现在有现货吗？多少钱？能送到昆山吗？"),
        ("氣炸鍋有貨嗎", "你好，30公升的氣炸鍋現在有現貨嗎？多少錢？可以送到新竹嗎？"),
        ("氣炸鍋有冇貨", "你好，想問下30公升嘅氣炸鍋而家有冇現貨？幾多錢？可唔可以送去沙田？唔該"),
    ]),
    ("a suggestion for the online shop", "sales", [
        ("Idea for your website", "A small idea for your online shop: let me sort the heaters by "
                                  "price and wattage. I gave up comparing them page by page. "
                                  "Otherwise lovely."),
        ("官网商城的建议", "建议你们官网商城能按价格和功率排序，我想挑一台取暖器，"
                           "一页一页对比太麻烦了。"),
        ("網站的建議", "建議你們的網路商店可以按價格和功率排序，我想挑一台暖氣機，"
                       "一頁一頁比較太麻煩了。"),
        ("網店小建議", "建議你哋網店可以按價錢同功率排序，我想揀部暖爐，一頁頁咁比較好麻煩。"),
    ]),
    ("a suggestion for a product one owns", "service", [
        ("Suggestion for the toaster", "I use your toaster every morning and like it. One idea: a "
                                       "defrost button would be handy for frozen bread. Maybe for "
                                       "the next version."),
        ("对烤面包机的建议", "你们的烤面包机我每天早上都在用，挺好的。建议加一个解冻键，烤冷冻面包"
                           "会方便很多，下一代可以考虑。"),
        ("對烤麵包機的建議", "你們的烤麵包機我每天早上都在用，很好用。建議加一個解凍鍵，烤冷凍麵包"
                           "會方便很多，下一代可以考慮。"),
        ("多士爐小建議", "你哋部多士爐我日日朝早都用，幾好用。建議加個解凍掣，"
                       "烘急凍麵包會方便好多，下一代可以考慮下。"),
    ]),
]
# fmt: on


@pytest.fixture(scope="module")
def bundle(trained_bootstrap_file: Path) -> ClassifierBundle:
    """The bootstrap model (trained once per test run: tests/mailrouter/conftest.py)."""
    loaded = load_bundle(trained_bootstrap_file, SECRET_KEY.encode())
    assert loaded is not None
    return loaded


def test_the_groups_are_no_training_rows():
    bodies = {example.body for example in load_bootstrap_examples()}
    groups = [*GROUPS, *DEPARTMENT_GROUPS]
    assert not [body for _, _, mails in groups for _, body in mails if body in bodies]


@pytest.mark.parametrize(("meaning", "level", "mails"), GROUPS, ids=[g[0] for g in GROUPS])
def test_one_meaning_gets_one_urgency_in_every_language(bundle, meaning, level, mails):
    config = {setting.name: setting.default for setting in SETTINGS}
    levels = {
        body: decide(subject, body, config=config, bundle=bundle, active_codes=DEPARTMENTS).urgency
        for subject, body in mails
    }
    assert {body: got for body, got in levels.items() if got != level} == {}, meaning


@pytest.mark.parametrize(
    ("meaning", "department", "mails"), DEPARTMENT_GROUPS, ids=[g[0] for g in DEPARTMENT_GROUPS]
)
def test_one_meaning_goes_to_one_department_in_every_language(bundle, meaning, department, mails):
    config = {setting.name: setting.default for setting in SETTINGS}
    routed = {
        body: decide(
            subject, body, config=config, bundle=bundle, active_codes=DEPARTMENTS
        ).department_code
        for subject, body in mails
    }
    assert {body: got for body, got in routed.items() if got != department} == {}, meaning


def test_an_admins_urgency_keyword_is_read_in_a_pinyin_mail(bundle):
    """A keyword of CLASSIFIER_URGENCY_RULES fires in a pinyin mail as in the one typed in
    characters: "leng ku duan dian" read by the commonest words is 冷酷段点, not 冷库断电. Only
    keywords of three characters or more (decisions.MIN_PINYIN_KEYWORD_CHARS), as the built-in."""
    config = {setting.name: setting.default for setting in SETTINGS}
    config["CLASSIFIER_URGENCY_RULES"] = {"5": ["冷库断电"]}
    mails = [
        ("冷库", "你好，我们仓库的冷库断电了，请尽快处理。"),
        ("leng ku", "ni hao, wo men cang ku de leng ku duan dian le, qing jin kuai chu li."),
    ]
    levels = [
        decide(subject, body, config=config, bundle=bundle, active_codes=DEPARTMENTS).urgency
        for subject, body in mails
    ]
    assert levels == [5, 5]
