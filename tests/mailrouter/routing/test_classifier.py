# ruff: noqa: E501  (the unseen mail below is data: one mail per line reads best)
"""The mail classifier routes unseen mail in both languages, explains itself, lets urgency
rules win, and keeps its model file safe (signed, atomic, refused when wrong)."""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mailrouter.routing import classifier, features
from mailrouter.routing import labels as training_labels
from mailrouter.routing import scorer as fast_scorer
from mailrouter.routing.classifier import (
    FORMAT_VERSION,
    ClassifierBundle,
    cross_validate,
    load_bundle,
    predict,
    predict_many,
    save_bundle,
    train,
)
from mailrouter.routing.features import NO_HURRY_TOKEN, mail_text, tokenize
from mailrouter.routing.labels import Example, examples_hash, load_bootstrap_examples
from mailrouter.routing.urgency_rules import match_urgency_rules

KEY = b"test-signing-key"

# fmt: off
# New sentences, written for these tests (none is in the training CSV): (subject, body, label).
UNSEEN_DEPARTMENT = [
    ("Pricing for 300 office chairs", "Hello, we are furnishing a new office and need 300 ergonomic chairs. What would your price per unit be, and is there a discount for that volume?", "sales"),
    ("", "Do you have the 27-inch monitors in stock right now? We'd like to buy twenty of them for our design team.", "sales"),
    ("咨询批发价格", "你好，我们是一家便利店连锁，想批量进你们的饮水机，请报一下价格和最低起订数量。", "sales"),
    ("產品規格", "請問你們的投影機有幾種型號？亮度和價格分別是多少？我們學校想採購十台。", "sales"),
    ("My blender stopped working", "The blender I bought two months ago won't turn on anymore. How can I get it repaired under warranty?", "service"),
    ("Parcel not at my door", "The tracking page says my package was delivered yesterday, but there is nothing at my door. Can you look into it?", "service"),
    ("无法登录账户", "我的账号一直提示密码错误，重置密码的短信也收不到，请帮忙处理一下。", "service"),
    ("", "买的电热水壶用了一周就漏水了，想申请换货，需要怎么操作？", "service"),
    ("Media inquiry", "I'm a journalist at the Morning Post preparing a feature on local tech companies. Could I interview someone from your leadership team this month?", "pr"),
    ("Sponsorship for our hackathon", "Our university is hosting a 48-hour hackathon in spring and we are looking for corporate sponsors. Would your company consider supporting us?", "pr"),
    ("", "请问贵公司下一次业绩说明会是什么时候？作为投资者想提前了解参会方式。", "pr"),
    ("媒体合作", "我们是一家科技类自媒体，想报道贵公司的新产品发布会，能否提供新闻稿和发布会的采访名额？", "pr"),
    ("Application: Marketing Coordinator", "Dear recruiter, I would like to apply for the Marketing Coordinator opening. My resume and portfolio are attached.", "hr"),
    ("", "Hi, I had my first interview with your team last Monday. Is there any update on the next round?", "hr"),
    ("求职申请", "您好，我应聘贵公司的人力资源专员岗位，有四年招聘经验，简历已附上，期待面试机会。", "hr"),
    ("面試時間", "收到貴公司的面試通知，想確認一下面試地點，以及是否需要帶作品集。", "hr"),
    ("Invoice copy needed", "Could you please send us a copy of invoice 20931? Our accounting department cannot find the original.", "finance"),
    ("Payment made", "We wired the balance of USD 8,750 for PO 5521 this morning. Please confirm once you see it in your account.", "finance"),
    ("", "请问上个月的货款什么时候付款？我们这边的应收账款显示还没到账。", "finance"),
    ("开票信息", "我们需要开增值税专用发票，开票信息已经附在邮件里，请核对后开具。", "finance"),
]

UNSEEN_URGENCY = [
    ("Great experience", "Just wanted to tell you that the installation team was punctual and friendly. Excellent work, we're very happy.", 1),
    ("", "A small idea for your website: a live chat button would make it easier to ask quick questions.", 1),
    ("表扬快递员", "这次送货的师傅很负责，下雨天还把包裹用塑料袋包好，非常感谢！", 1),
    ("", "你们新出的App界面很好看，用起来也顺手，希望以后能加一个夜间模式。", 1),
    ("Question about opening hours", "What are the opening hours of your showroom on Saturdays?", 2),
    ("", "Could you send me the user manual for the CM-3 coffee machine in PDF?", 2),
    ("发票邮寄地址", "麻烦把发票寄到我们新的办公地址：杭州市西湖区文三路200号。", 2),
    ("咨询", "请问你们的产品保修期是多久？我们想了解一下保修细则。", 2),
    ("Compatibility question for integration", "We need to connect your scanners to our warehouse management software via a serial protocol. Can one of your engineers tell us which firmware supports it?", 3),
    ("Customs classification", "Our customs broker disputes the HS code on your commercial invoice for the battery packs. We need someone who knows export classification to advise.", 3),
    ("设备异常需要工程师", "压缩机运行时偶尔出现异响，本地维修人员检查不出原因，希望安排你们的专业工程师诊断。", 3),
    ("", "我们准备在高海拔地区使用你们的发电机，需要技术部门确认功率衰减和是否需要改装。", 3),
    ("Still no reply after two weeks", "I have written three times about the damaged sofa and nobody has replied. This is unacceptable and I want to speak to a manager.", 4),
    ("Charged after cancelling", "You charged my card again after I cancelled the subscription. I want the money back and an explanation.", 4),
    ("多次反映无人处理", "冰箱不制冷的问题我已经反映了好几次了，到现在还没有人上门，非常不满意。", 4),
    ("", "说好三天内发货，现在都两周了还没发，再不处理我就要给差评了。", 4),
    ("Water leaking into electrical panel", "Water from your air conditioning unit is dripping straight into our electrical panel. We've turned off the power but need a technician immediately.", 5),
    ("Online shop offline", "Our online shop that you host has been offline for the last hour, customers cannot order anything. Please help right away.", 5),
    ("", "你们的设备刚才突然起火了，员工已经疏散，请马上派人来现场！", 5),
    ("網站被入侵", "我們發現後台帳戶被駭客入侵，客戶資料可能外洩，請立即協助處理！", 5),
]
# fmt: on


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return load_bootstrap_examples()


@pytest.fixture(scope="module")
def bundle(examples: list[Example]) -> ClassifierBundle:
    return train(examples)


def _accuracy(predicted: list, expected: list) -> float:
    return sum(p == e for p, e in zip(predicted, expected, strict=True)) / len(expected)


# ----------------------------------------------------------------------------- training data


