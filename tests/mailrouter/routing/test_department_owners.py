# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""Thirty-fifth session: who owns a mail the model sent to the wrong department on sets 1-18
(docs/urgency-levels.md, "Departments the training rows settle"): a refund's or a payment's
money is finance's, a lawyer's claim over a product bought is customer service's; a
suggestion about an owned product is customer service's, about buying (the shop, payment
methods, refill plans) sales', from a member of staff HR's; a creator's or a reviewer's thanks
for a sample is PR's; a question before buying is sales', a payment on an order placed
finance's; a creditor's lawyer is finance's. Each with its near twin in the other department.
Mails written for these tests; none is in a realistic set or in the bootstrap CSV."""

from __future__ import annotations

import pytest

from mailrouter.routing.labels import load_bootstrap_examples

# fmt: off
OWNERS = [
    # a refund's money: finance, first asked and calm (2) or short and pressed (4)
    ("Refund for my return", "Hello, the returned coffee machine was signed for by your warehouse on Thursday. Could you tell me when the refund will reach my Visa card? Order LH-61207.", "finance"),
    ("退款还没到", "你好，退回去的加湿器你们周一已经签收了，退款会退回原来的花呗吗？大概几天到账？订单号LH20261129-4410。", "finance"),
    ("退款未到帳", "您好，取消的訂單顯示已退款，但我的信用卡帳單上還沒看到，請問大概要幾天？", "finance"),
    ("Refund is £60 short", "I returned the air fryer and got £89 back, but I paid £149 and used no voucher. Please refund the remaining £60 as soon as possible.", "finance"),
    ("退款少了两百", "你好，退货的净水器付了1,599元，只退回了1,399元，我没有用优惠券，请尽快把差额退给我。", "finance"),
    # its twins: the return itself, and a lawyer's claim over a faulty product (refund
    # included), are customer service's
    ("Sending back the blender", "Hi, the blender I bought on Sunday is not what I expected. It's unused and boxed. Where do I send it and do I need a returns form?", "service"),
    ("电暖器想退", "你好，前天收到的电暖器不想要了，包装没拆，请问退货要寄到哪里，运费怎么算？", "service"),
    ("Claim over a faulty dishwasher", "Dear Sirs, we act for Mrs Okafor, whose dishwasher flooded her kitchen twice. Unless the purchase price and the repair costs are refunded within 14 days, we will issue proceedings in the county court.", "service"),
    # a payment made on an order placed: finance; the same question before buying: sales
    ("Paid, but shown unpaid", "I paid order 90412 by bank transfer on Monday and the money has left my account, but your site still says awaiting payment and threatens to cancel. Please check.", "finance"),
    ("已付款显示未付款", "我昨天已经用网银付了订单LH20261206-5521的货款，银行显示扣款成功，但订单还是待付款，说要自动取消，请帮忙核实。", "finance"),
    ("Can I pay by bank transfer?", "I'd like to buy the P300 purifier but I don't use credit cards. Can I pay by bank transfer before you ship, and how long does it take?", "sales"),
    ("可以货到付款吗", "想买一台你们的电暖器，还没下单，请问支持货到付款吗？可以开发票吗？", "sales"),
    # suggestions: an owned product (service), buying (sales), staff (hr); a creator's thanks (pr)
    ("Idea for the toaster", "We love our toaster. One idea for the next model: a crumb tray that slides out from the front, ours is hard to reach against the wall.", "service"),
    ("对扫地机的建议", "扫地机用了一年很满意，建议App里能设置禁区，不让它进宠物的饭盆那块。只是个建议。", "service"),
    ("Idea for your website", "Your shop would be easier to use if I could save a wish list and get an email when something I saved goes on sale.", "sales"),
    ("建议网店加个功能", "建议你们网店加一个到货提醒，缺货的商品补货了能发短信通知，我好几次想买都没货。", "sales"),
    ("Staff car park idea", "Hi HR, could we have two charging points for electric cars in the staff car park? A few of us drive EVs now. Thanks, Grace (Customer Service)", "hr"),
    ("员工的小建议", "人事部你好，我是售后部的小李，建议公司给仓库同事配一些护腰带，搬货的时候能用上。谢谢！", "hr"),
    ("Sample arrived, thank you!", "Hi Lumen team, the hand blender you sent for my channel arrived this morning. Thanks a lot! The review goes live in two weeks and I'll share the link. - Mo, Quick Bites", "pr"),
    ("多謝寄嚟嘅樣機", "你好！收到你哋寄嚟嘅電飯煲樣機，好靚，多謝晒！我下個月會出開箱片，到時send條link俾你哋。", "pr"),
    # a creditor's lawyer over money we owe: finance
    ("律师函：拖欠装修款", "流明家居财务部：本所受某装饰工程公司委托，贵司门店装修尾款共计12万元逾期未付，请于收函之日起五日内付清，否则将依法提起诉讼。", "finance"),
]
# fmt: on


@pytest.mark.parametrize(("subject", "body", "department"), OWNERS)
def test_the_owner_of_the_mail_gets_it(decide_mail, subject, body, department) -> None:
    decision = decide_mail(subject, body)
    assert decision.department_code == department, decision.classification["department"]


def test_these_mails_are_not_training_rows() -> None:
    bodies = {example.body for example in load_bootstrap_examples()}
    assert not [body for _, body, _ in OWNERS if body in bodies]
