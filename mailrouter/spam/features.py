"""The words and traits the learned filter reads from one mail.

Words of the subject and body in any script: Latin, Greek and Cyrillic words (with their
accents, so "günstig" is one word), and Chinese, Japanese and Korean as overlapping pairs of
characters, so no dictionary is needed and a mail is judged by what it says, not by its
language (``model.py`` also counts each script's words against the mails of that script).
Traditional characters are read as their Simplified forms, so 貸款 and 贷款 are one word and
the few Traditional mails learn from the many Simplified ones. Links are read from the text
and from the HTML's hrefs (by site). Traits are pseudo-words that mean the same in every
language: an advertisement mark ("[광고]", "【广告】", "(AD)", "未承諾広告"), an unsubscribe
line in mail that is not list mail, the density of money and percent figures, contact
numbers (phone, QQ, WeChat), link text naming another site than its href, many links or
images, little text beside HTML, obfuscated words ("v1agra", "F R E E"), links through a URL
shortener, stock tips, a forward ("b:forwards": a mail forwarded or quoted below the
sender's own words, which are then all that is read, so a customer asking "is this from
you?" about a phishing mail is not judged by it), and envelope traits (no Message-ID, HTML
only, Reply-To elsewhere or at a free-mail provider, a sender's name that gives another
address, a "Re:" subject that answers no mail: no In-Reply-To or References, a shouting or
decorated subject). The scripts a mail uses are marks ("l:han"...) that the fit learns and
the model drops, so that no language is a sign of spam (``model.LANGUAGE_PRIOR_KEPT``).
Header *words* are left out on purpose: the shipped corpus's relays and list headers say where it
was collected, not whether a mail is spam. At most ``MAX_TEXT_CHARS`` of text (and of HTML)
and ``MAX_TOKENS`` tokens are read. ``cold_pitch`` reads one more thing that is not a token:
an English cold pitch, which ``verdict`` scores with fixed points beside the learned weights.
Links in mail from a free-mail address are counted apart ("b:sites-free-1"): customers paste
links, and spam from free mail seldom has one. Links in a short recognised signature (a
person's LinkedIn, blog or shop) are not the mail's: one trait, "b:signature-links"
(``signature_start``); its chat id and phone under a short question are one trait,
"b:signature-contact" (``signature_contact``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mailrouter.parsing import (
    FORWARD_INTRO_NAMES,
    FORWARD_SEPARATOR_NAMES,
    REPLY_SEPARATOR_NAMES,
    ParsedMail,
    is_contact_card,
)
from mailrouter.spam.header_block import Header
from mailrouter.spam.raw_traits import raw_traits
from support.core.text import CJK_CHARS, simplified_characters

MAX_TEXT_CHARS = 20_000
MAX_TOKENS = 1500
#: Chinese, Japanese and Korean: read as overlapping character pairs.
HANGUL_CHARS = "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
PAIR_CHARS = CJK_CHARS + HANGUL_CHARS
_LETTER = "a-z\u00df-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff"
_WORD_RE = re.compile(f"[{_LETTER}][{_LETTER}0-9'$-]{{1,24}}|\\$\\d[\\d,.]*|\\d{{1,3}}%")
_PAIR_RUN_RE = re.compile(f"[{PAIR_CHARS}]+")
_URL_RE = re.compile(r"https?://([a-z0-9.\-]{1,200})", re.IGNORECASE)
_LETTERS_RE = re.compile(r"[A-Za-z]")
_ANCHOR_RE = re.compile(
    r"<a\s[^<>]{0,500}?href=\"https?://([a-z0-9.\-]{1,200})[^<>]{0,500}>(.{0,300}?)</a>",
    re.I | re.S,
)
_IMG_RE = re.compile(r"<img\b", re.I)
#: An image 0 or 1 pixel wide and high: a tracking pixel (the sanitizer keeps width/height).
_PIXEL_RE = re.compile(
    r"<img\b(?=[^<>]{0,400}?\bwidth=\"?[01](?:px)?[\"\s/>])"
    r"(?=[^<>]{0,400}?\bheight=\"?[01](?:px)?[\"\s/>])",
    re.I,
)
#: A link to a numeric address, or with a name before "@" that hides where it leads
#: ("http://www.bank.com@203.0.113.9/").
_RAW_HOST_LINK_RE = re.compile(
    r"https?://(?:[^\s/@<>\"'?#&]{1,100}@|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b)"
)
#: Private and loopback addresses: a customer reporting a problem with their own network
#: writes them; a spammer's link is to a public one.
_PRIVATE_IP_RE = re.compile(r"https?://(?:10|127|192\.168|172\.(?:1[6-9]|2\d|3[01])|169\.254)\.")
#: Top-level domains that cost next to nothing and that most of the links in phishing and
#: spam of recent years use (Spamhaus's and Interisle's lists of the most abused); country
#: domains and .info/.biz/.cc, which ordinary companies use, are left out.
CHEAP_TLDS = frozenset(
    (
        "xyz", "top", "icu", "buzz", "cyou", "sbs", "cfd", "rest", "bar", "monster", "quest",
        "click", "link", "loan", "win", "bid", "gq", "tk", "ml", "cf", "ga", "work", "vip",
        "club", "fun", "space", "pw", "su", "kim", "men", "date", "racing", "review", "stream",
        "download", "accountant", "cricket", "party", "science", "trade", "webcam", "zip", "mov",
    )
)  # fmt: skip
_TAG_RE = re.compile(r"<[^<>]{0,2000}>")
#: A domain as a link's text or a sender's name shows it, whole: "fp.huaxin-elec.com", not
#: "fp.huaxin" (a host with a hyphen after its first dot once read as another site than the
#: href it names, so webmail's linked URLs looked like disguised links).
_DOMAIN_IN_TEXT_RE = re.compile(
    r"(?:https?://)?(?:www\.)?([a-z0-9\-]{2,63}(?:\.[a-z0-9\-]{1,63}){0,6}\.[a-z]{2,20})\b", re.I
)
# The trait patterns below run on lower-cased text (case-insensitive matching is slow).
#: Marks that say "this is an advertisement" (Korean and Japanese law ask for some of them).
_AD_MARK_RE = re.compile(
    r"[\[(【〔［（<]\s*(?:광고|廣告|广告|ad|adv|pr|werbung|anzeige|publicité|pub|"
    r"publicidad|reklama|реклама)\s*[\])】〕］）>]|未承諾広告|광고\s*[\])]|\badv\s*:"
)
_OPT_OUT_RE = re.compile(
    r"unsubscri|opt[- ]?out|to be removed|remove me|removal|no longer wish|"
    r"退订|退訂|取消订阅|取消訂閱|退信|不想再收到|拒收|수신\s*거부|수신을\s*원하지|"
    r"配信停止|配信解除|登録解除|abmelden|abbestellen|austragen|désinscri|desinscri|"
    r"darse de baja|cancelar suscripci|disiscriv|cancella"
)
_MONEY_RE = re.compile(
    r"[$€£¥￥₩]\s?\d|\d\s?(?:[€£¥￥₩]|%|％|元|万|萬|億|亿|円|원|만원|usd|eur|rmb|dollars?|euro)"
    r"|(?:rmb|usd|eur)\s?\d"
)
#: Chinese mobile numbers and numbers with an area code, as a spammer's "call us" gives them.
#: (Not after a digit: the look-behind follows the first digit, "1(?<!\d1)" for "(?<!\d)1", so
#: that the regex engine skips ahead to a 0 or 1 instead of trying every position.)
_PHONE_RE = re.compile(
    r"(?:1(?<!\d1)[3-9]\d[- ]?\d{4}[- ]?\d{4}|0(?<!\d0)\d{1,3}-\d{3,4}-\d{4})(?!\d)"
)
#: A chat account given to be added ("QQ: 8812345", "微信号 abc"); not the mail service a
#: customer names ("回复到我的QQ邮箱", "QQ Mail"), nor QQ Mail's own vacation reply.
_CHAT_ID_RE = re.compile(
    r"(?:qq(?!\s*(?:邮箱|郵箱|邮件|郵件|mail))|微信|微訊|wechat|whatsapp|telegram|line\s?id|"
    r"카카오톡|카톡)\s*[:：号號]?\s*\w"
)
#: A business hotline (400/800 numbers), as adverts give them and a customer writing rarely does.
_HOTLINE_RE = re.compile(r"[48](?<!\d[48])00[- ]?\d{3}[- ]?\d{4}(?!\d)")
#: A reference to one order, contract, shipment or invoice ("订单号 88240193", "PO 77-30125",
#: "invoice #INV-20931"): what a customer writing about a real transaction names.
_REFERENCE_RE = re.compile(
    r"(?:订单|訂單|单号|單號|合同号|合同號|编号|編號|发票号|(?<![a-z])(?:order|invoice|po|"
    r"ticket|booking|ref|tracking|case))[^\n\d]{0,12}?[a-z]{0,5}-?\d{4,}"
)
#: A stranger's apology for writing at all, as cold adverts end ("如有打扰，敬请谅解",
#: "不需要请删除", "此信息长期有效"); a customer or colleague has a reason to write.
_APOLOGY_RE = re.compile(
    r"如有打扰|打扰了|打擾了|敬请谅解|敬請見諒|冒昧打扰|冒昧打擾|不需要请|不需要請|如不需要|"
    r"不想收到|长期有效|長期有效|请妥善保存|sorry to bother|sorry for the intrusion|"
    r"if this is not of interest|if you don't want to hear from me|if you are not interested"
)
#: Promises that no one makes about a real order: guaranteed gains, passing, results or refunds.
_PROMISE_RE = re.compile(
    r"稳赚|穩賺|保证通过|包过|包過|包通过|不成功不收费|不上首页不收费|无效退款|無效退費|无效全额退款|"
    r"零风险|零風險|先到先得|名额有限|名額有限|限时特惠|日赚|日賺|月入过万|月入|翻倍|"
    r"guaranteed|risk[- ]free|act now|limited spots|100% free|no experience"
)
#: A stock tip: a "strong buy", shares that will "soar" or hit the limit, a price target that a
#: stock "sees" (目标价看到). A bare "target price" (目标价) is left out: a buyer's quote request
#: names the price he aims at ("our target price is $165 per unit", "目标价每台 780 元"), and a
#: quote request for 120 dehumidifiers was held for it; the written stock tips that name a
#: price target all say "shares", "symbol", "strong buy" or 涨停 too. "Stock is about to" is
#: left out for the same reason ("our stock is about to run out"): shares are.
_STOCK_TIP_RE = re.compile(
    r"strong buy|short[- ]term target|shares? (?:is|are) (?:set|poised|about) to|"
    r"next big (?:winner|mover)|hot (?:stock|pick)|investor alert|"
    r"目标价看|目標價看|飙股|飆股|牛股|黑马股|黑馬股|涨停|漲停|明牌|荐股|薦股|内幕消息|內線消息|"
    r"主力资金|主力資金|股票群|投资群|投資群|带单|帶單"
)
#: A ticker as stock promotions give it ("OTC: ABCD", "Symbol: ABCD", "股票代码 600123").
_TICKER_RE = re.compile(
    r"\b(?:otc|otcbb|otcqb|otcqx|pink sheets|symbol|ticker)\s*[:：]\s*[a-z]{2,5}\b|"
    r"(?:股票代码|股票代號|代码|代號)\s*[:：]?\s*\d{4,6}"
)
#: A stranger's cold pitch in English, as SEO, design, lead-gen and influencer outreach and
#: the first lines of CEO fraud write it: an offer to send something over ("mind if I send it
#: over?", "can I show you"), a free audit or mockup, "no strings attached", links for sale
#: ("do-follow", "guest post"), "are you the right person", "I hope this email finds you
#: well", "are you at your desk?". A customer asks about an order; these ask for attention.
#: Asking for a call of "30 minutes" is left out: partners and buyers ask for calls too.
#: Read by ``cold_pitch``, a rule beside the learned weights (``verdict.COLD_PITCH_POINTS``).
_PITCH_RE = re.compile(
    r"mind if i (?:send|share)|would you like me to (?:send|share)|(?:can|may|shall|should) i "
    r"(?:send|share|show) you|want me to (?:send|take a look)|"
    r"worth a (?:quick |short )?(?:chat|call)|(?:are you|is this) the (?:right )?person (?:to|who)|"
    r"free (?:audit|mockup|video audit|website audit|seo audit|analysis|consultation)|"
    r"no (?:strings attached|hard feelings|obligation)|do-?follow|backlinks?\b|guest posts?\b|"
    r"media kit|(?:i hope|hope) this (?:email|message|mail) finds you|are you at your desk|"
    r"handle (?:a task|something) for me"
)
#: Hosts that only forward to another link: they hide where a link leads.
URL_SHORTENERS = frozenset(
    (
        "bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "v.gd",
        "buff.ly", "rebrand.ly", "cutt.ly", "shorturl.at", "t.ly", "rb.gy", "tiny.cc", "bit.do",
        "s.id", "t.cn", "dwz.cn", "url.cn", "suo.im", "reurl.cc", "lihi.cc", "lihi1.cc",
        "ppt.cc", "pse.is", "0rz.tw", "tinyurl.hu", "shorturl.asia", "qr.net", "x.co",
    )
)  # fmt: skip
#: Free-mail providers (the name before the country or .com), where anyone gets an address.
FREE_MAIL_NAMES = frozenset(
    (
        "gmail", "googlemail", "yahoo", "ymail", "hotmail", "outlook", "live", "msn", "aol",
        "icloud", "me", "mail", "yandex", "gmx", "protonmail", "proton", "zoho", "qq",
        "foxmail", "163", "126", "yeah", "sina", "sohu", "aliyun", "naver", "daum", "hanmail",
        "hinet", "seed", "pchome", "rocketmail", "mac",
    )
)  # fmt: skip
#: A subject that says it answers a mail ("Re:", "AW:", "回复：", "답장:").
_REPLY_SUBJECT_RE = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:re|aw|sv|vs|antw|odp|rif|r|回复|回覆|答复|答覆|답장|返信)\s*"
    r"(?:\[\d+\])?\s*[:：]",
    re.I,
)
#: Money asked for the way fraud asks (gift cards or game cards bought for someone, a fee
#: paid before money or goods are released) or a known person's "new" contact. A changed bank
#: account is left out: suppliers announce real ones, and customers report forged ones.
_PAYMENT_TRICK_RE = re.compile(
    r"(?:buy|purchase|pick up|get)(?: me)? (?:some |a few )?(?:\w+ )?gift ?cards|"
    r"点卡|點卡|点数卡|點數卡|游戏卡|遊戲卡|"
    r"先(?:缴纳|繳納|缴交|繳交|支付|付)[^。\n]{0,12}(?:手续费|手續費|保证金|保證金|关税|關稅|清关|清關)|"
    r"换了新(?:的)?(?:微信|号|號)|換了新(?:的)?(?:line|微信|號)|"
    r"(?:my|our) new (?:whatsapp|number|phone number|email)"
)
#: Where a forwarded or quoted mail starts below the sender's own text: the separator lines
#: of Gmail, Outlook, Apple Mail, Yahoo, QQ Mail, Foxmail and 163 ("---------- Forwarded
#: message ---------", "-----Original Message-----", "-------- 原始邮件 --------",
#: "---------- 已轉寄郵件 ----------"), Apple Mail's introduction ("Begin forwarded message:",
#: "开始转发的邮件：", "開始轉寄的郵件："), all named where threading reads them
#: (``mailrouter.parsing``), and Outlook's header block ("From: ... / Sent: ...").
_SEPARATOR_FRAME = r"(?:-{2,}|_{2,}|={2,})"
_FORWARD_RE = re.compile(
    rf"^[ \t]*{_SEPARATOR_FRAME}[ \t]*(?:{FORWARD_SEPARATOR_NAMES}|{REPLY_SEPARATOR_NAMES})"
    rf"[ \t]*(?:{_SEPARATOR_FRAME}|$)|"
    rf"^[ \t]*(?:{FORWARD_INTRO_NAMES})[ \t]*[:：]|"
    r"^[ \t]*(?:from|发件人|發件人|寄件者|寄件人)[ \t]*[:：][^\n]{1,300}\n[ \t]*"
    r"(?:sent|date|发送时间|發送時間|寄件日期|日期|时间|時間)[ \t]*[:：]",
    re.M | re.I,
)
#: Quoted or forwarded text: a reply to someone, not a first contact.
_QUOTED_RE = re.compile(rf"^\s*>|{_FORWARD_RE.pattern}|\bwrote:|写道[:：]|寫道[:：]", re.M | re.I)
#: The same places in a mail's HTML, where the separator is not at a line's start, or the
#: forwarded mail is a blockquote or a client's quote block.
_FORWARD_HTML_RE = re.compile(
    rf"{_SEPARATOR_FRAME}\s*(?:{FORWARD_SEPARATOR_NAMES}|{REPLY_SEPARATOR_NAMES})|"
    rf"{FORWARD_INTRO_NAMES}|<blockquote|gmail_quote|divrplyfwdmsg|appendonsend|<hr\b",
    re.I,
)
#: A forward reads as the sender's own text only when he wrote at least this many words (or
#: twice as many Chinese characters) above it: a bare forward is read whole, so an advert
#: behind a forged separator is still read.
FORWARD_MIN_OWN_WORDS = 4
#: A subject that says it forwards a mail ("Fwd:", "FW:", "转发：", "轉寄：").
_FORWARD_SUBJECT_RE = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:fwd?|wg|tr|转发|轉發|轉寄)\s*[:：]", re.I
)
#: Words broken by digits or symbols ("v1agra", "fr3e") or spelled out ("F R E E").
_OBFUSCATED_RE = re.compile(r"\b[a-z]+[0-9@$][a-z]{2,}\b|\b(?:[a-z][ .*_-]){4,}[a-z]\b")
#: How much of a long body the traits read: its start and its end (where the footer is).
_TRAIT_HEAD_CHARS = 6000
_TRAIT_TAIL_CHARS = 3000
_SUBJECT_DECOR_RE = re.compile("[★☆◆◇■□●○※♥❤✔✅☎✆►▶◀→⇒【】〓♦♣♠]")
#: Traits that are there when their pattern is found in the scanned text.
_FOUND_TRAITS = (
    (_PHONE_RE, "b:phone"),
    (_CHAT_ID_RE, "b:chat-id"),
    (_HOTLINE_RE, "b:hotline"),
    (_REFERENCE_RE, "b:reference"),
    (_APOLOGY_RE, "b:apology"),
    (_PROMISE_RE, "b:promise"),
    (_STOCK_TIP_RE, "b:stock-tip"),
    (_TICKER_RE, "b:ticker"),
    (_PAYMENT_TRICK_RE, "b:payment-trick"),
)


def _words(text: str, prefix: str, out: list[str]) -> None:
    lowered = text.lower()
    out.extend(prefix + word.strip("'-") for word in _WORD_RE.findall(lowered))
    for found in _PAIR_RUN_RE.findall(text):
        run = simplified_characters(found)
        if len(run) == 1:
            out.append(prefix + run)
        else:
            out.extend(prefix + run[i : i + 2] for i in range(len(run) - 1))


def _is_list_mail(parsed: ParsedMail) -> bool:
    headers = parsed.headers
    return bool(headers.get("list-id") or headers.get("list-unsubscribe")) or (
        headers.get("precedence", "").lower() in ("bulk", "list")
    )


def header_traits(parsed: ParsedMail) -> list[str]:
    """Traits of the envelope of a mail, as pseudo-words ("h:...")."""
    traits = []
    if parsed.message_id_generated:
        traits.append("h:no-message-id")
    content_type = parsed.headers.get("content-type", "").lower()
    if content_type.startswith("text/html"):
        traits.append("h:html-only")
    recipients = len(parsed.to) + len(parsed.cc)
    if recipients == 0:
        traits.append("h:no-recipients")
    elif recipients > 10:
        traits.append("h:many-recipients")
    if parsed.date is None:
        traits.append("h:no-date")
    subject = parsed.subject or ""
    letters = _LETTERS_RE.findall(subject)
    if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        traits.append("h:subject-shouts")
    if "!!" in subject or "$$" in subject or "！！" in subject:
        traits.append("h:subject-exclaims")
    if not subject.strip():
        traits.append("h:no-subject")
    if any(ord(c) < 32 or 0x2500 <= ord(c) <= 0x25FF for c in subject):
        traits.append("h:subject-odd-chars")
    if _SUBJECT_DECOR_RE.search(subject):
        traits.append("h:subject-decorated")
    if _MONEY_RE.search(subject.lower()):
        traits.append("b:subject-money")
    sender_domain = parsed.from_address.rpartition("@")[2].lower()
    reply_domain = (parsed.reply_to or "").rpartition("@")[2].lower()
    if reply_domain and sender_domain and reply_domain != sender_domain:
        traits.append("h:reply-to-elsewhere")
        if is_free_mail(reply_domain):
            traits.append("h:reply-to-free-mail")
    shown = _DOMAIN_IN_TEXT_RE.search(parsed.from_name or parsed.from_name_hidden)
    if shown and sender_domain and _site(shown.group(1)) != _site(sender_domain):
        traits.append("h:name-other-address")
    # A fake reply names no mail and quotes none. Lists and their digests often drop
    # In-Reply-To, some exports and clients do too (but quote the mail answered), and a mail
    # without a Message-ID (an export of bodies) says nothing of its threading.
    threaded = parsed.in_reply_to or parsed.references
    if (
        _REPLY_SUBJECT_RE.match(subject)
        and not threaded
        and not parsed.message_id_generated
        and not _is_list_mail(parsed)
        and not _QUOTED_RE.search((parsed.text or "")[:_TRAIT_HEAD_CHARS].lower())
    ):
        traits.append("h:reply-to-nothing")
    if re.search(r"\d{4,}", parsed.from_address.partition("@")[0]):
        traits.append("b:sender-digits")
    return traits


#: Second-level labels under which a country's registered names sit ("example.co.uk").
SECOND_LEVELS = frozenset(("com", "co", "net", "org", "ne", "or", "ac", "edu", "gov"))


def is_free_mail(domain: str) -> bool:
    """Whether ``domain`` is a free-mail provider's (gmail.com, yahoo.com.tw, mail.ru)."""
    labels = domain.lower().strip(".").split(".")
    if len(labels) < 2:
        return False
    name = labels[-3] if len(labels) >= 3 and labels[-2] in SECOND_LEVELS else labels[-2]
    return name in FREE_MAIL_NAMES