def test_bootstrap_set_covers_every_department_and_level_in_both_languages(examples):
    departments = Counter(e.department for e in examples)
    levels = Counter(e.urgency for e in examples)
    assert set(departments) == {"sales", "service", "pr", "hr", "finance"}
    assert min(departments.values()) >= 60
    assert set(levels) == {1, 2, 3, 4, 5}
    assert min(levels.values()) >= 40
    chinese = sum(any("\u4e00" <= ch <= "\u9fff" for ch in e.body) for e in examples)
    assert 0.4 <= chinese / len(examples) <= 0.6
    assert sum(not e.subject for e in examples) >= 20


def test_unseen_sentences_are_not_in_the_training_set(examples):
    bodies = {e.body for e in examples}
    assert not [b for _, b, _ in UNSEEN_DEPARTMENT + UNSEEN_URGENCY + PLAIN_WORDED if b in bodies]


def test_tokenizer_segments_chinese_and_folds_traditional_and_case():
    assert tokenize("我要申请退款") == tokenize("我要申請退款")
    assert "退款" in tokenize("我要申請退款")
    assert tokenize("Refund NOT received") == ["refund", "not", "received"]
    assert "invoice" in tokenize("Invoice INV-2024 的付款")


# ----------------------------------------------------------------------------- routing


def test_routes_unseen_mail_to_the_right_department(bundle):
    predicted = [predict(bundle, s, b)[0].label for s, b, _ in UNSEEN_DEPARTMENT]
    expected = [label for *_, label in UNSEEN_DEPARTMENT]
    assert _accuracy(predicted, expected) >= 0.8, list(zip(predicted, expected, strict=True))


def test_rates_unseen_mail_at_the_right_urgency(bundle):
    predicted = [predict(bundle, s, b)[1].label for s, b, _ in UNSEEN_URGENCY]
    expected = [label for *_, label in UNSEEN_URGENCY]
    assert _accuracy(predicted, expected) >= 0.8, list(zip(predicted, expected, strict=True))


def test_model_alone_rates_most_unseen_urgencies(bundle):
    """Without the keyword rules the model still gets most levels right."""
    pairs = [(s, b) for s, b, _ in UNSEEN_URGENCY]
    predicted = [u.label for _, u in predict_many(bundle, pairs, urgency_rules=None)]
    expected = [label for *_, label in UNSEEN_URGENCY]
    assert _accuracy(predicted, expected) >= 0.6, list(zip(predicted, expected, strict=True))


# fmt: off
# Emergencies told without an alarm word, and special problems told with thanks or praise: the
# model alone must read the situation (written for this test; none is in the training CSV).
PLAIN_WORDED = [
    # "a dark patch": a cable gone black beside a plug is a keyword since the twentieth session
    ("toaster", "The toaster's cable has a dark patch near the plug and the socket is too hot to touch. I've switched it off at the wall; my children are home.", 5),
    ("", "My husband touched the dishwasher door and his arm went numb for a minute. It's still plugged in. What should we do?", 5),
    ("", "洗衣机后面的插座进水了，厨房的灯一闪一闪的，空气开关跳了两次，我不敢靠近。", 5),
    # "流了很多血" (a lot of blood) is a keyword since the twenty-first session; a head blow with
    # dizziness and vomiting is not
    ("", "員工在倉庫被貨架上掉下來的箱子砸到頭，頭很暈還吐了兩次，我們正陪他去看醫生。", 5),
    ("Podcast", "Huge fans of your kettles! I run a design podcast and would love to interview your product lead next month. Who should I talk to?", 3),
    ("", "谢谢你们之前的帮助！烤箱现在又显示E5，按说明书断电重启了两次还是一样，麻烦安排师傅上门。", 3),
    ("", "Thanks for the speedy refund last time! This time I've been charged twice for order 77120, could you refund one payment?", 3),
]
# fmt: on


def test_model_alone_reads_plain_worded_emergencies_and_polite_special_problems(bundle):
    """No keyword fires on these; the model trained on the shipped examples rates them (the
    examples before session 13's rows rated 3 of 7: a shock, a blackened plug and a polite
    press interview or double charge came out 2 or 3)."""
    assert not [b for s, b, _ in PLAIN_WORDED if match_urgency_rules(f"{s}\n{b}")]
    pairs = [(s, b) for s, b, _ in PLAIN_WORDED]
    predicted = [u.label for _, u in predict_many(bundle, pairs, urgency_rules=None)]
    expected = [level for *_, level in PLAIN_WORDED]
    assert _accuracy(predicted, expected) >= 6 / 7, list(zip(predicted, expected, strict=True))


# fmt: off
# A customer's own tries and their frustration ("tried several times", "好几次", "一直", "still")
# without contacting us again: normal (2); not a product fault that persists after the customer's
# own fix, which needs a technician (3). Written for this test; none is in the training CSV.
ORDINARY_FRUSTRATION = [
    ("登录不了", "我的会员账号一直登录不上，已经试了好几次了，还是提示密码错误，麻烦帮忙看看。"),
    ("", "已經試了好幾次，還是沒辦法登入，請幫我看一下帳號。"),
    ("Login problem", "I've tried several times to log in and it still doesn't work. Can you help?"),
    ("", "包裹一直显示运输中，已经五天了，物流电话也打不通，能帮我查一下吗？"),
    ("Paying", "I've tried several times to pay with PayPal at checkout and it keeps timing out. Is there another way to pay?"),
    ("", "優惠券一直用不了，結帳的時候一直顯示無效，試了好幾次。"),
    ("Voucher", "The discount code keeps getting rejected at checkout, I've tried it several times now."),
]
# fmt: on


def test_model_alone_rates_a_customer_s_own_tries_as_normal(bundle):
    """Trying again is not chasing us: the model must not escalate it (the examples before
    session 16's rows rated 4 of 7 normal and one an emergency (5))."""
    assert not [b for s, b in ORDINARY_FRUSTRATION if match_urgency_rules(f"{s}\n{b}")]
    predicted = [u.label for _, u in predict_many(bundle, ORDINARY_FRUSTRATION, urgency_rules=None)]
    assert max(predicted) <= 3, predicted
    assert predicted.count(2) >= 6, predicted


@pytest.mark.parametrize(
    ("body", "department"),
    [
        (
            "Does the 4-slice toaster have a defrost button? I'm thinking of buying one for the flat.",
            "sales",
        ),
        ("还没下单，想问一下今天买电饭煲，明天能送到北京吗？", "sales"),
        ("想買空氣清淨機，請問可以用LINE Pay付款嗎？", "sales"),
        (
            "I haven't ordered yet: if I buy the fan today, could it be delivered on Saturday?",
            "sales",
        ),
        ("我家去年买的净水器提示换滤芯了，原装滤芯要买哪一款？", "service"),
        (
            "Which descaler should I use for the coffee machine I bought from you in March?",
            "service",
        ),
    ],
)
def test_pre_sale_questions_go_to_sales_and_owned_products_to_service(bundle, body, department):
    """The labels' convention (bench/routing_realistic_eval.py): asking before buying, paying
    or ordering is sales; consumables for a product the customer owns are customer service."""
    prediction, _ = predict(bundle, "", body)
    assert prediction.label == department


