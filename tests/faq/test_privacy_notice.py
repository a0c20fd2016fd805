"""The consent text's "privacy notice" is a page a customer can read: the company's own
(PRIVACY_NOTICE_URL) or the portal's /privacy, which states what is kept from the settings."""

from __future__ import annotations

import pytest

from support.app import SETTINGS
from support.core.config import ConfigError, load_config

OWN_NOTICE = "https://lumen.example.com/legal/privacy?x=1&y=2"


def _page(client, browser_headers, url: str) -> str:
    response = client.get(url, headers=browser_headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_consent_words_and_the_footer_link_the_built_in_notice(client, browser_headers):
    english = _page(client, browser_headers, "/contact?lang=en")
    assert (
        'keeps them as its <a href="/privacy" target="_blank" rel="noopener">privacy notice</a>'
        in english
    )
    assert '· <a href="/privacy">Privacy notice</a></footer>' in english
    chinese = _page(client, browser_headers, "/contact?lang=zh")
    assert '并按其<a href="/privacy" target="_blank" rel="noopener">隐私说明</a>保存' in chinese
    assert '<a href="/privacy">隐私说明</a></footer>' in _page(client, browser_headers, "/?lang=zh")


def test_the_built_in_notice_states_the_configured_limits_and_address(app, client, browser_headers):
    app.config["RETENTION_CLOSED_TICKET_YEARS"] = {"standard": 3, "key": 7, "vip": 7}
    app.config["RETENTION_RAW_MAIL_DAYS"] = 45
    app.config["FAQ_SEARCH_RETENTION_DAYS"] = 100
    app.config["MAIL_GENERAL_ADDRESS"] = "privacy@lumen.example.com"
    english = _page(client, browser_headers, "/privacy?lang=en")
    assert "<h1" in english and "Privacy notice" in english
    assert "up to 3 years after your question is closed" in english
    assert "For key-account customers: up to 7 years." in english
    assert "as it reached us: 45 days" in english
    assert "What you search for in the help centre: 100 days" in english
    assert "deleted within 60 minutes" in english
    assert 'href="mailto:privacy@lumen.example.com"' in english
    chinese = _page(client, browser_headers, "/privacy?lang=zh")
    assert "隐私说明" in chinese and "最长保存 3 年" in chinese and "最长 7 年" in chinese
    assert "45 天" in chinese
    assert "privacy@lumen.example.com" in chinese
    traditional = _page(client, browser_headers, "/privacy?lang=zh&script=hant")
    assert "隱私說明" in traditional


def test_a_limit_of_zero_is_stated_as_kept_until_erased(app, client, browser_headers):
    app.config["RETENTION_CLOSED_TICKET_YEARS"] = {"standard": 0}
    app.config["RETENTION_RAW_MAIL_DAYS"] = 0
    english = _page(client, browser_headers, "/privacy?lang=en")
    assert "our replies: until you ask us to erase them." in english
    assert "as it reached us" not in english and "up to 0" not in english


def test_the_companys_own_notice_replaces_the_built_in_one(app, client, browser_headers):
    app.config["PRIVACY_NOTICE_URL"] = OWN_NOTICE
    escaped = OWN_NOTICE.replace("&", "&amp;")
    english = _page(client, browser_headers, "/contact?lang=en")
    assert f'<a href="{escaped}" target="_blank" rel="noopener">privacy notice</a>' in english
    assert f'<a href="{escaped}">Privacy notice</a></footer>' in english
    response = client.get("/privacy", headers=browser_headers)
    assert response.status_code == 302 and response.headers["Location"] == OWN_NOTICE


def test_a_consent_text_without_the_words_gets_the_link_after_it_escaped(
    app, client, browser_headers
):
    app.config["PRIVACY_CONSENT_TEXT"] = {"en": "I agree <b>{company}</b> keeps my question."}
    english = _page(client, browser_headers, "/contact?lang=en")
    assert (
        "I agree &lt;b&gt;Lumen Home&lt;/b&gt; keeps my question. "
        '(<a href="/privacy" target="_blank" rel="noopener">Privacy notice</a>)'
    ) in english


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "/privacy", "https://a.example/ x", "ftp://a.example/"]
)
def test_only_a_web_address_is_accepted_as_the_notice(tmp_path, url: str) -> None:
    environ = {"SUPPORT_SECRET_KEY": "k" * 32}
    config = load_config(tmp_path, declared=SETTINGS, environ=environ)
    assert config["PRIVACY_NOTICE_URL"] == ""  # the built-in page by default
    environ["SUPPORT_PRIVACY_NOTICE_URL"] = OWN_NOTICE
    assert load_config(tmp_path, declared=SETTINGS, environ=environ)["PRIVACY_NOTICE_URL"]
    environ["SUPPORT_PRIVACY_NOTICE_URL"] = url
    with pytest.raises(ConfigError, match="PRIVACY_NOTICE_URL"):
        load_config(tmp_path, declared=SETTINGS, environ=environ)


def test_mixed_limits_state_each_tiers_own(app, client, browser_headers):
    """Standard kept until erased, key accounts 5 years: VIP (unlisted, so kept like the
    standard tier) and key accounts each read their own limit, not "until erased" for all."""
    app.config["RETENTION_CLOSED_TICKET_YEARS"] = {"standard": 0, "key": 5}
    english = _page(client, browser_headers, "/privacy?lang=en")
    assert "our replies: until you ask us to erase them." in english
    assert "For key-account customers: up to 5 years." in english
    assert "For VIP customers: until they ask us to erase them." in english
    chinese = _page(client, browser_headers, "/privacy?lang=zh")
    assert "重点客户：最长 5 年。" in chinese and "VIP 客户：保存至其要求删除为止。" in chinese
    app.config["RETENTION_CLOSED_TICKET_YEARS"] = {"standard": 2, "key": 5, "vip": 7}
    english = _page(client, browser_headers, "/privacy?lang=en")
    assert "For key-account customers: up to 5 years." in english
    assert "For VIP customers: up to 7 years." in english
    app.config["RETENTION_CLOSED_TICKET_YEARS"] = {"standard": 2, "key": 2, "vip": 7}
    english = _page(client, browser_headers, "/privacy?lang=en")
    assert "key-account" not in english and "For VIP customers: up to 7 years." in english