def _level(name: str, count: int, top: int = 5) -> str:
    """A count as a coarse level (0, 1, 2-3, 4-7, ...), so near counts share a token."""
    return f"{name}-{min(count.bit_length(), top)}"


def body_traits(
    parsed: ParsedMail,
    body: str,
    html: str,
    links: list[str],
    anchors: list[tuple[str, str]],
) -> list[str]:
    """Language-independent traits of the text and HTML, as pseudo-words ("b:...")."""
    subject = (parsed.subject or "").lower()
    head = body[:_TRAIT_HEAD_CHARS].lower()
    tail = body[-_TRAIT_TAIL_CHARS:].lower() if len(body) > _TRAIT_HEAD_CHARS else ""
    scanned = f"{subject}\n{head}\n{tail}"
    # No trait for the body's length: the training mail's length says who wrote it, not
    # whether it is spam (our customer mails are short, the written spam longer), and a
    # length trait learned that, 256-511 characters +1.3 points, up to 255 -1.6 (format 7).
    traits: list[str] = []
    # No trait for a mail without links: in the training mails that marked our own customer
    # mails (written without any), not ham, and Chinese adverts give a phone number instead.
    if links:
        # Links in mail from a free-mail address count apart ("b:sites-free-1"): there they are
        # a customer's tracking page, product or screenshot, and spam from free mail seldom
        # links, while one trait for both put a business's and a customer's one link alike at
        # the weight the written spam, mostly linking, gave it (+5.1 points, format 10).
        sender = parsed.from_address.rpartition("@")[2]
        name = "b:sites-free" if sender and is_free_mail(sender) else "b:sites"
        traits.append(_level(name, len(set(links))))
        if any(host.lower().removeprefix("www.") in URL_SHORTENERS for host in links[:50]):
            traits.append("h:url-shortener")
        if any(host.lower().rstrip(".").rpartition(".")[2] in CHEAP_TLDS for host in links[:50]):
            traits.append("h:cheap-tld-link")
    hidden_host = _RAW_HOST_LINK_RE.search(scanned) or _RAW_HOST_LINK_RE.search(html)
    if hidden_host and not _PRIVATE_IP_RE.match(hidden_host.group(0)):
        traits.append("h:raw-host-link")
    if _AD_MARK_RE.search(subject) or _AD_MARK_RE.search(head, 0, 2000):
        traits.append("b:ad-mark")
    if not _is_list_mail(parsed) and _OPT_OUT_RE.search((head + tail)[-_TRAIT_TAIL_CHARS:]):
        traits.append("b:opt-out-not-list")
    money = len(_MONEY_RE.findall(scanned))
    if money:
        traits.append(_level("b:money", money, 4))
    traits += [trait for pattern, trait in _FOUND_TRAITS if pattern.search(scanned)]
    if _QUOTED_RE.search(head):
        traits.append("b:quoted")
    if len(_OBFUSCATED_RE.findall(scanned)) >= 2:
        traits.append("h:obfuscated")
    if html:
        images = len(_IMG_RE.findall(html))
        if images:
            traits.append(_level("h:images", images, 3))
            if _PIXEL_RE.search(html):
                traits.append("h:tracking-pixel")
        visible = len(_TAG_RE.sub("", html).strip())
        if visible < 200:
            traits.append("h:html-little-text")
        for host, text in anchors[:30]:
            shown = _DOMAIN_IN_TEXT_RE.search(_TAG_RE.sub("", text))
            if shown and _site(shown.group(1)) != _site(host):
                traits.append("h:link-text-other-site")
                break
    return traits