@pytest.mark.parametrize(
    ("subject", "body", "department"),
    [
        ("Quotation request", "Please quote 500 units of your X300 printer.", "sales"),
        ("CV attached", "I am applying for the accountant job, my resume is attached.", "hr"),
        ("", "请问发票什么时候开好？我们财务要入账。", "finance"),
        ("记者采访", "我是日报记者，想采访贵公司总经理。", "pr"),
        ("退貨", "收到的吸塵器是壞的，我要退貨。", "service"),
        # README's first mail to try: an order already placed is customer service, not sales.
        ("Where is my order?", "I ordered a kettle last week.", "service"),
    ],
)
def test_clear_cut_mail_is_routed_exactly(bundle, subject, body, department):
    prediction, _ = predict(bundle, subject, body)
    assert prediction.label == department
    assert 0.2 < prediction.probability <= 1.0


def test_prediction_names_the_words_behind_it(bundle):
    department, urgency = predict(
        bundle, "Invoice", "Please resend the invoice for our last payment."
    )
    assert department.label == "finance"
    assert "invoice" in department.reasons
    assert 0 < len(department.reasons) <= fast_scorer.REASONS_PER_PREDICTION
    assert urgency.rule is None and urgency.reasons

    department, _ = predict(bundle, "", "我想应聘贵公司的会计岗位，简历在附件里。")
    assert department.label == "hr"
    assert {"简历", "应聘"} & set(department.reasons)


def test_urgency_rules_beat_the_model(bundle):
    subject, body = "Price list", "Could you send me your price list for desk lamps?"
    _, model_only = predict(bundle, subject, body, urgency_rules=None)
    assert model_only.label == 2

    _, ruled = predict(bundle, subject, body, urgency_rules={5: ["desk lamps"]})
    assert (ruled.label, ruled.probability, ruled.rule) == (5, 1.0, "desk lamps")

    _, default_rules = predict(bundle, "Lawsuit", body)
    assert default_rules.label == 5 and default_rules.rule == "lawsuit"

    _, traditional = predict(bundle, "", "伺服器當機了，全部門市都無法結帳")
    assert traditional.label == 5


def test_praise_rule_does_not_hide_a_complaint(bundle):
    _, urgency = predict(
        bundle, "Refund", "Great job on the delivery, but I complained three times already."
    )
    assert urgency.label == 4 and urgency.rule == "complained"


def test_predict_many_agrees_with_predict(bundle):
    items = [(s, b) for s, b, _ in UNSEEN_DEPARTMENT[:6]] + [("", "")]
    batch = predict_many(bundle, items)
    assert batch == [predict(bundle, s, b) for s, b in items]
    assert predict_many(bundle, []) == []


# Mail that stresses the fast scorer's own text handling: repeated and one-letter words,
# every kind of whitespace, Traditional Chinese, digits, punctuation only, nothing at all.
AWKWARD_TEXTS = [
    "",
    "?!",
    "a",
    "I I I a a b",
    "refund refund REFUND refund.",
    "tab\tseparated\r\nlines\x0bvertical\x0cfeed\u3000ideographic\u00a0nbsp  double",
    "   leading and trailing   ",
    "你好 你好 你好，谢谢！谢谢！",
    "帳號被盜，請立即處理！我們的系統無法登入。",
    "订单 12345 的发票 INV-2024-09 还没收到 c++ e-mail don't",
    "aaaaaa aa aaa 啊啊啊啊",
]


def _scorer_texts(examples: list[Example]) -> list[str]:
    unseen = [mail_text(s, b) for s, b, _ in UNSEEN_DEPARTMENT + UNSEEN_URGENCY]
    return [mail_text(e.subject, e.body) for e in examples] + unseen + AWKWARD_TEXTS


def _assert_scorer_matches_scikit_learn(bundle: ClassifierBundle, texts: list[str]) -> None:
    """The fast scorer's features and probabilities are scikit-learn's, mail by mail."""
    scorer = bundle.scorer
    features = bundle.department_pipeline.named_steps["features"]
    expected_rows = features.transform(texts).toarray()
    for text, expected_row in zip(texts, expected_rows, strict=True):
        row = scorer.row(text)
        dense = np.zeros(scorer.n_features)
        dense[row.columns] = row.values
        assert len(set(row.columns.tolist())) == len(row.columns)
        assert np.allclose(dense, expected_row, atol=1e-6), text
    for target in classifier.TARGETS:
        pipeline = getattr(bundle, f"{target}_pipeline")
        expected = pipeline.predict_proba(texts)
        actual = np.array([scorer.probabilities(target, scorer.row(text)) for text in texts])
        # scikit-learn's features are float32 (features.py), the scorer's float64: rows agree
        # to about 1e-8, which a logistic head with C=20 turns into up to 1e-6 of probability
        assert np.allclose(actual, expected, atol=2e-6)
        assert scorer.heads[target].classes == [
            c.item() if hasattr(c, "item") else c for c in pipeline.classes_
        ]


def test_fast_scorer_matches_scikit_learn_exactly(bundle, examples):
    _assert_scorer_matches_scikit_learn(bundle, _scorer_texts(examples))


def test_fast_scorer_matches_scikit_learn_for_binary_and_logistic_models(examples):
    """The other heads: one coefficient row (two classes), and the logistic regression that
    tiny classes fall back to, with three classes (softmax) and with two (logistic)."""
    subset = [e for e in examples if e.department in ("sales", "hr") and e.urgency in (2, 4)]
    praise = next(e for e in examples if e.department in ("sales", "hr") and e.urgency == 1)
    lone_finance = next(e for e in examples if e.department == "finance" and e.urgency == 2)
    sales = [e for e in subset if e.department == "sales"]
    binary = train(subset, evaluate=False)
    logistic = train([*subset, praise], evaluate=False)
    logistic_binary = train([*sales, lone_finance], evaluate=False)
    assert binary.scorer.heads["department"].coef.shape[0] == 1
    assert logistic.scorer.heads["urgency"].sigmoid is None
    assert logistic_binary.scorer.heads["department"].sigmoid is None
    assert logistic_binary.scorer.heads["department"].coef.shape[0] == 1
    _assert_scorer_matches_scikit_learn(binary, _scorer_texts(subset))
    _assert_scorer_matches_scikit_learn(logistic, _scorer_texts(subset))
    _assert_scorer_matches_scikit_learn(logistic_binary, _scorer_texts(sales))


def test_word_ngrams_are_scikit_learns_char_wb_ngrams(bundle):
    vectorizer = dict(bundle.department_pipeline.named_steps["features"].transformer_list)["chars"]
    for text in AWKWARD_TEXTS + ["x", "xy", "xyz", "wxyz", "受伤", "起", "don't"]:
        normalized = features.normalize_text(text)
        ours = [gram for word in normalized.split() for gram in fast_scorer._word_ngrams(word)]
        assert ours == vectorizer._char_wb_ngrams(normalized), text


