"""The saved-reply search key folds Traditional and Simplified (support.desk.saved_replies)."""

from __future__ import annotations

from support.desk.saved_replies import search_key


def test_the_key_holds_the_text_in_both_scripts_lower_case() -> None:
    key = search_key("退貨說明 Refund")
    assert "退货说明" in key and "退貨說明" in key and "refund" in key
    assert "退貨" in search_key("退货流程")  # a Traditional query finds a Simplified reply
    assert search_key("Refund") == "refund"  # no Chinese: no repeat