#: The scripts a mail is written in, as "l:" marks (model.LANGUAGE_MARKS): the fit gives each
#: mark the weight of "this mail is in that script", which would otherwise be spread over the
#: words every mail of the script has (您好, 我们, 谢谢), and the model keeps only a part of it.
_SCRIPT_MARK_RES = (
    ("l:han", re.compile(f"[{CJK_CHARS}]")),
    ("l:hangul", re.compile(f"[{HANGUL_CHARS}]")),
    ("l:kana", re.compile("[\u3040-\u30ff]")),
)


def script_marks(text: str) -> list[str]:
    """The "l:" marks of the scripts that ``text`` uses besides the Latin alphabet."""
    return [mark for mark, pattern in _SCRIPT_MARK_RES if pattern.search(text)]


def own_text_end(text: str) -> int | None:
    """Where the sender's own text ends when a forwarded or quoted mail follows it
    (``_FORWARD_RE``), or None: no such mail, or too few own words above it to go by."""
    found = _FORWARD_RE.search(text[:MAX_TEXT_CHARS].lower())
    if found is None:
        return None
    own = text[: found.start()]
    words = len(_WORD_RE.findall(own.lower()))
    words += sum(len(run) for run in _PAIR_RUN_RE.findall(own)) // 2
    return found.start() if words >= FORWARD_MIN_OWN_WORDS else None