def test_feature_counts_are_the_analyzers_in_the_same_order(bundle, examples):
    """Each block counts its analyzer's terms piece by piece; the columns must come out as
    counting the analyzer's stream gives them, in the same order (the sums over them then
    round alike)."""
    for text in _scorer_texts(examples):
        for block in bundle.scorer.blocks:
            expected = {
                block.offset + block.vocabulary[term]: count
                for term, count in Counter(block.analyzer(text)).items()
                if term in block.vocabulary
            }
            assert list(block.counts(text).items()) == list(expected.items()), text


def test_remembered_words_and_segments_change_nothing(bundle, monkeypatch):
    """Caches only save time: a cold and a warm prediction agree, and the word cache is
    bounded (it starts over when full) and is not saved with the model."""
    items = [(s, b) for s, b, _ in UNSEEN_DEPARTMENT + UNSEEN_URGENCY]

    classifier.clear_caches(bundle)
    cold = [predict(bundle, s, b) for s, b in items]
    assert any(block._word_columns for block in bundle.scorer.blocks)
    assert [predict(bundle, s, b) for s, b in items] == cold
    monkeypatch.setattr(fast_scorer, "_WORD_CACHE_SIZE", 5)
    classifier.clear_caches(bundle)
    assert [predict(bundle, s, b) for s, b in items] == cold
    assert all(len(block._word_columns) <= 5 for block in bundle.scorer.blocks)
    restored = pickle.loads(pickle.dumps(bundle.scorer.blocks[-1]))
    assert "_word_columns" not in bundle.scorer.blocks[-1].__getstate__()
    assert "idf" not in bundle.scorer.__getstate__()  # derived from the blocks, made on use
    assert restored._word_columns == {}


# ----------------------------------------------------------------------------- training


def test_training_records_held_out_metrics(bundle, examples):
    assert bundle.n_examples == len(examples)
    assert bundle.department_labels == ["finance", "hr", "pr", "sales", "service"]
    assert bundle.urgency_labels == [1, 2, 3, 4, 5]
    assert bundle.trained_at.utcoffset() is not None
    assert bundle.model_version.startswith(f"v{FORMAT_VERSION}-sklearn")
    for target, labels in (("department", bundle.department_labels), ("urgency", [1, 2, 3, 4, 5])):
        metrics = bundle.metrics[target]
        assert metrics["n_train"] + metrics["n_test"] == len(examples)
        assert metrics["n_test"] == round(len(examples) * classifier.HELD_OUT_FRACTION)
        assert 0.6 <= metrics["accuracy"] <= 1.0 and 0.6 <= metrics["macro_f1"] <= 1.0
        matrix = metrics["confusion_matrix"]
        assert matrix["labels"] == [str(label) for label in labels]
        assert sum(map(sum, matrix["rows"])) == metrics["n_test"]
        assert sum(c["support"] for c in metrics["per_class"].values()) == metrics["n_test"]
        assert min(c["support"] for c in metrics["per_class"].values()) >= 10  # stratified


def test_retraining_with_new_examples_teaches_a_new_phrase(bundle, examples):
    """Staff confirm a few mails about the new supplier form ("Kestrel form"): it goes to finance."""
    mail = ("", "Where do I send the Kestrel form?")
    taught = [
        Example(
            "Kestrel form",
            "Attached is our completed Kestrel form with the bank details for your payments.",
            "finance",
            2,
        ),
        Example(
            "",
            "Do we need to fill in the Kestrel form again after our company changed its name?",
            "finance",
            2,
        ),
        Example(
            "Kestrel form question",
            "Which tax number goes into section 3 of the Kestrel form?",
            "finance",
            2,
        ),
        Example(
            "",
            "Our Kestrel form was rejected, can you tell us which field is missing?",
            "finance",
            2,
        ),
        Example(
            "Kestrel",
            "Please send me a blank Kestrel form so we can register as a supplier.",
            "finance",
            2,
        ),
        Example("", "Kestrel 表格已经盖章，附件请查收。", "finance", 2),
    ]
    assert predict(bundle, *mail)[0].label != "finance"
    after = train([*examples, *taught], evaluate=False)
    prediction = predict(after, *mail)[0]
    assert prediction.label == "finance"
    assert "kestrel" in prediction.reasons


def test_training_is_deterministic(examples):
    subset = examples[::3]
    first, second = train(subset, evaluate=False), train(subset, evaluate=False)
    for subject, body, _ in UNSEEN_URGENCY[:8]:
        assert predict(first, subject, body) == predict(second, subject, body)


def test_the_same_examples_in_another_order_make_the_same_model(examples):
    """Row order once decided the held-out split, the model choice's and the calibration's
    folds and the SVM's descent: shuffled rows made other probabilities and, near the
    thresholds, other decisions (sets 1-10, three shuffles: urgency 702-704 right of 747)."""
    subset = examples[::3]
    shuffled = list(subset)
    random.Random(7).shuffle(shuffled)
    first, second = train(subset), train(shuffled)
    assert first.choice == second.choice
    assert first.metrics == second.metrics
    mails = [(s, b) for s, b, _ in UNSEEN_DEPARTMENT + UNSEEN_URGENCY]
    assert predict_many(first, mails, urgency_rules=None) == predict_many(
        second, mails, urgency_rules=None
    )


def test_canonical_order_mixes_the_languages():
    """The order is a hash's, not the text's: sorted text would put every Chinese mail after
    every English one, and the calibration's unshuffled folds would each learn one language."""
    rows = [Example(f"Order {n}", "Where is it?", "service", 2) for n in range(40)]
    rows += [Example(f"订单 {n}", "到哪了？", "service", 2) for n in range(40)]
    first_half = training_labels.canonical_order(rows)[:40]
    assert 10 <= sum(e.subject.startswith("订单") for e in first_half) <= 30
    assert training_labels.canonical_order(reversed(rows)) == training_labels.canonical_order(rows)


def test_data_hash_is_stable_and_tracks_changes(bundle, examples):
    assert bundle.data_hash == examples_hash(examples)
    assert examples_hash(list(reversed(examples))) == bundle.data_hash
    relabelled = [dataclasses.replace(examples[0], urgency=5), *examples[1:]]
    assert examples_hash(relabelled) != bundle.data_hash
    assert examples_hash([*examples, examples[0]]) != bundle.data_hash


def test_tiny_classes_still_train(caplog):
    examples = [
        Example("Quote", "price for 10 chairs", "sales", 2),
        Example("Quote", "price for 20 desks", "sales", 2),
        Example("", "do you have lamps in stock", "sales", 2),
        Example("CV", "my resume for the clerk job", "hr", 2),
        Example("", "application for the driver job", "hr", 2),
        Example("", "interview time next week", "hr", 2),
        Example("", "lawsuit about your hiring", "hr", 5),  # the only level-5 example
        Example("", "please send a copy of the invoice", "finance", 2),  # the only finance one
    ]
    with caplog.at_level(logging.INFO, logger="mailrouter.routing.classifier"):
        bundle = train(examples)
    assert bundle.urgency_labels == [2, 5]
    assert "not stratified" in caplog.text
    assert predict(bundle, "", "my resume for the cook job")[0].label == "hr"
    for target in ("department", "urgency"):
        metrics = bundle.metrics[target]
        assert "skipped" in metrics or metrics["n_test"] == 2


