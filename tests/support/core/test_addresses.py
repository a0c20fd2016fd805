"""Addresses in every script: what the contact form accepts, keeps and shows."""

import pytest

from support.core.addresses import deliverable_address, readable_address


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("name@example.com", "name@example.com"),
        ("  Wang.Fang@Example.ORG ", "Wang.Fang@Example.ORG"),
        ("user@bücher.de", "user@xn--bcher-kva.de"),
        ("用户@例子.公司", "用户@xn--fsqu00a.xn--55qx5d"),
        # A Chinese input method's full-width at sign and full stop.
        ("用户＠例子。公司", "用户@xn--fsqu00a.xn--55qx5d"),
        ("王芳@example.cn", "王芳@example.cn"),
        ("user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
    ],
)
def test_addresses_mail_can_reach_are_kept_with_an_ascii_domain(typed, kept):
    assert deliverable_address(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "not-an-address",
        "a@b",
        "a b@example.com",
        "a@exa mple.com",
        "<a@example.com>",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "a@exa_mple.com",
        "a@example..com",
        "a@1.2.3.4",
        "a\u200b\n@example.com",
        "x" * 65 + "@example.com",
        "王" * 22 + "@example.cn",  # 66 octets of UTF-8: over SMTP's 64
        "a@" + "b" * 64 + ".com",
    ],
)
def test_addresses_no_mail_system_delivers_to_are_refused(typed):
    assert deliverable_address(typed) is None


def test_an_idna_domain_is_shown_in_its_own_script():
    assert readable_address("user@xn--bcher-kva.de") == "user@bücher.de"
    assert readable_address("用户@xn--fsqu00a.xn--55qx5d") == "用户@例子.公司"
    assert readable_address("name@example.com") == "name@example.com"
    # Not IDNA after all: shown as it is, never an error on a page.
    assert readable_address("a@xn--.de") == "a@xn--.de"