def cold_pitch(parsed: ParsedMail) -> bool:
    """Whether the subject or the start of the sender's own text pitches as a stranger's cold
    outreach does (``_PITCH_RE``); a pitch that a customer forwards to ask about is not his."""
    text = parsed.text or ""
    end = own_text_end(text)
    head = text[: _TRAIT_HEAD_CHARS if end is None else min(end, _TRAIT_HEAD_CHARS)]
    subject = (
        ""
        if end is not None and _FORWARD_SUBJECT_RE.match(parsed.subject or "")
        else (parsed.subject or "")
    )
    return bool(_PITCH_RE.search(f"{subject}\n{head}".lower()))


def _site(domain: str) -> str:
    """The registered name of a link's host ("shop" of www.shop.example), lower-cased."""
    labels = domain.lower().strip(".").split(".")
    return labels[-2] if len(labels) >= 2 else labels[0]


#: Hidden text (``ParsedMail.hidden_text``) of fewer visible characters is no trait: a
#: stray space or bullet in a hidden element.
HIDDEN_MIN_CHARS = 4


def _hidden_removed(body: str, parsed: ParsedMail) -> tuple[str, list[str]]:
    """``body`` without the text its HTML hides, and the trait ``h:hidden-text`` when it hides
    some. Spam hides words of business mail there (a meeting notice, a quote) for filters
    that read them; the reader never sees them, so they are not the mail's words. List mail
    hides a preview line for the inbox list, the newsletters' convention: no trait there."""
    pieces = [piece for piece in parsed.hidden_text.split("\n") if len(piece.strip()) >= 2]
    if sum(len(piece.replace(" ", "")) for piece in pieces) < HIDDEN_MIN_CHARS:
        return body, []
    for piece in pieces[:50]:
        body = body.replace(piece, " ", 1)
    return body, [] if _is_list_mail(parsed) else ["h:hidden-text"]