def test_two_class_targets_train_and_predict(examples):
    """With two departments and two levels each target is binary (one coefficient row)."""
    subset = [e for e in examples if e.department in ("sales", "hr") and e.urgency in (2, 4)]
    bundle = train(subset, evaluate=False)
    assert bundle.scorer.heads["department"].coef.shape[0] == 1
    department, urgency = predict(bundle, "", "Please quote 500 units of the X300 printer.")
    assert department.label == "sales" and "quote" in department.reasons
    assert urgency.label in (2, 4) and 0.5 <= urgency.probability <= 1.0


def test_training_needs_two_classes():
    with pytest.raises(ValueError, match="department"):
        train([Example("", "a", "sales", 2), Example("", "b", "sales", 3)])


def test_cross_validation_reports_mean_and_spread(examples):
    subset = [e for e in examples if e.urgency in (2, 5)][::3]
    results = cross_validate(subset, folds=3)
    for target in ("department", "urgency"):
        figures = results[target]
        assert figures["folds"] == 3
        # Better than chance (1/5 departments, 1/2 levels) on 42 training mails a fold; some
        # folds' calibration comes out inverted there and logistic regression takes over.
        assert 0.25 <= figures["accuracy_mean"] <= 1.0
        assert 0.0 <= figures["accuracy_std"] < 0.3
        assert 0.0 < figures["macro_f1_mean"] <= 1.0


# ----------------------------------------------------------------------------- model file


def test_saved_model_loads_and_predicts_the_same(bundle, tmp_path):
    path = tmp_path / "models" / "classifier.pkl"
    save_bundle(bundle, path, KEY)
    assert [p.name for p in path.parent.iterdir()] == ["classifier.pkl"]  # no temp file left
    loaded = load_bundle(path, KEY)
    assert isinstance(loaded, ClassifierBundle)
    assert loaded.data_hash == bundle.data_hash and loaded.metrics == bundle.metrics
    for subject, body, _ in UNSEEN_DEPARTMENT[:5]:
        assert predict(loaded, subject, body) == predict(bundle, subject, body)


def test_saving_again_replaces_the_file(bundle, tmp_path):
    path = tmp_path / "classifier.pkl"
    path.write_bytes(b"old model")
    save_bundle(bundle, path, KEY)
    assert load_bundle(path, KEY) is not None


def test_saving_needs_a_key(bundle, tmp_path):
    with pytest.raises(ValueError):
        save_bundle(bundle, tmp_path / "classifier.pkl", b"")


def _refused(path: Path, caplog: pytest.LogCaptureFixture, key: bytes = KEY) -> str:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mailrouter.routing.classifier"):
        assert load_bundle(path, key) is None
    assert caplog.records and caplog.records[-1].levelno == logging.WARNING
    return caplog.text


def test_missing_file_is_refused_with_a_warning(tmp_path, caplog):
    assert "does not exist" in _refused(tmp_path / "absent.pkl", caplog)


def test_corrupt_files_are_refused(bundle, tmp_path, caplog):
    path = tmp_path / "classifier.pkl"
    path.write_bytes(b"\x00\x01 not a model at all")
    assert "not a classifier file" in _refused(path, caplog)

    save_bundle(bundle, path, KEY)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # truncated by a crash or a full disk
    assert "signature" in _refused(path, caplog)
    path.write_bytes(data[:40])
    _refused(path, caplog)


def test_tampered_or_foreign_signatures_are_refused(bundle, tmp_path, caplog):
    path = tmp_path / "classifier.pkl"
    save_bundle(bundle, path, KEY)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "bad signature" in _refused(path, caplog)

    save_bundle(bundle, path, KEY)
    assert "bad signature" in _refused(path, caplog, key=b"another-key")
    assert "no signing key" in _refused(path, caplog, key=b"")


def test_an_unsigned_pickle_is_never_unpickled(tmp_path, caplog):
    marker = tmp_path / "code-ran"

    class Exploit:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    path = tmp_path / "classifier.pkl"
    path.write_bytes(pickle.dumps(Exploit()))
    _refused(path, caplog)
    header = b'{"format_version": 1, "sklearn_version": "x"}'
    path.write_bytes(
        classifier._FILE_MAGIC + header + b"\n" + b"0" * 64 + b"\n" + pickle.dumps(Exploit())
    )
    assert "bad signature" in _refused(path, caplog)
    assert not marker.exists()


def test_other_format_or_library_versions_are_refused(bundle, tmp_path, caplog):
    path = tmp_path / "classifier.pkl"
    save_bundle(dataclasses.replace(bundle, format_version=FORMAT_VERSION + 1), path, KEY)
    assert "format version" in _refused(path, caplog)
    save_bundle(dataclasses.replace(bundle, sklearn_version="0.1.0"), path, KEY)
    assert "scikit-learn 0.1.0" in _refused(path, caplog)


# Traditional and Simplified spellings of the same mail.
SCRIPT_PAIRS = [
    ("帳號被鎖定", "我的帳號被鎖定了，無法登入", "账号被锁定", "我的账号被锁定了，无法登入"),
    ("退貨", "我想退貨，請問運費誰出？", "退货", "我想退货，请问运费谁出？"),
    ("發票", "請幫我開一張增值稅發票", "发票", "请帮我开一张增值税发票"),
    ("退款", "退款還沒到帳，非常緊急！", "退款", "退款还没到账，非常紧急！"),
]


@pytest.mark.parametrize(("t_subject", "t_body", "s_subject", "s_body"), SCRIPT_PAIRS)
def test_traditional_and_simplified_mail_are_classified_alike(
    bundle, t_subject, t_body, s_subject, s_body
):
    traditional = predict(bundle, t_subject, t_body)
    simplified = predict(bundle, s_subject, s_body)
    assert traditional == simplified  # labels, probabilities, reasons and rules
    scorer = bundle.scorer
    rows = [scorer.row(mail_text(t_subject, t_body)), scorer.row(mail_text(s_subject, s_body))]
    for target in classifier.TARGETS:
        assert np.array_equal(
            scorer.probabilities(target, rows[0]), scorer.probabilities(target, rows[1])
        )


def test_the_classifier_segments_with_the_search_dictionary():
    """One jieba, one user dictionary: the shop's words stay whole for routing as for search."""
    for word in ("七天无理由", "以旧换新", "到货通知"):
        assert word in tokenize(f"{word}怎么申请")
    assert "账号" in tokenize("帳號被鎖定")


