"""One reading of Chinese for the whole project (support.core.text)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from mailrouter.parsing import parse_message
from support.core import text as text_module
from support.core.json_errors import echo
from support.core.text import (
    CJK_RE,
    CJK_RUN_RE,
    QUOTED_MAX_CHARS,
    SHOP_WORDS,
    as_written_in,
    clear_caches,
    detect_language,
    has_cjk,
    quoted,
    search_simplified,
    segment,
    segment_for_search,
    simplified_characters,
    to_simplified,
    to_traditional,
    typed_in_traditional,
    writes_traditional,
)

ROOT = Path(__file__).resolve().parents[3]

# Traditional and Simplified spellings of the same words.
PAIRS = [
    ("帳號被鎖定", "账号被锁定"),
    ("退貨", "退货"),
    ("發票", "发票"),
    ("帳戶餘額", "账户余额"),
    ("退款還沒到帳", "退款还没到账"),
    ("請問發票要怎麼開？", "请问发票要怎么开？"),
]


@pytest.mark.parametrize(
    ("taiwan", "mainland"),
    [
        ("保固期多久", "保修期多久"),
        ("簡訊收不到", "短信收不到"),
        ("印表機連結設定", "打印机链接设置"),
    ],
)
def test_taiwans_words_read_as_the_mainlands(taiwan: str, mainland: str) -> None:
    assert to_simplified(taiwan) == mainland
    assert to_simplified(mainland) == mainland


@pytest.mark.parametrize(
    ("hong_kong", "mainland"),
    [
        ("部焗爐仲喺保養期內", "部焗炉仲喺保修期内"),
        ("請問保養期有多長？", "请问保修期有多长？"),
        ("呢部雪櫃冇保養㗎？", "呢部雪柜冇保修㗎？"),
        ("買嘅時候話有兩年保養", "买嘅时候话有两年保修"),
        ("保養卡唔見咗", "保修卡唔见咗"),
        ("已經過咗保養", "已经过咗保修"),
        ("想買延長保養", "想买延长保修"),
        ("保養仲有一年", "保修仲有一年"),
    ],
)
def test_hong_kongs_warranty_reads_as_the_mainlands(hong_kong: str, mainland: str) -> None:
    # Hong Kong's 保養 is a warranty where the words around it say so: 保修 as the mainland
    # writes it (and 保固 as Taiwan does), so the warranty article and rows meet it.
    assert to_simplified(hong_kong) == mainland
    assert len(to_simplified(hong_kong)) == len(hong_kong)


@pytest.mark.parametrize(
    ("cantonese", "mandarin"),
    [
        ("收唔到貨", "收不到货"),
        ("物流話簽收咗但係我冇收到", "物流话签收了但是我没收到"),
        ("點樣退款", "怎样退款"),
        ("優惠券點用", "优惠券怎用"),
        ("退款幾耐先到賬", "退款多久先到账"),
        ("仲未收到退款", "还没收到退款"),
        ("我嘅貨幾時到", "我的货何时到"),
        ("我落咗單", "我下了单"),
        ("佢哋俾錯咗貨", "他们给错了货"),
        ("搵唔到包裹喺邊度", "找不到包裹在哪里"),
        ("呢個係乜嘢", "这个是什么"),
        ("部機仲喺保養期內", "部机还在保修期内"),
        ("冇保養", "没保修"),
        ("唔該幫幫手", "谢谢帮帮手"),
        ("咁點算好", "这点算好"),
    ],
)
def test_written_cantonese_reads_as_mandarin_for_search(cantonese: str, mandarin: str) -> None:
    # Hong Kong customers write colloquial Cantonese; the FAQ is Mandarin: 收唔到貨 must meet
    # the article 收不到货 meets, with offsets kept (highlighting) and to_simplified untouched.
    assert search_simplified(cantonese) == mandarin
    assert len(search_simplified(cantonese)) == len(cantonese)
    assert search_simplified(mandarin) == mandarin


@pytest.mark.parametrize(
    "mandarin",
    [
        "我们的关系很好",
        "沒關係",
        "系统出错",
        "聯繫客服",
        "门店地點在哪",
        "重點是價格",
        "一點點",
        "點擊鏈接",
        "未來三天",
        "未必有货",
        "申請仲裁",
        "房屋仲介",
        "落地價",
        "唔，好的",
    ],
)
def test_mandarin_words_sharing_cantonese_characters_stay(mandarin: str) -> None:
    # 係 in 關係, 點 in 地點/重點, 未 in 未來, 仲 in 仲裁 mean what they mean in Mandarin.
    assert search_simplified(mandarin) == to_simplified(mandarin)


def test_to_simplified_keeps_cantonese_words() -> None:
    # The classifier, tags and shown text read to_simplified: only search reads Cantonese.
    assert to_simplified("收唔到貨") == "收唔到货"


@pytest.mark.parametrize(
    "care",
    [
        "保养方法",
        "皮具保養說明",
        "日常清潔保養",
        "咖啡機要定期保養",
        "一年保养一次",
        "建議每年保養兩次",
        "保養期間請拔掉插頭",
        "延長保養周期",
        "汽車保養",
        "想問下保養一下要幾錢",
    ],
)
def test_care_and_servicing_stay_care(care: str) -> None:
    # 保养 is also care and servicing, in Hong Kong as on the mainland: no warranty there.
    read = to_simplified(care)
    assert "保养" in read and "保修" not in read


@pytest.mark.parametrize(("traditional", "simplified"), PAIRS)
def test_traditional_becomes_the_simplified_spelling(traditional: str, simplified: str) -> None:
    assert to_simplified(traditional) == simplified
    assert to_simplified(simplified) == simplified


@pytest.mark.parametrize(("traditional", "simplified"), PAIRS)
def test_the_cheap_character_table_agrees_on_everyday_words(
    traditional: str, simplified: str
) -> None:
    # The spam filter's reading: character by character, no phrases, same length.
    assert simplified_characters(traditional) == simplified
    assert simplified_characters(simplified) == simplified
    assert simplified_characters("Refund 123, 한국어 かな") == "Refund 123, 한국어 かな"


def test_accounts_are_written_with_zhang_but_tents_keep_theirs() -> None:
    assert to_simplified("帐号") == "账号"
    assert to_simplified("未到帳") == "未到账"
    assert to_simplified("帳篷和蚊帳") == "帐篷和蚊帐"


def test_conversion_keeps_every_character_in_place() -> None:
    for text in ["沈默是金", "乾隆皇帝的頭髮", "我的帳號 order #123 還沒到", "x" * 100 + "後"]:
        assert len(to_simplified(text)) == len(text)


def test_text_without_traditional_characters_is_returned_as_it_is() -> None:
    text = "Refund for order 123, 退款还没到账 " * 10  # long: the mail-sized cache
    assert to_simplified(text) == text
    clear_caches()
    assert to_simplified("English only") == "English only"


def test_to_traditional_answers_in_the_writers_script() -> None:
    assert to_traditional("发票") == "發票"


@pytest.mark.parametrize(
    ("simplified", "taiwan"),
    [
        # Taiwan and Hong Kong quote with corner brackets where the mainland writes “”.
        ("点击“这解决了我的问题”链接", "點擊「這解決了我的問題」連結"),
        ("以“- ”开头的列表", "以「- 」開頭的列表"),
        ("“refund”的答案", "「refund」的答案"),
        # English quoted in English stays as it is (an English article on a Chinese page).
        ("Click “Forgot password” to start.", "Click “Forgot password” to start."),
    ],
)
def test_to_traditional_quotes_with_corner_brackets(simplified: str, taiwan: str) -> None:
    assert to_traditional(simplified) == taiwan


@pytest.mark.parametrize(
    ("simplified", "taiwan"),
    [
        # OpenCC's s2tw alone: 請直接回複本郵件 (回 + 复本, a copy) and 請回復 (to restore).
        ("请直接回复本邮件，并保留主题", "請直接回覆本郵件，並保留主題"),
        ("请回复", "請回覆"),
        ("来回复制", "來回複製"),  # 複製, to copy: not a reply
        ("恢复出厂设置", "恢復出廠設定"),
        # s2tw: 賬號, 到賬; Taiwan writes accounts with 帳.
        ("账号被锁定", "帳號被鎖定"),
        ("退款多久到账？", "退款多久到帳？"),
        # Taiwan's words: s2tw alone writes 保修, 登錄, 鏈接, 短信.
        ("保修期多久", "保固期多久"),
        ("登录后点击链接", "登入後點擊連結"),
        ("验证短信收不到", "驗證簡訊收不到"),
        ("会员积分", "會員點數"),
        # s2tw keeps the mainland's 信息 and 搜索; Taiwan reads 資訊 and 搜尋 (the 繁體 pages'
        # search button and the auto-reply's 補充信息).
        ("物流信息", "物流資訊"),
        ("搜索常见问题", "搜尋常見問題"),
        # A form's field: the mainland's 字段 is Taiwan's 欄位 (the contact form's errors);
        # 文字段落 is 文字 + 段落.
        ("请更正标出的字段：", "請更正標出的欄位："),
        ("文字段落", "文字段落"),
        # s2tw reads 并发 as one word (併發, concurrency): here 并 is "and", 发 "send/issue".
        ("自动开具并发送到您的邮箱", "自動開具並發送到您的信箱"),
        ("审核后并发放优惠券", "審核後並發放優惠券"),
        ("合并发票", "合併發票"),  # 合併, to merge: 併 stays
        ("并发症", "併發症"),  # a complication: one word
        # The new-user pass: 不支持 HTML, 支持哪些付款方式 (a thing supported: 支援), the
        # template editor's 模板 and 纯文本, a password's 字符, the outbox's 队列.
        ("不支持 HTML。", "不支援 HTML。"),
        ("支持哪些付款方式？", "支援哪些付款方式？"),
        ("自动回复模板", "自動回覆範本"),
        ("纯文本和 HTML", "純文字和 HTML"),
        ("密码（至少 10 个字符）", "密碼（至少 10 個字元）"),
        ("接收队列为空。", "接收佇列為空。"),
        ("实时看板", "即時看板"),
        ("已超时", "已逾時"),
        ("API 令牌", "API 權杖"),
        ("内置样本", "內建樣本"),
        ("导航路径", "導覽路徑"),
        ("重置", "重設"),
        ("附加文件", "附加檔案"),
    ],
)
def test_to_traditional_spells_as_taiwan_does(simplified: str, taiwan: str) -> None:
    assert to_traditional(simplified) == taiwan
    assert to_simplified(taiwan) == simplified  # search reads it as the same words


@pytest.mark.parametrize(
    ("simplified", "taiwan"),
    [
        # 保存 is 儲存 where something is saved ...
        ("保存", "儲存"),
        ("模板已保存，新的自动回复将使用它。", "範本已儲存，新的自動回覆將使用它。"),
        ("此附件未保存。", "此附件未儲存。"),
        ("暂时无法保存您的问题。", "暫時無法儲存您的問題。"),
        ("员工的更正会保存为样本", "員工的更正會儲存為樣本"),
        ("保存修改", "儲存修改"),
        ("已保存为草稿", "已儲存為草稿"),
        # ... not where it is kept: shelf life, keeping a receipt, cold storage.
        ("保存期限为18个月", "保存期限為18個月"),
        ("请妥善保存发票", "請妥善保存發票"),
        ("冷藏保存", "冷藏保存"),
        ("请保存好订单号", "請保存好訂單號"),
        # 支持 is 支援 for a feature, not a person's support.
        ("感谢您的支持！", "感謝您的支持！"),
        ("谢谢支持", "謝謝支持"),
        ("支持者", "支持者"),
        # Other lengths: shown, never read back (to_simplified keeps offsets).
        ("%(num)d 字节", "%(num)d 位元組"),
        ("请刷新页面后重试。", "請重新整理頁面後重試。"),
        ("您已退出登录。", "您已登出。"),
        ("新建用户", "新增使用者"),
        ("新建", "新建"),  # a ticket's status, not "create"
        ("未结（新建、处理中、等待）", "未結（新建、處理中、等待）"),
        ("渠道", "管道"),
        ("重新建立索引", "重新建立索引"),
        ("食品添加剂", "食品添加劑"),
        ("字符串", "字串"),
        ("用户名", "使用者名稱"),
        ("用手机号登录", "用手機號碼登入"),
        ("手机号码", "手機號碼"),
        # The mainland's own words for other things, shown only (开票资料 must stay 资料 for a
        # reader of Simplified).
        ("暂无数据", "暫無資料"),
        ("请先创建分类。", "請先建立分類。"),
        ("添加备注", "新增備註"),
        ("此工单已处于打开状态。", "此工單已處於開啟狀態。"),
        ("批量操作", "批次操作"),
        ("大批量购买", "大批量購買"),
        ("导出客户数据", "匯出客戶資料"),
        ("感谢您的反馈", "感謝您的回饋"),
        ("可用变量：", "可用變數："),
        ("文件夹", "資料夾"),
        # To contact is 聯絡 in Taiwan (the portal's 联系我们 read 聯繫我們); a link is not.
        ("联系我们", "聯絡我們"),
        ("感谢您联系Lumen Home。", "感謝您聯絡Lumen Home。"),
        ("请联系客服并提供姓名", "請聯絡客服並提供姓名"),
        ("两者密切联系", "兩者密切聯繫"),
        ("把这些问题联系起来", "把這些問題聯繫起來"),
        # The twenty-sixth new user's pass over the 繁體 pages: snoozed "3 天后" (OpenCC's
        # goddess 天后), "2 条消息或备注", 视图, 响应目标, 通过邮件, 当前密码, 文本框, 哈希值,
        # IP 地址, 邮件程序, the portal's 我的订单到哪儿了, 无权访问此页面.
        ("3 天后", "3 天後"),
        ("疑似垃圾邮件 30 天后删除。", "疑似垃圾郵件 30 天後刪除。"),
        ("天后宫", "天后宮"),  # the goddess's temple
        ("2 条消息或备注将移到 SUP-00013", "2 條訊息或備註將移到 SUP-00013"),
        ("客户发来了新消息", "客戶發來了新訊息"),
        ("好消息", "好消息"),  # news
        ("最新消息", "最新消息"),
        ("保存视图", "儲存檢視"),
        ("响应目标", "回應目標"),
        ("已发送提醒：响应时限将至", "已發送提醒：回應時限將至"),
        ("积极响应号召", "積極響應號召"),
        ("我们会通过邮件回复", "我們會透過郵件回覆"),
        ("邮件通过中继服务器 %(host)s 发出。", "郵件透過中繼伺服器 %(host)s 發出。"),
        ("审核通过", "審核通過"),
        ("当前密码", "目前密碼"),
        ("离开文本框（文字保留）", "離開文字方塊（文字保留）"),
        ("加密哈希值", "加密雜湊值"),
        ("您的 IP 地址", "您的 IP 位址"),
        ("收货地址", "收貨地址"),
        ("客户的邮件程序", "客戶的郵件程式"),
        ("例如：我的订单到哪儿了？", "例如：我的訂單到哪裡了？"),
        ("您的账号无权访问此页面。", "您的帳號無權存取此頁面。"),
        ("访问官网", "訪問官網"),
    ],
)
def test_to_traditional_shows_taiwans_words_where_they_mean_the_same(
    simplified: str, taiwan: str
) -> None:
    assert to_traditional(simplified) == taiwan


def test_words_shown_only_are_not_read_back() -> None:
    # A Taiwan admin's 開票資料 reads 开票资料 to a reader of Simplified, not 开票数据.
    assert to_simplified("開票資料") == "开票资料"
    assert to_simplified("回饋老客戶") == "回馈老客户"
    assert not set(text_module._TAIWAN_WORDS) & set(text_module._TAIWAN_SHOWN_WORDS)


def test_a_customers_words_stay_as_written_in_our_converted_text() -> None:
    from support.core.text import convert_keeping

    own = "照片已保存吗"  # to_traditional alone: 照片已儲存嗎
    converted = convert_keeping(f"您的留言：“{own}”，已保存。", to_traditional, [own])
    assert converted == f"您的留言：「{own}」，已儲存。"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("發票", True),
        ("帳號登入", True),
        ("付款後", True),
        ("发票", False),
        ("著名品牌", False),  # both scripts write 著名
        ("线上客服", False),  # the mainland's word too, read as 在线 only for search
        ("保固多久", False),  # Taiwan's word, but no Traditional character
        ("refund", False),
        ("", False),
    ],
)
def test_a_query_typed_in_traditional(query: str, expected: bool) -> None:
    assert typed_in_traditional(query) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("您好，我上週五訂的熱水壺到現在還沒收到，請問要怎麼查？", True),
        ("您好，我上周五订的热水壶到现在还没收到，请问要怎么查？", False),
        ("陳先生您好，我的订单什么时候发货？", False),  # one Traditional name in Simplified
        ("我的帐号登录不了，请帮忙看看", False),  # 帐 -> 账 is not Traditional
        ("My order 12345 has not arrived", False),
        ("", False),
    ],
)
def test_writes_traditional_tells_the_writers_script(text: str, expected: bool) -> None:
    assert writes_traditional(text) is expected


def test_one_segmenter_with_the_shop_dictionary_for_every_mode() -> None:
    for word in ("七天无理由", "以旧换新", "到货通知"):
        assert word in SHOP_WORDS
        assert word in segment(f"{word}怎么办")
        assert word in [w for w, _, _ in segment_for_search(f"{word}怎么办")]


def test_search_mode_offsets_point_into_the_run() -> None:
    run = "七天无理由退货怎么申请"
    for word, start, end in segment_for_search(run):
        assert run[start:end] == word


@pytest.mark.parametrize("char", ["中", "㐀", "豈", "\U00020000", "\U0002f800", "あ", "カ"])
def test_one_cjk_range(char: str) -> None:
    assert CJK_RE.fullmatch(char)
    assert has_cjk(f"abc{char}")


@pytest.mark.parametrize("char", ["a", "é", "１", "，", "。", " ", "한"])
def test_not_cjk(char: str) -> None:
    assert not CJK_RE.search(char)
    assert not has_cjk(char)
    assert not has_cjk(None)


def test_runs_are_maximal() -> None:
    assert [m.group() for m in CJK_RUN_RE.finditer("我的order什么时候到?")] == [
        "我的",
        "什么时候到",
    ]


MAIL_LANGUAGES = [
    ("", "en"),
    ("Hello, where is my order?", "en"),
    ("你好，我的订单什么时候到？", "zh"),
    ("Hi, my colleague 王小明 placed the order for the whole office last week, thanks.", "en"),
    ("Order 12345 退款", "zh"),
    ("我的order什么时候到", "zh"),
    ("こんにちは、注文はいつ届きますか", "zh"),
    ("帳號被鎖定了，請幫忙 unlock my account please as soon as possible", "zh"),
    ("123 456 !!!", "en"),
    ("中", "zh"),
]


@pytest.mark.parametrize(("text", "language"), MAIL_LANGUAGES)
def test_a_mail_is_chinese_when_cjk_is_a_real_share_of_its_letters(
    text: str, language: str
) -> None:
    assert detect_language(text) == language


def test_the_mail_parser_uses_this_rule() -> None:
    raw = "Subject: order\r\n\r\nHi, my colleague 王小明 placed the order.\r\n".encode()
    assert parse_message(raw).language == "en"
    raw = "Subject: 订单\r\n\r\n你好，我的订单什么时候到？\r\n".encode()
    assert parse_message(raw).language == "zh"


def test_short_queries_with_any_chinese_are_chinese() -> None:
    assert detect_language("iPhone 保修", min_cjk_share=0) == "zh"
    assert detect_language("please help with my order from 王小明 today", min_cjk_share=0) == "zh"
    assert detect_language("please help with my order from 王小明 today") == "en"
    assert detect_language("refund", min_cjk_share=0) == "en"
    assert detect_language(None, min_cjk_share=0) == "en"


_TEXT_LIBRARIES = re.compile(r"^\s*(?:import (?:jieba|opencc)|from (?:jieba|opencc)\b)", re.M)


def test_only_support_core_text_reads_chinese_with_opencc_or_jieba() -> None:
    """One normaliser, one segmenter: no other module may load its own. (mailrouter.parsing
    loads neither; it only has its own detect_language until the lead switches it.)"""
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("support", "faq", "mailrouter", "bench", "scripts")
        for path in (ROOT / folder).rglob("*.py")
        if _TEXT_LIBRARIES.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == ["support/core/text.py"]


def test_every_word_shown_in_taiwans_form_is_searched_as_the_word_it_stands_for() -> None:
    # A reader types back what a page shows: 保修 shown as 保固 must search as 保修 again.
    for shown_from, taiwan in text_module._TAIWAN_WORDS.items():
        simplified = text_module._t2s()[0].convert(shown_from)
        assert to_simplified(to_traditional(simplified)) == to_simplified(simplified), taiwan


def test_words_read_from_a_text_are_shown_as_it_writes_them() -> None:
    written = "請問保固多久？帳號登入不了，伺服器當機。kettle"
    assert as_written_in("保修", written) == "保固"  # Taiwan's word, as it was read
    assert as_written_in("账号 登录", written) == "帳號 登入"
    assert as_written_in("calm: 服务器", written) == "calm: 伺服器"
    assert as_written_in("发票", written) == "发票"  # not in the text: as it is
    assert as_written_in("kettle", written) == "kettle"
    assert as_written_in("当机", "服务器当机了") == "当机"  # a Simplified writer: the same


def test_a_value_quoted_back_is_cut_one_way_on_pages_and_in_the_api() -> None:
    longest = "x" * QUOTED_MAX_CHARS
    assert quoted("ann@example.com") == "ann@example.com" and quoted(longest) == longest
    assert quoted(longest + "y") == "x" * (QUOTED_MAX_CHARS - 1) + "…"
    assert len(quoted("z" * 50_000)) == QUOTED_MAX_CHARS
    assert quoted(12) == "12" and quoted(["a", "b"], limit=5) == "['a'…"
    for value in ("short", longest + "y", {"k": "v" * 500}):
        assert echo(value) == quoted(value)


def test_jieba_keeps_its_dictionary_cache_in_a_folder_of_this_users_own(tmp_path, monkeypatch):
    """jieba's default cache is /tmp/jieba.cache for every user: once root had made it, every
    command run as the units' user logged 'Dump cache file failed' with a traceback (found
    following docs/deploy.md), and any local user could plant one."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "jieba.cache").write_bytes(b"planted by someone else")
    tokenizer = text_module.segmenter.__wrapped__()
    folder = Path(tokenizer.tmp_dir)
    assert folder.parent == tmp_path
    assert folder.stat().st_uid == os.getuid()
    assert folder.stat().st_mode & 0o777 == 0o700
    assert tokenizer.lcut("我要退货") == ["我要", "退货"]
    assert (folder / "jieba.cache").exists()