#: A recognised signature (``ParsedMail.signature``: after "-- ", a mail program's "Sent from"
#: line, a name card) of at most this many characters, with links to at most SIGNATURE_SITES
#: sites, has its links read apart (``signature_links``).
SIGNATURE_MAX_CHARS = 600
SIGNATURE_SITES = 3


def signature_start(body: str, person: int | None) -> int | None:
    """Where the links of ``body`` stop counting as the mail's: the start of the recognised
    signature of a person's mail from a free-mail address (``person``, from
    ``person_signature``), when that signature links to a few sites; else None.

    A person's signature links to their profile, blog, shop or company (WeChat, LinkedIn, a
    website): counted as the mail's links, a one-line question from a free-mail address with
    such a signature was held as spam ("b:sites-free-1" +3.4 on top of its WeChat id). Links
    there are one trait, "b:signature-links", and neither count among the mail's sites
    ("b:sites...", "u:...") nor are checked as its links; their words are read as written.
    Only a signature the parser recognised (``ParsedMail.signature``: after "-- ", a mail
    program's "Sent from" line, a name card) of at most SIGNATURE_MAX_CHARS, linking to at
    most SIGNATURE_SITES sites: an advert's link list after a "-- " counts as before, and so
    does a contact card's link (``is_contact_card``) unless a short question is above it
    (``signature_contact``): adverts end with the same card under their pitch. Not in
    list mail, nor a footer with an opt-out (a list's "-- " footer, ILUG's in the corpus spam,
    is no person's), nor from a company's domain (its links count as "b:sites" as before)."""
    start = person
    if start is None or (is_contact_card(body[start:]) and not _short_question(body[:start])):
        return None
    hosts = {host.lower() for host in _URL_RE.findall(body[start:])}
    return start if 0 < len(hosts) <= SIGNATURE_SITES else None


