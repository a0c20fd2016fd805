"""The same request in English, Simplified, Traditional Chinese and Cantonese gets one urgency.

Each group below is one meaning written in up to four ways (none of them a shipped training
row), decided as the worker decides a new mail (`decisions.decide`, default settings, the model
a fresh install trains). A group's levels must all be its level: a forgotten password is normal
in every language (twenty-fourth session's fresh clone had the English one at 3, its Chinese
twin at 2; main then read "我忘记密码了，登录不了" as 5), and so is a first question when a refund
will arrive.
"""

from __future__ import annotations

import pytest

from mailrouter.routing.classifier import ClassifierBundle, load_bootstrap_examples, train
from mailrouter.routing.decisions import decide
from mailrouter.settings import SETTINGS

DEPARTMENTS = {"sales", "service", "pr", "hr", "finance"}

# fmt: off
GROUPS: list[tuple[str, int, list[tuple[str, str]]]] = [
    ("forgotten password", 2, [
        ("Password", "I forgot my password and cannot log in. Please help."),
        ("密码", "我忘记密码了，登录不了，请帮忙。"),
        ("密碼", "我忘記密碼了，登入不了，請幫忙。"),
        ("密碼", "我唔記得咗密碼，登入唔到，唔該幫幫手。"),
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
    ]),
    ("plain fault", 2, [
        ("Kettle", "My kettle stopped working, the light does not come on any more. Can it be "
                   "repaired?"),
        ("水壶", "我的电水壶坏了，指示灯也不亮了，可以修吗？"),
        ("快煮壺", "我的快煮壺壞了，指示燈也不亮了，可以修嗎？"),
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
    ]),
]
# fmt: on


@pytest.fixture(scope="module")
def bundle() -> ClassifierBundle:
    return train(load_bootstrap_examples(), evaluate=False)


def test_the_groups_are_no_training_rows():
    bodies = {example.body for example in load_bootstrap_examples()}
    assert not [body for _, _, mails in GROUPS for _, body in mails if body in bodies]


@pytest.mark.parametrize(("meaning", "level", "mails"), GROUPS, ids=[g[0] for g in GROUPS])
def test_one_meaning_gets_one_urgency_in_every_language(bundle, meaning, level, mails):
    config = {setting.name: setting.default for setting in SETTINGS}
    levels = {
        body: decide(subject, body, config=config, bundle=bundle, active_codes=DEPARTMENTS).urgency
        for subject, body in mails
    }
    assert {body: got for body, got in levels.items() if got != level} == {}, meaning