# fmt: off
# Suggestions and praise by whom they concern (written for this test; none is in the training
# CSV): a product suggestion is customer service's, an employee's suggestion HR's, praise for
# the company's articles or thanks for a review sample PR's.
SUGGESTIONS_AND_PRAISE = [
    ("", "Love the stick vacuum. Could the next version have a longer battery life and a wall bracket in the box? Just an idea.", "service"),
    ("建议", "你们的电热毯很好用，建议以后出一个双人分区调温的款式，再多几个花色就更好了。", "service"),
    ("小建議", "你們的除濕機很好用，建議水箱可以做大一點，還有希望出白色以外的顏色。", "service"),
    ("Suggestion for the break room", "Hi HR, could we get a second microwave in the break room? At lunchtime there's always a queue. Just a thought, thanks!", "hr"),
    ("一点建议", "人事部你好，建议公司的班车能多开一趟晚班，加班的同事回家不方便。谢谢！", "hr"),
    ("Great article", "Your article on keeping houseplants alive in winter was lovely, I've bookmarked your blog. Thank you!", "pr"),
    ("感谢寄来的测评样品", "测评用的加湿器收到了，拍照很好看，下周会发在我的博客上，不用回复，谢谢！", "pr"),
]
# fmt: on


def test_suggestions_and_praise_go_to_the_department_they_concern(bundle):
    """The labels' convention (bench/routing_realistic_eval.py, the departments in
    support/desk/seed.py). The examples before session 15 routed 3 of these 7 right: product
    suggestions to sales, staff suggestions to service, a blogger's thanks to HR."""
    assert not [
        b for _, b, _ in SUGGESTIONS_AND_PRAISE if b in {e.body for e in load_bootstrap_examples()}
    ]
    predicted = [predict(bundle, s, b)[0].label for s, b, _ in SUGGESTIONS_AND_PRAISE]
    expected = [department for *_, department in SUGGESTIONS_AND_PRAISE]
    assert _accuracy(predicted, expected) >= 6 / 7, list(zip(predicted, expected, strict=True))


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "Balance confirmation for our auditors",
            "Our auditors are carrying out the year-end audit and ask you to confirm the balance we owed you at 31 December. Please sign the enclosed form and send it straight to them.",
        ),
        (
            "往来款询证函",
            "会计师事务所正在做年审，请贵司财务核对截至12月31日我司的应付余额，在询证函上盖章后直接寄回事务所。",
        ),
    ],
)
def test_an_auditor_s_balance_confirmation_is_routine_finance(bundle, subject, body):
    """Every year's paperwork, not a special problem: level 2 (set 5's label; the two shipped
    examples said 3, and the model said 3)."""
    department, urgency = predict(bundle, subject, body, urgency_rules=None)
    assert (department.label, urgency.label) == ("finance", 2)


# fmt: off
# Mail the development sets showed the model misreading, told anew (none is in the training
# CSV): (subject, body, department, urgency or None when any level will do).
SPECIALIST_AND_OWNED = [
    ("扫地机配件", "我家扫地机器人的滚刷断了，请问可以单独买一个吗？多少钱？", "service", None),
    ("", "The lid hinge on my kettle snapped. Do you sell the lid on its own, and what does it cost?", "service", None),
    ("Missing night allowance", "Hello HR, my October payslip is missing the night-shift allowance for eight shifts. Could payroll check and correct it? Employee 5120.", "hr", 3),
    ("工资少算了", "人事你好，我是仓库的临时工，11月的夜班补贴工资条上没有，主管让我找人事核对，工号 W-771。", "hr", 3),
    ("Withdraw my application", "Hello, I applied for the logistics planner role last month but have accepted another offer. Please delete my CV and interview notes and confirm when that's done.", "hr", 3),
    ("補貨幾時到", "你好，我哋舖頭上個月落咗 20 部暖爐，到而家都未出貨，客人一直問，麻煩盡快話我知幾時有貨。", "sales", 4),
    ("Feature on family businesses", "Hello, I'm a journalist writing a feature on family-run homeware brands for a weekend supplement. Could your founder spare 30 minutes for an interview this month?", "pr", 3),
    ("Your heater on Instagram", "My Instagram post about your heater's cracked casing now has 4,000 likes and hundreds of comments from people with the same problem. Your support hasn't replied. I'd like a public response from the company.", "pr", 4),
]
# fmt: on


def test_spare_parts_payroll_applicants_data_and_stockists_are_read_by_the_model(bundle):
    """A spare part for a product the writer owns is customer service's; a payroll error and an
    applicant's data deletion need HR's specialists (3); a stockist chasing its order is sales.
    The examples before session 15 read 4 of these 8 right (the part went to sales, the
    applicant's deletion and the temp's pay to level 2, the stockist to service)."""
    assert not [
        b for _, b, *_ in SPECIALIST_AND_OWNED if b in {e.body for e in load_bootstrap_examples()}
    ]
    right = 0
    for subject, body, department, level in SPECIALIST_AND_OWNED:
        got_department, got_urgency = predict(bundle, subject, body, urgency_rules=None)
        right += got_department.label == department and level in (None, got_urgency.label)
    assert right >= 7


# fmt: off
# Kinds of mail that realistic sets 6 and 7 showed the model sending astray, told anew (none is
# in the training CSV): (subject, body, department, urgency or None when any level will do).
OUTAGES_INTEGRATIONS_NOTICES = [
    ("Ticket scanners down at the stadium gates", "Your ticket scanning app stopped validating tickets at all six gates 20 minutes ago ('sync failed'). 8,000 fans are queuing outside for tonight's match. We need your technical team on the phone immediately.", "service", 5),
    ("点餐系统全部瘫痪", "你好，我们餐厅用的是你们的扫码点餐系统，晚上六点开始所有桌的二维码都打不开，客人没法点菜，服务员只能手写。请马上安排技术处理！", "service", 5),
    ("Orders stuck since your API change", "Hi, since your API release on Tuesday our order sync calls get '403 scope missing' although the key has every permission in the dashboard. Orders still go through by hand, so we're not stopped, but we need one of your integration engineers to check the key.", "service", 3),
    ("匯出的資料格式對不上", "您好，我們公司用你們的門禁機，匯出的CSV日期格式跟我們自己的系統對不上，匯入後跨日的紀錄全亂了。可以請技術人員提供格式說明或遠端協助嗎？", "service", 3),
    ("Claim for damages - collapsed ladder", "Dear Sirs, We act for Mr P. Gray, who was injured when a ladder bought from you gave way on 2 October. We hereby notify you of a claim for damages and ask you to pass this letter to your insurers within 14 days.", "service", 5),
    ("Updated remittance details", "Dear Accounts Payable, please note our company has changed banks. Kindly pay all future invoices into the account on the attached letter and confirm that your records have been updated.", "finance", 3),
    ("收款帳戶變更", "貴公司財務您好，本公司已更換往來銀行，後續貨款請匯入變更函上的新帳戶，並請回覆確認已更新資料。", "finance", 3),
    ("Cross-promotion idea", "Hi, I look after partnerships at a meal-kit company with 50k subscribers. Could we do a cross-promotion with your cookware - a joint recipe series and a giveaway? Who in marketing should I talk to?", "pr", None),
]
# fmt: on