#: A signature's chat id and phone are read apart (``signature_contact``) only under a short
#: question: at most this many characters above it, with a question mark or particle.
SIGNATURE_QUESTION_MAX_CHARS = 200
_QUESTION_RE = re.compile(r"[?？]|吗|嗎|请问|請問")
#: The traits of a contact given, which a card gives as a person's and an advert as its pitch.
_CONTACT_TRAITS = ("b:phone", "b:chat-id", "b:hotline")


def person_signature(parsed: ParsedMail, body: str) -> int | None:
    """Where the recognised signature of a person's free-mail begins in ``body`` (short, at
    its end, no opt-out, not list mail), or None; found once a mail, read by
    ``signature_start`` and ``signature_contact``."""
    signature = (parsed.signature or "").strip()
    if not signature or len(signature) > SIGNATURE_MAX_CHARS or _is_list_mail(parsed):
        return None
    sender = parsed.from_address.rpartition("@")[2]
    if not (sender and is_free_mail(sender)) or _OPT_OUT_RE.search(signature.lower()):
        return None
    start = body.rfind(signature)
    if start < 0 or body[start + len(signature) :].strip():
        return None
    return start


def _short_question(own: str) -> bool:
    own = own.strip()
    return 0 < len(own) <= SIGNATURE_QUESTION_MAX_CHARS and _QUESTION_RE.search(own) is not None