def test_business_outages_integrations_legal_notices_and_bank_changes_are_read_by_the_model(
    bundle,
):
    """An outage at a business customer (its tills, ordering or label system) and a broken
    integration are customer service's (5 and 3), though their words are shops, orders and
    stores; a lawyer's claim over a product is service's too; a supplier's new bank account needs
    finance's check (3); a co-marketing offer is PR's. The examples before session 22 read 0 of
    these 8 right (outages to sales or PR, the API to sales, the claim to HR, bank changes 2)."""
    assert not [
        b
        for _, b, *_ in OUTAGES_INTEGRATIONS_NOTICES
        if b in {e.body for e in load_bootstrap_examples()}
    ]
    right = 0
    for subject, body, department, level in OUTAGES_INTEGRATIONS_NOTICES:
        got_department, got_urgency = predict(bundle, subject, body, urgency_rules=None)
        right += got_department.label == department and level in (None, got_urgency.label)
    assert right >= 6


# fmt: off
# Court claims and lawyers' letters over a faulty product's refund (customer service) beside a
# creditor's claim over unpaid invoices or rent (finance), none in the training CSV.
LEGAL_CLAIMS = [
    ("County Court claim - refund for fridge freezer", "Dear Sirs,\n\nWe are instructed by Mr Owen Price. The fridge freezer he bought from you in March stopped cooling twice and you refused a refund. We have today filed a claim in the County Court for the price of GBP 899 plus costs. The claim form will reach you by post.\n\nHalden & Co Solicitors", "service"),
    ("", "我已经向法院起诉你们了。空调买回来就不制冷，修了两次还是不行，你们一直不给退款，法院立案了，等着收传票吧。", "service"),
    ("退款訴訟通知", "貴公司：本人購買之除濕機收貨即故障，要求退款遭拒，已向台北地方法院提起小額訴訟，請留意法院通知。陳小姐", "service"),
    ("Letter before action - unpaid invoices 7781-7790", "Dear Sirs,\n\nWe act for Brightline Packaging Ltd. Invoices 7781 to 7790, totalling GBP 9,240, are 75 days overdue. Unless payment is received within 7 days we will issue a claim in the County Court without further notice.\n\nMorrow Legal", "finance"),
    ("拖欠租金起诉", "贵司财务：三号仓库10月到12月的租金共4.5万元一直未付，我方已向法院提起诉讼，请尽快联系协商。业主 刘先生", "finance"),
]
# Analysts at banks, brokers and research firms asking about the company's results (PR, which
# answers investors) beside analysts applying for a job (HR), none in the training CSV.
ANALYSTS = [
    ("Q2 margin question", "Hi, I'm a research analyst at Harbour Securities and cover your company. Gross margin in the half-year results fell by three points; could investor relations tell me how much of that came from freight costs?", "pr"),
    ("", "Hello, I work as a credit analyst at Nordwell Bank. We are reviewing our exposure to your company and would like a copy of the latest audited results and a short call with your finance director.", "pr"),
    ("Analyst enquiry - full-year results", "Good morning, I'm a sell-side analyst at Kessel & Partners. When will you publish the full-year results, and will there be a conference call for analysts?", "pr"),
    ("关于三季度业绩的问题", "您好，我是国泰证券的行业分析师，想了解贵公司三季度营收下滑的主要原因，以及全年的出货量预期。能否安排投资者关系的同事电话沟通？", "pr"),
    ("", "你好，我是一家基金公司的研究员，最近在看家电板块，想问一下贵公司半年报什么时候披露？", "pr"),
    ("業績說明會", "您好，我是元富證券的分析師，想請問貴公司年度業績說明會的日期，以及是否開放分析師線上提問。", "pr"),
    ("Application - Data Analyst (ref DA-07)", "Hello, please find attached my CV for the Data Analyst vacancy. I have three years of SQL, Power BI and Python experience in retail analytics.", "hr"),
    ("Financial analyst role", "Hi, I saw your opening for a financial analyst in the finance team and would like to apply. I'm a qualified accountant with four years in FP&A. CV attached.", "hr"),
    ("应聘数据分析师", "您好，我想应聘贵公司的数据分析师岗位，统计学硕士毕业，熟悉SQL和Python，简历见附件。", "hr"),
    ("應徵市場分析師", "您好，我在104上看到貴公司徵市場分析師，想應徵這個職位，附上履歷，謝謝。", "hr"),
    ("Market analyst questions for our report", "Hi, I'm a market analyst at Lumio Insights preparing a report on the small kitchen appliance market. Could someone give us your unit sales estimate and your view on the category for 2027?", "pr"),
    ("Interview result?", "Hello, I interviewed for the business analyst position last Tuesday. Is there any news about the next step?", "hr"),
    ("Annual report", "Hello, I'm an analyst at a broker and I cover your sector. When will the annual report be out, and is there a results presentation I could join?", "pr"),
    ("Question from an analyst", "Hi, I am an analyst at Greyfield Asset Management. Could you tell me the date of your next results announcement and whether the slides will be available online?", "pr"),
    ("Results date", "Dear team, I am a credit analyst reviewing your company for our bank. Please let me know when the full-year accounts will be filed and who I can speak to about them.", "pr"),
    ("Interim results", "Good morning, I'm a research analyst following listed appliance makers. Is there a recording of the interim results call? I missed it yesterday.", "pr"),
    ("", "I am an investment analyst and would like to ask about your dividend policy and when the annual report will be published.", "pr"),
    ("Analyst position", "Hello, I am an analyst with three years at a consultancy and I'm interested in the analyst position on your careers page. Please find my CV attached.", "hr"),
    ("My application", "Hi, I applied for the junior analyst role two weeks ago and haven't heard back. Could you tell me whether my application is still being considered?", "hr"),
    ("業績公布", "您好，我是券商分析師，請問貴公司年報什麼時候公布？", "pr"),
    ("年报", "你好，我是研究员，请问年报和业绩说明会的时间？", "pr"),
]
# fmt: on


def test_a_court_claim_over_a_refund_is_customer_service_s_and_a_creditor_s_finance_s(bundle):
    """A lawyer's letter or a court claim over a faulty product is customer service's at 5, a
    refund claimed in it included; a supplier's or landlord's claim over money we owe is
    finance's. Two shipped rows had court claims over refunds at finance: the model sent 2 of
    these 3 refund claims to finance (the words "refund" and "court" were finance's)."""
    training = {e.body for e in load_bootstrap_examples()}
    assert not [b for _, b, _ in LEGAL_CLAIMS if b in training]
    got = [predict(bundle, s, b) for s, b, _ in LEGAL_CLAIMS]
    assert [d.label for d, _ in got] == [department for *_, department in LEGAL_CLAIMS]
    assert {u.label for _, u in got} == {5}