def signature_contact(body: str, subject: str, person: int | None) -> bool:
    """Whether the chat id, phone or hotline of ``body`` are only a short question's signature.

    Chinese business people sign with a card ("王磊 / 微信：... / 手机：... / a link", the parser's
    contact card): read as the mail's, "b:chat-id" +4.8 and "b:phone" +3.0 held a qq.com
    customer's one-line question as certain spam. An advert ends with the same card under its
    pitch, so only a person's recognised signature (``person``: ``person_signature``) under at
    most SIGNATURE_QUESTION_MAX_CHARS of own text that asks a question, which gives no contact
    itself.
    """
    start = person
    if start is None or not _short_question(body[:start]):
        return False
    own_scanned = f"{subject}\n{body[:start]}".lower()
    contacts = (_PHONE_RE, _CHAT_ID_RE, _HOTLINE_RE)
    signature = body[start:].lower()
    return not any(pattern.search(own_scanned) for pattern in contacts) and any(
        pattern.search(signature) for pattern in contacts
    )


def mail_tokens(
    parsed: ParsedMail, raw: bytes = b"", headers: Sequence[Header] | None = None
) -> list[str]:
    """Everything the learned filter reads of one mail, each token once (the traits first, so
    that a long mail's cut at MAX_TOKENS only drops words); ``raw``, the message as received,
    adds the traits of how it was written (``raw_traits``; ``headers``, its header block when
    the caller read it already)."""
    body = (parsed.text or "")[:MAX_TEXT_CHARS]
    html = (parsed.html_sanitized or "")[:MAX_TEXT_CHARS]
    anchors = _ANCHOR_RE.findall(html)  # (href's host, link text)
    subject = parsed.subject or ""
    forward: list[str] = []
    end = own_text_end(body)
    if end is not None:
        # A customer forwarding a mail (phishing, a fake invoice) to ask "is this from you?"
        # is judged by what he wrote, not by the mail he forwards: its words, links and
        # subject are left out, and the HTML's links count only where his text has them.
        body = body[:end]
        cut = _FORWARD_HTML_RE.search(html.lower())
        html = html[: cut.start()] if cut else html
        in_own = {host.lower() for host in _URL_RE.findall(body)}
        anchors = [(host, text) for host, text in anchors if host.lower() in in_own]
        if _FORWARD_SUBJECT_RE.match(subject):
            subject = ""
        forward.append("b:forwards")
    body, hidden = _hidden_removed(body, parsed)
    person = person_signature(parsed, body)
    signed = signature_start(body, person)
    own = body if signed is None else body[:signed]
    if signed is not None:
        forward.append("b:signature-links")
        in_own = {host.lower() for host in _URL_RE.findall(own)}
        in_signature = {host.lower() for host in _URL_RE.findall(body[signed:])} - in_own
        anchors = [(host, text) for host, text in anchors if host.lower() not in in_signature]
    links = _URL_RE.findall(own) + [host for host, _text in anchors]
    tokens = header_traits(parsed) + raw_traits(raw, headers) + forward + hidden
    traits = body_traits(parsed, body, html, links, anchors)
    if signature_contact(body, subject, person):
        traits = [trait for trait in traits if trait not in _CONTACT_TRAITS]
        traits.append("b:signature-contact")
    tokens.extend(traits)
    tokens.extend(script_marks(f"{subject}\n{body[:_TRAIT_HEAD_CHARS]}"))
    tokens.extend("u:" + _site(domain) for domain in links[:50])
    _words(subject, "s:", tokens)
    _words(body, "", tokens)
    return list(dict.fromkeys(tokens))[:MAX_TOKENS]