def test_an_analyst_asking_about_results_is_pr_s_and_one_applying_hr_s(bundle):
    """The word "analyst" says nothing of the department: an equity or credit analyst asking
    about results, reports or a results call is PR's (investor relations), one applying for a
    job or asking about an interview HR's. In English "analyst" once leaned to HR: 3 of the 5
    short English questions about results went to HR or finance."""
    training = {e.body for e in load_bootstrap_examples()}
    assert not [b for _, b, _ in ANALYSTS if b in training]
    wrong = [
        (s or b)[:40]
        for s, b, department in ANALYSTS
        if predict(bundle, s, b)[0].label != department
    ]
    assert len(wrong) <= 1, wrong


# ----------------------------------------------------------------------------- courtesy, languages

# Plain faults of owned appliances, worded as no training row is: normal (2) in either script,
# as the same fault in English is (the shipped Chinese rows once had almost no plain fault at
# 2, so "不" and "加热" read as 3-5).
# fmt: off
PLAIN_FAULTS = [
    ("电水壶不加热", ""),
    ("", "电水壶不加热了，怎么办？"),
    ("电暖器不热", "电暖器开了一个小时房间还是冷的，摸上去只是温的。"),
    ("烤箱不會熱", "烤箱預熱半小時溫度還是上不去，麵包都烤不熟。"),
    ("熱水器不熱", "熱水器開了很久水還是冷的，要怎麼處理？"),
    ("吸塵器不能充電", "無線吸塵器放在座充上都充不了電，指示燈不亮。"),
    ("洗碗机不出热水", "洗碗机洗的时候水一直是凉的，碗洗不干净。买了半年。"),
    ("Dishwasher water stays cold", "The dishwasher never heats the water, the plates come out greasy. It's six months old."),
]
# fmt: on


def test_plain_product_faults_are_normal_in_chinese_as_in_english(bundle):
    assert not [
        b for _, b in PLAIN_FAULTS if b and b in {e.body for e in load_bootstrap_examples()}
    ]
    levels = {(s or b): predict(bundle, s, b)[1] for s, b in PLAIN_FAULTS}
    assert {text: u.label for text, u in levels.items() if u.label != 2} == {}
    assert all(u.rule is None for u in levels.values())  # the model's reading, no keyword


def test_greetings_closings_and_the_signed_name_are_no_deciding_words(bundle):
    """Staff read the deciding words: content, never 您好, Hi, 谢谢, Thanks or the sender's name
    (which are no features at all: the model never reads them)."""
    courtesy = {"您好", "你好", "谢谢", "李明", "hi", "dear", "thanks", "regards", "mark", "jensen"}
    mails = [
        ("电水壶不加热", "您好，我的电水壶不加热了，请问怎么办？谢谢。\n李明"),
        ("", "您好！\n\n我想应聘贵公司的会计岗位，简历在附件里。\n\n谢谢\n李明\n13812345678"),
        ("Kettle", "Hi,\n\nMy kettle stopped heating.\n\nThanks,\nMark Jensen"),
        (
            "Invoice",
            "Dear Sir or Madam,\n\nPlease resend the invoice.\n\nKind regards,\nMark Jensen",
        ),
    ]
    for subject, body in mails:
        department, urgency = predict(bundle, subject, body)
        shown = {word.casefold() for word in department.reasons + urgency.reasons}
        assert department.reasons and not shown & courtesy, (body, shown)
        assert not set(tokenize(mail_text(subject, body))) & courtesy


def test_cantonese_particles_are_no_deciding_words(bundle):
    """A Hong Kong customer's fridge mail showed staff 咗, 唔, 嚟 as the words that routed it
    (seen from a fresh start.sh): particles, like Mandarin's 了 and 的, stay in the model but
    are not shown."""
    particles = {"咗", "唔", "嚟", "喺", "哋", "你哋", "啲", "嘅", "係"}
    body = (
        "喂，我上個禮拜喺你哋度買咗部雪櫃，今日開始完全唔凍，啲嘢全部壞晒。"
        "你哋幾時可以派人上嚟睇？我住沙田。唔該晒！"
    )
    department, urgency = predict(bundle, "部雪櫃唔凍", body)
    shown = set(department.reasons + urgency.reasons)
    assert department.reasons and not shown & particles, shown


def test_words_that_carry_no_topic_are_no_deciding_words(bundle):
    """A kettle that stopped heating was routed, staff were told, "because of" 还是, 一直, 换,
    买 and 不 (seen on bench/routing_mails_realistic_*.jsonl): words of every mail. They stay in
    the model, so what it decides is the same; staff are shown the words that name a topic."""
    general = {"还是", "一直", "换", "新", "买", "不", "可以", "怎么", "用", "好", "月"}
    general |= {"just", "bought", "new", "like", "not", "really", "change", "does"}
    mails = [
        (
            "电水壶不加热",
            "我上个月买的新电水壶，这两天不加热了，指示灯一直亮，换了插座还是一样不热。"
            "请问可以保修吗？怎么用都不好。",
        ),
        (
            "净水器滤芯",
            "家里的净水器滤芯灯一直闪，是不是该换了？还是可以再用一个月？在哪里买原装的？",
        ),
        (
            "New kettle not heating",
            "I just bought a new kettle and it does not really heat, I'd like to change it. "
            "The light is on but the water stays cold.",
        ),
    ]
    for subject, body in mails:
        department, urgency = predict(bundle, subject, body)
        shown = {word.casefold() for word in department.reasons + urgency.reasons}
        assert department.label == "service" and department.reasons, (subject, shown)
        assert not shown & general, (subject, shown)


def test_the_no_hurry_word_and_fragments_across_words_are_no_deciding_words(bundle):
    """Staff read "xnohurryx" (the models' one word for "no hurry", "不急") as why a mail was
    level 2, and Chinese character n-grams cut across words ("的订单", "一直没") beside the
    word they cut; "没更新" still says what is wrong."""
    mails = [
        ("物流没更新", "不急，我的订单物流三天没更新了，能帮忙查一下吗？"),
        ("订单物流一直没更新", "订单物流一直没更新，不着急，周六前到就行。"),
        ("Tracking", "No rush, but the tracking of my order has not changed since Monday."),
    ]
    shown: set[str] = set()
    for subject, body in mails:
        department, urgency = predict(bundle, subject, body)
        assert department.reasons and urgency.label == 2, (subject, urgency)
        shown |= set(department.reasons + urgency.reasons)
    assert NO_HURRY_TOKEN not in shown, shown
    assert not {"的订", "的订单", "一直没", "一直没更", "直没", "直没更"} & shown, shown
    assert "没更新" in shown
