"""Urgency keywords: which mails they send straight to a level, and which they must not."""

from __future__ import annotations

import functools
import re

import pytest

from mailrouter.routing.features import mail_text
from mailrouter.routing.labels import load_bootstrap_examples
from mailrouter.routing.urgency_rules import (
    _KEYWORD_EXCEPTIONS,
    CALM_CHECK_RE,
    CONTACT_REPEATS,
    CONTACT_WORDS,
    DEFAULT_URGENCY_RULES,
    DETECTOR_KEYWORDS,
    DETECTOR_NAME_RE,
    DEVICE_ALARM_RE,
    DEVICE_ALARMER_RE,
    INSTITUTIONS,
    KEYWORD_NOT_ALARMS,
    NOT_ALARMS,
    OVERDUE_WAIT_RE,
    PART_HAZARD_KEYWORDS,
    PART_WORDS_RE,
    PATTERN_KEYWORDS_RE,
    PROBLEM_WORDS,
    SUMMONS_BEFORE_RE,
    USUAL_WAIT_RE,
    WAITING_KEYWORDS,
    RuleHit,
    _compiled_keywords,
    _hypothetical,
    _is_negated,
    _keyword_pattern,
    is_danger,
    match_problem,
    match_urgency_claim,
    match_urgency_rules,
    merge_urgency_rules,
    normalize_for_rules,
    to_simplified,
)
from mailrouter.routing.urgency_rules import (
    _no_danger_now as _told_of_no_danger_now,
)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("URGENT: our whole warehouse system is down", 5),
        ("The checkout server went down at 9am and nothing works.", 5),
        ("Our lawyers will start legal action on Monday.", 5),
        ("We think there has been a data breach in your portal.", 5),
        ("The charger caught fire on my desk!", 5),
        ("服务器宕机了，所有门店都无法收银", 5),
        ("我们已经委托律师，准备起诉贵公司", 5),
        ("客户信息泄露了，请马上处理", 5),
        ("系統當機，全部門市停擺", 5),  # Traditional (Taiwan: 當機 = 宕机)
        ("Heater smoking", 5),  # a subject alone; the model read "smoking" as praise
        ("The kettle started smoking and smells burnt, I unplugged it.", 5),
        ("There were sparks coming from the socket when I plugged it in.", 5),
        ("插头冒火花了，还有一股烧焦的味道", 5),
        ("燃气灶有煤气味，关了阀门还是有", 5),  # the model alone decided this before
        ("今天早上闻到燃气的味道", 5),
        ("廚房一直有瓦斯外洩的感覺", 5),  # Traditional (Taiwan: 瓦斯 = gas)
        ("I can smell gas in the kitchen since the engineer left.", 5),
        ("The motor keeps overheating after ten minutes.", 4),
        ("I want to file a complaint about your technician.", 4),
        ("My refund not received after six weeks.", 4),
        ("Please escalate this to a manager, this is the third time I write.", 4),
        ("I want to cancel my contract.", 4),
        ("我要投诉你们的快递员", 4),
        ("退款未到账，已经催了多次", 4),
        ("問題很嚴重，我要投訴", 4),  # Traditional
        ("退款一直未到帳", 4),  # Traditional 帳 meets the keyword 未到账
        ("积分没有到账，退款也没有到账", 4),  # the points hide only themselves
        ("Great job on the installation, the team was lovely.", 1),
        ("Feature request: dark mode in the customer app.", 1),
        ("给你们的客服点个赞，服务很周到", 1),
        ("提个建议：官网可以加一个在线客服", 1),
        ("特此表揚貴司的維修師傅", 1),  # Traditional
        ("想講聲你哋部淨化機真係好好用。繼續努力！", 1),  # "keep it up", Cantonese (set 12)
    ],
)
def test_keywords_decide_the_level_in_both_languages(text, level):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == level


@pytest.mark.parametrize(
    "text",
    [
        "Could you send me the price list? Thank you!",
        "请问有现货吗？谢谢！",
        "I could not download the manual from your site.",  # "down" inside "download"
        "We paid the down payment yesterday.",  # "down" without "is/went/been"
        "What is the fire rating of your wall panels?",  # "fire" alone is a product question
        "Do you sell smoke detectors?",
        "Please book us a non-smoking room for two nights.",  # negated
        "Is the glass of the oven door heat resistant, or could it melt?",
        "This is not urgent, reply whenever you can.",  # negated
        "No emergency, just a quick question about opening hours.",
        "不紧急，有空回复就行",
        "并不严重，只是想确认一下",
        "设备漏水了，幸好没有受伤",  # 受伤 after 没有
        "",
    ],
)
def test_ordinary_mail_fires_no_rule(text):
    assert match_urgency_rules(text) is None


def test_matching_ignores_case_and_reports_the_configured_keyword():
    assert match_urgency_rules("this is an EMERGENCY") == RuleHit(5, "emergency")
    assert match_urgency_rules("Lawsuit incoming") == RuleHit(5, "lawsuit")
    assert match_urgency_rules("the system\n  is   DOWN") == RuleHit(5, "is down")
    suggestion = match_urgency_rules("I’d like to suggest a dark mode")  # typographic apostrophe
    assert suggestion == RuleHit(1, "i'd like to suggest")


def test_the_highest_level_wins():
    text = "I already sent a complaint, and now my lawyer will contact you."
    assert match_urgency_rules(text) == RuleHit(5, "lawyer")
    assert match_urgency_rules("投诉了三次，现在我们准备起诉") == RuleHit(5, "起诉")


def test_the_longest_keyword_of_a_level_is_reported():
    assert match_urgency_rules("我方律师函已经寄出") == RuleHit(5, "律师函")


def test_praise_with_a_problem_is_not_praise():
    """A thank-you in a problem mail must not drop it to level 1 (the model decides)."""
    assert (
        match_urgency_rules("Great job on the first visit, but the heater is still broken.") is None
    )
    assert match_urgency_rules("给你们点个赞，不过发票开错了") is None
    assert match_urgency_rules("Great service as always, however the refund never arrived.") is None
    # ... and a problem keyword of a higher level wins outright.
    assert match_urgency_rules("Kudos to the driver, but I want to file a complaint.") == RuleHit(
        4, "complaint"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # a problem solved by the staff thanked for it
        ("表扬一下 你们的售后小刘态度真好，耐心教我怎么清洗除螨仪，问题解决了。", None),
        ("Thank you to Priya on your chat team who sorted out my missing parts.", None),
        ("Thanks for the quick refund. It came through today, much faster than I expected.", None),
        ("He explained what was wrong with the pump, fixed it in under an hour.", None),
        # a suggestion: the 不能 of 能不能 ("could you"), a contrast that leads to a wish
        ("有个小建议：手机APP能不能加一个导出Excel的功能？", None),
        ("你哋個焗爐好好用。不過可唔可以出多啲顏色？", None),
        ("I love my air fryer, but it would be great if the basket were dishwasher safe.", None),
        ("Love my lamp, but it always comes on at full. Would be great if it remembered.", None),
        ("Love the app, but would it be possible to add a dark mode?", None),
        ("你們的掃地機器人很好用，不過希望 APP 可以加上分房間清掃的功能。", None),
        # none of a problem, a time of day, a liking that lasts, a hyphen's "but"
        ("Used every day, not a single issue. Well done!", None),
        ("I check my plug schedules late at night.", None),
        ("I bought it myself last year and still love it.", None),
        ("We'd happily test one of the returned-but-working units.", None),
        # ... and the problems it must still find
        ("Thanks, but my order is late.", "late"),
        ("Thanks for fixing the kettle, but the refund is still missing.", "missing"),
        ("非常满意你们的服务！不过洗碗机的门关不严，能派人看看吗？", "不过"),
        ("谢谢你们，问题还没解决，洗衣机还是漏水。", "还没"),
        ("Great job on the first visit, but the heater is still broken.", "broken"),
        ("The refund never came through.", "refund"),
        ("给你们点个赞，不过发票开错了", "不过"),
    ],
)
def test_a_problem_word_of_praise_names_no_problem_when_solved_or_wished(text, problem):
    """The model's 1 stands beside a problem word that names no problem left (twenty-ninth
    session: 24 of the 26 praise and suggestion mails of sets 1-12 raised to 2 were praise)."""
    assert match_problem(text) == problem


def test_negation_cancels_only_the_negated_keyword():
    assert match_urgency_rules("Not urgent, but the server is down.") == RuleHit(5, "is down")


def test_custom_rules_replace_the_defaults_and_traditional_keywords_match_simplified_text():
    rules = {4: ["退貨"]}
    assert match_urgency_rules("我要退货", rules) == RuleHit(4, "退貨")
    assert match_urgency_rules("URGENT", rules) is None


def test_settings_extend_the_built_in_rules():
    merged = merge_urgency_rules({"5": ["停产"], 2: "price list"})
    assert match_urgency_rules("工厂停产了", merged) == RuleHit(5, "停产")
    assert match_urgency_rules("工厂停产了") is None
    assert match_urgency_rules("please send your price list", merged) == RuleHit(2, "price list")
    assert set(DEFAULT_URGENCY_RULES[5]) <= set(merged[5])
    assert merge_urgency_rules(None) == {k: tuple(v) for k, v in DEFAULT_URGENCY_RULES.items()}
    with pytest.raises(ValueError):
        merge_urgency_rules({"9": ["x"]})


def test_traditional_chinese_is_simplified_and_other_text_left_alone():
    assert to_simplified("帳號無法登入") == "账号无法登录"  # 登入: Taiwan's 登录
    assert to_simplified("帐户被锁") == "账户被锁"  # the older spelling, typed in Simplified
    assert to_simplified("帐篷和蚊帐") == "帐篷和蚊帐"
    assert to_simplified("沈默是金") == "沉默是金"  # a phrase whose characters all look Simplified
    assert to_simplified("Refund 退款 #123") == "Refund 退款 #123"
    assert to_simplified("𠮷野家的帳號") == "𠮷野家的账号"  # beyond the BMP: converted all the same


def test_rules_agree_with_every_hand_labelled_bootstrap_mail_they_fire_on():
    """A keyword that contradicts a human label would override the model for the worse."""
    fired = disagreements = 0
    for example in load_bootstrap_examples():
        hit = match_urgency_rules(mail_text(example.subject, example.body))
        if hit is not None:
            fired += 1
            disagreements += hit.level != example.urgency
    assert disagreements == 0
    assert fired >= 80  # the rules do cover a real share of the urgent and the praising mail


def test_the_quick_tests_before_a_keywords_regex_never_skip_a_match():
    """A keyword's regex runs only when its word (or first character and needle) is in the
    text: in every context, that finds exactly what the regex alone finds. (Repeat words
    need a contact word as well: test_a_repeat_word_is_important_only_about_contacting_us; a
    detector's name counts only when it is going off, a part's hazard only beside a part, and a
    pattern keyword is a name: test_each_pattern_keyword_s_match_holds_one_of_its_needles.)"""
    keywords = [k for ks in DEFAULT_URGENCY_RULES.values() for k in ks if k not in _SPECIAL]
    keywords += list(PROBLEM_WORDS)
    keywords += ["#urgent", "c++ help", "it's broken", "12315", "e-mail down", "’s fault"]
    contexts = ["{}", "x {} y", "({})", "...{}!", "a{}", "{}s", "1{}", "_{}_", "{}'", "说{}了"]
    for keyword in keywords:
        pattern = re.compile(_keyword_pattern(keyword))
        variants = {keyword, keyword.upper(), keyword.replace(" ", "  \n")}
        for context in contexts:
            for variant in variants:
                text = context.format(variant)
                expected = (
                    RuleHit(2, keyword) if pattern.search(normalize_for_rules(text)) else None
                )
                assert match_urgency_rules(text, {2: [keyword]}) == expected, text


# Keywords that are no plain phrase: a detector's name counts only when it is going off, a
# part's hazard only beside a part, a pattern keyword is a name for its pattern.
_NO_PHRASE = {*DETECTOR_KEYWORDS, *PART_HAZARD_KEYWORDS, *PATTERN_KEYWORDS_RE}
_SPECIAL = {*CONTACT_REPEATS, *_NO_PHRASE}


@functools.cache
def _reference_blanks() -> list[re.Pattern[str]]:
    """The harmless phrases the reference blanks, compiled once (the regex module's cache holds
    fewer patterns than the reference tries for each text)."""
    not_alarms = [*(_keyword_pattern(p, r"[\s-]+") for p in NOT_ALARMS), DEVICE_ALARM_RE]
    return [re.compile(p) for p in (DETECTOR_NAME_RE, *not_alarms, DEVICE_ALARMER_RE)]


@functools.cache
def _reference_pattern(keyword: str) -> re.Pattern[str]:
    """A keyword's plain regex (its pattern's, for a pattern keyword), compiled once."""
    if keyword in PATTERN_KEYWORDS_RE:
        return re.compile(PATTERN_KEYWORDS_RE[keyword][1])
    return re.compile(_keyword_pattern(keyword))


def _every_keyword_in_turn(text: str, rules) -> RuleHit | None:
    """The rules as documented, each keyword's regex tried in turn (highest level first, danger
    words first, longest keyword first), without any of the quick tests."""
    normalized = normalize_for_rules(text)
    for phrase in _reference_blanks():
        normalized = phrase.sub(lambda m: " " * len(m.group()), normalized)
    for phrase in INSTITUTIONS:
        for match in re.finditer(_keyword_pattern(phrase, r"[\s-]+"), normalized):
            if not re.search(
                SUMMONS_BEFORE_RE, normalized[max(0, match.start() - 48) : match.start()]
            ):
                blank = " " * (match.end() - match.start())
                normalized = normalized[: match.start()] + blank + normalized[match.end() :]

    def about_contact(start: int) -> bool:
        clause_end = r"[.!?。！？\n,，;；:：()（）]|\bbut\b|\bhowever\b|但|可是|不过|却"
        clause = re.split(clause_end, normalized[start:])[0]
        clause = re.split(clause_end, normalized[:start])[-1] + clause
        return any(re.search(_keyword_pattern(word), clause) for word in CONTACT_WORDS)

    def beside_a_part(start: int) -> bool:
        sentence = re.split(r"[.!?。！？\n]", normalized[start:])[0]
        sentence = re.split(r"[.!?。！？\n]", normalized[:start])[-1] + sentence
        return bool(re.search(PART_WORDS_RE, sentence))

    def first(keywords, level: int) -> str | None:
        for keyword in sorted(set(keywords), key=lambda k: (not is_danger(k), -len(k), k)):
            for match in _reference_pattern(keyword).finditer(normalized):
                if _is_negated(normalized, match.start()):
                    continue
                if level == 5 and _hypothetical(normalized, match.start()):
                    continue
                if keyword in PART_HAZARD_KEYWORDS and not beside_a_part(match.start()):
                    continue
                # the context checks of a danger word are the module's own (not quick tests)
                if is_danger(keyword) and _told_of_no_danger_now(
                    normalized, match.start(), match.end(), _compiled_keywords([keyword])[0]
                ):
                    continue
                if keyword in CONTACT_REPEATS and not about_contact(match.start()):
                    continue
                if keyword in WAITING_KEYWORDS and (
                    re.search(USUAL_WAIT_RE, normalized)
                    or re.search(CALM_CHECK_RE, normalized)
                    and not re.search(OVERDUE_WAIT_RE, normalized)
                ):
                    continue
                return keyword
        return None

    for level in sorted(rules, reverse=True):
        keyword = first(rules[level], level)
        if keyword is None:
            continue
        problems = [*PROBLEM_WORDS, *(k for other, ks in rules.items() if other > 1 for k in ks)]
        if level == 1 and any(re.search(_keyword_pattern(k), normalized) for k in problems):
            return None  # a problem word counts even when negated
        return RuleHit(level, keyword)
    return None


def test_rules_find_what_trying_every_keyword_finds():
    """On the bootstrap mail and on mail strung from keywords (several per mail, some
    negated), the first matching keyword is the one trying them all in order finds."""
    texts = [mail_text(e.subject, e.body) for e in load_bootstrap_examples()]
    keywords = [k for ks in DEFAULT_URGENCY_RULES.values() for k in ks if k not in _NO_PHRASE]
    keywords += list(PROBLEM_WORDS)
    for n in range(0, len(keywords), 3):
        a, b, c = (keywords[(n + i) % len(keywords)] for i in (0, 7, 13))
        texts += [f"Hello, {a} and {b}.", f"不是{a}，但{c}", f"not {b}: {c.upper()} {a}"]
    rules = merge_urgency_rules({"2": ["price list", "报价"], "3": ["#help", "e-mail down"]})
    for text in texts:
        assert match_urgency_rules(text, rules) == _every_keyword_in_turn(text, rules), text


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("退款還沒到帳，非常緊急！", "退款还没到账，非常紧急！"),
        ("我的帳號被盜了，要投訴", "我的账号被盗了，要投诉"),
        ("退貨的發票丟了，系統當機", "退货的发票丢了，系统当机"),
        ("帳戶餘額未到帳", "账户余额未到账"),
    ],
)
def test_traditional_and_simplified_mail_hit_the_same_rules(traditional, simplified):
    assert normalize_for_rules(traditional) == normalize_for_rules(simplified)
    hit = match_urgency_rules(traditional)
    assert hit is not None
    assert hit == match_urgency_rules(simplified)


@pytest.mark.parametrize(
    "text",
    [
        "Please find my signed contract attached. Emergency contact: my wife Sarah, 07700 900456.",
        "入职资料已经填好，紧急联系人：母亲 张丽 138xxxx1234。",
        "履歷附上。緊急聯絡人：父親 陳先生 0912-xxx-xxx",
        "Our office is next to the police station, please leave the parcel at reception.",
        "Is the warranty still valid if the fan is used in a smoking room?",
        "I can bring a police clearance certificate to the interview.",
        "会员积分没有到账",  # loyalty points, not money gone missing
        "上周买的东西，會員積分一直沒到帳，麻煩查一下",
    ],
)
def test_a_keyword_inside_a_harmless_phrase_is_no_alarm(text):
    """A new hire's emergency contact or the police station next door is no emergency."""
    assert match_urgency_rules(text) is None


def test_a_harmless_phrase_hides_only_itself():
    assert match_urgency_rules("Emergency contact: Tom. The dryer caught fire!") == RuleHit(
        5, "caught fire"
    )
    assert match_urgency_rules("紧急联系人电话打不通，家里燃气泄漏了！") == RuleHit(5, "燃气泄漏")
    assert match_urgency_rules("Emergency, contact me now") == RuleHit(5, "emergency")


@pytest.mark.parametrize(
    "text",
    [
        "净水器滤芯报警了，请问换哪一级滤芯？",
        "滤芯已经报警三天了，在哪里买原装的？",
        "空气净化器的报警灯一直亮，换了滤网也不灭",
        "空氣清淨機濾網報警燈亮了",  # Traditional
        "机器一开机就报警，屏幕显示E4",
        "The alarm on the purifier keeps beeping.",
        "Do you sell the alarm clock radio in white?",
    ],
)
def test_a_device_s_own_alarm_is_no_call_to_the_police(text):
    """报警 is also what a filter's warning light does; only a person calling the police is 5."""
    assert match_urgency_rules(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "再不退款我就报警",
        "有人冒充你们客服骗了我3800元，我已经报警了",
        "机器漏电，我要报警",  # the device noun is in another clause
        "滤芯的事先不说，我要报警",
        "If the parcel does not turn up I will call the police.",
        "Someone used my card on your site, I have filed a police report.",
        "Refund me by Friday or I will call the police department.",
        "We reported it to the county police headquarters this morning.",
        "I called the emergency services, the heater was smoking.",
        "Emergency service needed: the dishwasher is flooding the kitchen.",
        "Emergency! There is smoke coming out of the oven.",
        "EMERGENCY - the dryer is on fire",
    ],
)
def test_calling_the_police_is_still_an_emergency(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("我们的灌装生产线因为你们的控制模块坏了全部停机，每小时损失好几万", 5),
        ("你们安装的机房精密空调完全停机了，温度一直在升", 5),
        ("產線停機了，每小時損失好幾萬，請馬上派人", 5),
        ("除濕機開了十分鐘就自己停機，水箱是空的。請問是不是壞了？", None),
        ("原来的号码已经停机了，账号绑定的手机怎么改？", None),
    ],
)
def test_a_machine_that_stops_is_an_emergency_only_when_a_line_or_system_stands_still(text, level):
    """停机 alone is also a phone number cut off and an appliance that stops by itself."""
    hit = match_urgency_rules(mail_text("", text))
    assert (hit.level if hit else None) == level


@pytest.mark.parametrize(
    "text",
    [
        "Quote request: 120 LED emergency lighting units with 3 h battery backup, Leeds.",
        "RFQ for Emergency-Lighting and emergency exit signs, 40 stairwells",
        "Do you sell a replacement emergency stop button for the KM-5 mixer?",
        "I worked four years in emergency call-handling for the regional ambulance service.",
        "I have worked for the emergency services since 2019 and would like to apply.",
        "This is the purchasing office of the County Police Headquarters: 30 desk fans, please.",
        "Police Department procurement: please send invoice 4471 again.",
    ],
)
def test_equipment_jobs_and_authorities_named_emergency_or_police_are_no_alarm(text):
    """A bulk quote for emergency lighting, an applicant from the emergency services and a
    buyer at the police headquarters ask for ordinary service."""
    assert match_urgency_rules(text) is None


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("I tried several times to log in but the password is wrong.", None),
        ("我试了好几次都登录不上你们的APP", None),
        ("The dryer stopped several times during the cycle.", None),
        ("I have called your helpline several times and nobody sorted it.", 4),
        ("I emailed multiple times about the missing part.", 4),
        ("已经打了好几次电话，每次都说会安排师傅", 4),
        ("我已經反映好幾次了，還是沒修好", 4),  # Traditional
        ("退款的事我多次联系客服都没有结果", 4),
        # contact words elsewhere in the sentence (a login "email" or phone number, a reset
        # "email") are no chasing: only the repeat word's own clause counts
        ("I sign in with my work email, tried several times and it says wrong password.", None),
        ("I tried several times to sign in but the reset email never came.", None),
        ("重置密码的邮件点开就报错，试了好几次都不行", None),
        ("用註冊的電話號碼登入，試了好幾次都說密碼錯誤", None),  # Traditional
        ("I emailed you several times, but nobody got back to me.", 4),
    ],
)
def test_a_repeat_word_is_important_only_about_contacting_us(text, level):
    """Repeated contact about an unresolved problem is important; repeated tries are not."""
    hit = match_urgency_rules(text)
    assert (hit.level if hit else None) == level


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # a first question: how long does the wait usually take (the model decides)
        (
            "Refund not received\nI sent the blender back two weeks ago and you confirmed it. "
            "How long does a refund normally take to reach my card?",
            None,
        ),
        ("退款还没到账\n退回的烤箱你们签收了，退款还没到账。请问一般需要几个工作日？", None),
        ("退款還沒到帳，想請問通常幾天會入帳？", None),  # Traditional
        ("The parcel has still not arrived. How long is delivery usually?", None),
        # the same words chasing it, or with a repeat beside the question: important
        ("Refund not received. You promised it within 5 days, that was a month ago.", 4),
        ("退款还没到账，已经超过承诺时间两周了，请尽快处理。", 4),
        (
            "Refund still not received. This is the third time I write. How long does it usually "
            "take?",
            4,
        ),
        ("十一月的工资没有到账，下周要交房租。", 4),
    ],
)
def test_money_awaited_is_important_unless_the_customer_asks_the_usual_wait(text, level):
    """A customer asking "How long does it normally take?" asks; the same wait chased is
    important."""
    hit = match_urgency_rules(text)
    assert (hit.level if hit else None) == level, hit


def test_a_repeat_word_looks_only_at_its_own_sentence():
    assert match_urgency_rules("I called you on Monday. I tried several times to log in.") is None


@pytest.mark.parametrize(
    "text",
    [
        "Urgent question: do you deliver on Saturdays?",
        "urgent - which charger fits the BK-200?",
        "紧急！发票抬头开错了，麻烦重开",
        "緊急！請問週六有出貨嗎",
    ],
)
def test_a_customer_s_own_urgent_is_a_claim_not_a_keyword(text):
    """The model decides (mailrouter.routing.decisions caps a 5 that rests on the claim)."""
    assert match_urgency_rules(text) is None
    assert match_urgency_claim(text) is not None


def test_a_negated_claim_is_no_claim():
    assert match_urgency_claim("Not urgent at all, just curious.") is None
    assert match_urgency_claim("不紧急，有空回复") is None


@pytest.mark.parametrize(
    "text",
    [
        "部暖爐著咗火！我即刻拔咗插蘇",  # Cantonese, Traditional: 著 stays 著 when simplified
        "个暖炉后面着咗火，好惊",
        "電暖器突然著火了",
        "後面燒燶晒，成間房都係煙",
        "充电的时候电池突然炸开了",
        "吸尘器电池爆了，冒了很多烟",
        "我老公的手被碎片划伤，现在在医院包扎",
        "孩子的手臂被蒸汽烫伤了",
        "The battery exploded while it was charging.",
        "The steam burned my son; he was burned on the arm and we went to A&E.",
        "分销接口挂了，订单全部推不过去",
        "你们的分銷系統掛了，訂單一直推不過去",  # Traditional
        "Reseller portal down - can't place any orders",
        "We have today issued a claim in the County Court for GBP 1,849.00.",
        "Our client has issued proceedings against Lumen Home Ltd.",
    ],
)
def test_fire_bursts_injuries_partner_outages_and_court_claims_are_emergencies(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5


@pytest.mark.parametrize(
    "text",
    [
        "Is the fire sale on the air fryer still on?",
        "火爆優惠還有嗎？買一送一那個",
        "这种板材的着火点是多少度？",
        "Could you send the exploded view of the KM-5 mixer so I can order the gasket?",
        "I think when the site went down last year my account disappeared.",
        "Your shop was down ages ago and my loyalty points vanished then.",
        "去年网站挂了一阵子，后来换了新系统，我的积分没了",
        "以前系统崩溃过一次，数据还在吗？",
        "柜子太大，门口推不过去，能拆开送吗？",  # a cabinet, not an order system
        "礼品需要包扎吗？",  # gift wrapping
        "这款水壶有防烫伤设计吗？外壳会不会烫伤小孩？",  # a buyer's question
        "请问有没有防割伤的手套卖？",
        "电池是原装的吗？会不会爆？",  # a buyer's question, nothing burst
        "I worked as a clerk in the county court for three years.",
        "The price went down two days after I bought the fan, can I get the difference?",
    ],
)
def test_sales_words_past_outages_and_parts_drawings_are_no_alarm(text):
    """A clearance sale, an ignition point, last year's outage or a spare-parts drawing raise
    no emergency."""
    assert match_urgency_rules(text) is None


def test_a_past_outage_hides_only_itself():
    text = "The portal went down last year too. It went down again at 8am and is down now."
    assert match_urgency_rules(text) == RuleHit(5, "went down")
    assert match_urgency_rules("去年系统崩溃过一次，今天又宕机了") == RuleHit(5, "宕机")


def test_a_legal_case_under_way_stays_an_emergency():
    """Decided, not overlooked: counsel's document deadline in a filed arbitration could be
    ours or the other side's; the keyword cannot tell, and a missed deadline loses the case."""
    hit = match_urgency_rules("原员工已申请劳动仲裁，答辩材料须在12月11日前提交，请提供考勤记录。")
    assert hit == RuleHit(5, "劳动仲裁")


@pytest.mark.parametrize(
    "text",
    [
        "Dave collapsed in aisle 4, the first aiders are with him and an ambulance is coming.",
        "My 2 year old might have swallowed the button battery from the remote.",
        "We're on our way to A&E now, what battery is in it?",
        "He was unconscious for a minute after touching the heater.",
        "仓库有同事晕倒了，已经叫了救护车",
        "叉车压到他的脚，已经送到医院了",
        "我老婆洗澡的时候被电了一下，手到现在还是麻的",
        "今朝沖涼摸到個水龍頭，俾電電親，成隻手麻咗",  # Cantonese, Traditional
        "個電飯煲條線近插頭嗰度突然有火花，仲有陣燶味",  # Cantonese, Traditional
        "滾水濺落我個女隻腳，啱啱喺診所包紮完返嚟",  # Cantonese, Traditional
        "A statutory demand was served on your registered office this morning.",
        "Our client will present a winding-up petition without further notice.",
        "我司已收到法院傳票",  # Traditional
    ],
)
def test_harm_told_in_plain_words_and_debt_enforcement_are_emergencies(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5


@pytest.mark.parametrize(
    "text",
    [
        "We supply the county ambulance service and need 40 fridges for the stations.",
        "I worked for the ambulance service as a call handler for six years.",
        "No ambulance was needed, he was fine after a sit-down.",  # negated
        "The robot vacuum swallowed a sock and now it won't pick anything up.",
        "期待与贵司擦出火花，合作愉快！",  # sparks between partners
        "请来电亲自确认订单信息",  # 来电 + 亲自, no shock
        "这张传票的凭证号对不上，麻烦核对一下",  # an accounting voucher
        "Is the fan safe if a child swallows the small parts? Do you have a child lock?",
    ],
)
def test_services_sparks_between_partners_and_vouchers_are_no_alarm(text):
    """An ambulance service as customer or employer, a vacuum that swallowed a sock, "擦出火花"
    in a partner's greeting, a phone call asked for, an accounting voucher: no emergency."""
    assert match_urgency_rules(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "剛剛充電的時候發現電池那邊整個鼓起來，摸起來超燙",  # Traditional (Taiwan)
        "手机电池鼓包了，后盖都被顶开了",
        "平板充电的时候电池胀起来了",
        "The battery pack has swollen up and the case is cracked.",
        "My scooter has a swollen battery, it's in the garage now.",
        "The battery is bulging out of the back of the speaker.",
    ],
)
def test_a_swelling_battery_is_an_emergency(text):
    """A lithium battery that swells is about to burn; the model alone decided a Taiwan mail
    (set 4) about one 2. It is danger, so the auto-reply says what to do meanwhile."""
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5
    assert is_danger(hit.keyword)


@pytest.mark.parametrize(
    "text",
    [
        "通货膨胀这么厉害，今年的价格会涨吗？",  # inflation, not a battery
        "My ankle was swollen for a week after the fall last year, hence the sick note.",
    ],
)
def test_inflation_and_a_swollen_ankle_are_no_battery(text):
    assert match_urgency_rules(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "My freezer stopped working and all the food is melting. pls help asap",
        "The ice cream in the freezer has melted, the fridge is not cooling.",
        "Everything in my freezer melted overnight, can I get a refund for the spoiled food?",
        "The ice maker is broken and all the ice melted into a puddle.",
        "The chocolate arrived melted because the delivery van was hot.",
        "My husband quit smoking, so we no longer need the air purifier.",
        "Sales have exploded since your ad, we need 200 more units.",
        "I am a police officer and would like to order a dehumidifier.",
        "I am an A&E nurse, do you have a discount for hospital staff?",
        "The toast smells burnt every morning, even on the lowest setting.",
        "电饭煲煮的饭底下总有糊味，是不是内胆坏了？",
        "米饭总是烧糊，锅底一层焦",
        "電鍋煮的飯有燒焦味，是不是溫控壞了？",  # Traditional
        "面包机做的面包鼓起来不够，是不是酵母放少了？",
    ],
)
def test_food_that_melts_burns_or_rises_jobs_habits_and_booming_sales_are_no_danger(text):
    """A broken freezer's food melting or rice burnt in the pot is a repair or a cooking
    question, not a fire: no "call 119" advice, no emergency queue."""
    assert match_urgency_rules(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "The freezer plug melted and there was smoke.",
        "The ice maker's wiring melted.",
        "The device melted on the counter!",  # "ice" inside "device" is no ice
        "The food processor motor has melted.",
        "The heater's plastic casing has melted near the plug.",
        "The rice cooker smells burnt.",
        "电饭煲有焦味，还冒烟",
        "面包机有焦味",
        "充电宝鼓起来了",
        "We are on our way to A&E now.",
    ],
)
def test_a_melting_or_burning_appliance_is_still_danger(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5 and is_danger(hit.keyword)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("I emailed you on Monday about my broken blender and never heard back.", 4),
        ("Two weeks on, we are still waiting for a response to our quote request.", 4),
        ("上周发邮件问退款的事，到现在一直没有回复，请尽快处理。", 4),
        ("留言好几天了石沉大海，麻烦给个答复。", 4),
        ("Do I need to reply to the confirmation email, or is no response needed?", None),
        ("Your noreply address sent me an invoice, where can I see the PDF?", None),
        ("收到了，谢谢，不用回复。", None),
    ],
)
def test_a_customer_chasing_an_answer_that_never_came_is_important(text, level):
    hit = match_urgency_rules(text)
    assert (hit.level if hit else None) == level


def test_a_complaint_trending_on_social_media_is_important_not_an_emergency():
    """Set 1's mail: a customer's post about a leaking steamer "上了热搜". The company's name
    is at stake (4); the model alone made it 5. A fire on video beside it still wins."""
    hit = match_urgency_rules("你好，我发的帖子上了热搜，几万转发，希望你们官方出面给个说法。")
    assert hit == RuleHit(4, "热搜")
    assert match_urgency_rules("你们的电动车起火的视频上了热搜").level == 5


@pytest.mark.parametrize(
    "text",
    [
        "我的快递被盗了",  # the new-user pass: level 5 and the emergency queue before
        "包裹在驿站被盗了，能补发一个吗？",
        "自行车被盗，保险公司要发票，能补开吗？",
        "行李箱連同東西一起被盜了，想問保固卡能不能補發",  # Traditional
    ],
)
def test_goods_stolen_are_no_emergency(text):
    """A parcel or a bike stolen is a lost-parcel claim or a receipt for the insurer."""
    assert match_urgency_rules(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "我的账号被盗了，有人用它下单",
        "我的手机号被盗用了",  # a hijacked number: 号 names an account
        "贵公司官方微博被盗，正在发不当言论",
        "手机被盗，绑定的银行卡被盗刷了",
    ],
)
def test_an_account_stolen_is_still_an_emergency(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5


@pytest.mark.parametrize(
    "text",
    [
        "Is there a lawyer I can talk to about the warranty terms?",  # the new-user pass
        "Do you have an in-house lawyer who could explain clause 4 of the terms?",
        "Could I talk to your attorney about clause 7 of the contract?",
        "请问你们有律师可以解释一下保修条款吗？",  # ("有没有律师" is a negation already)
        "請問貴司是否有律師可以說明保固條款？",  # Traditional
    ],
)
def test_a_question_whether_there_is_a_lawyer_is_no_legal_threat(text):
    """A customer-service lead answers a question about the terms as normal mail."""
    assert match_urgency_rules(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "My lawyer will be in touch.",
        "I have spoken to a lawyer. Is there anything you want to say before we go to court?",
        "Is there a lawyer I can talk to? If not, my attorney will write to you.",
        "请问有没有收到我的律师函？",
        "我已经咨询了律师，你们有没有诚意解决？",
    ],
)
def test_a_lawyer_of_the_customer_s_own_stays_a_legal_threat(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5 and not is_danger(hit.keyword)


@pytest.mark.parametrize(
    "text",
    [
        "The air fryer is smoking a bit when I cook bacon. Is that normal?",  # new-user pass
        "When I'm frying sausages the pan base is smoking a little, is the coating fine?",
        "煎牛排的时候有点冒烟，抽油烟机要开多大？",
        "用烤盤烤肉時會冒煙，是正常的嗎？",  # Traditional
    ],
)
def test_smoke_from_the_cooking_is_no_fire(text):
    assert match_urgency_rules(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "The air fryer is smoking and smells of burning plastic.",
        "The grill started smoking when I switched it on.",
        "空气炸锅用的时候冒烟",  # the pot, not the food
        "烤箱一开就冒烟",
    ],
)
def test_an_appliance_smoking_by_itself_is_still_danger(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5 and is_danger(hit.keyword)


@pytest.mark.parametrize(
    "text",
    [
        "I had minor injuries last year from a fall, so I need a chair with arm rests.",
        "Years ago a kettle from another shop exploded on me, so I want one with a safety valve.",
        "Back in 2019 our garage caught fire (an old freezer), so we only buy certified ones.",
        "小时候被烫伤过，所以想买外壳防烫的水壶",
        "兩年前家裡廚房起火過，所以想問這台有沒有過熱保護",  # Traditional
        "我以前被熱水瓶燙傷過，所以想問新款有沒有防燙設計？",
        "曾经被开水烫过一次，想买个防烫的水壶",
    ],
)
def test_harm_told_as_history_is_no_danger(text):
    """No "call 119" advice for a burn or a fire from years ago."""
    hit = match_urgency_rules(text)
    assert hit is None or not is_danger(hit.keyword)


@pytest.mark.parametrize(
    "text",
    [
        "The heater I bought last year caught fire!",  # a date of purchase
        "I bought it last year and it caught fire.",
        "The heater caught fire in 2026.",  # a bare year may be this year's
        "上个月刚买的电暖器起火了",
        "去年买的电暖器起火了",
        "上个月安装的热水器漏电",
        "Last year it caught fire too, and today it is smoking again.",
        "去年也起火过，现在又冒烟了",
        "热水瓶的盖子弹开，热水整个泼到我儿子身上，以前从没这样过",
        "I smelled gas last week and the smell is back tonight.",
    ],
)
def test_harm_now_beside_a_past_date_is_still_danger(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5 and is_danger(hit.keyword)


def test_each_keyword_exception_holds_one_of_its_needles_wherever_it_matches():
    """A text is searched for an exception only when it holds one of the exception's words: a
    match without one would go unblanked, and the alarm would fire."""
    texts = [
        "滤芯报警三天了",
        "机器一直在报警",
        "When the site went down last year I lost my points.",
        "去年网站挂了一阵子",
        "All the food is melting.",
        "The toast smells burnt.",
        "The cheese was scorched.",
        "电饭煲煮的饭有糊味",
        "米饭烧糊了",
        "面包鼓起来不够",
        "实木地板鼓起来一大片",
        "The laminate floor has swollen up.",
        "巧克力熔化了",
        "The air fryer is smoking a bit when I cook bacon.",
        "While frying bacon the pan is smoking.",
        "煎牛排的时候有点冒烟",
        "我的快递被盗了",
        "自行车在楼下被盗",
        "Is there a lawyer I can talk to about the terms?",
        "Do you have an in-house attorney who could explain this?",
        "Could I speak to your solicitor about clause 4?",
        "请问你们有律师可以解释一下吗？",
        "I'm an attorney and need three kettles.",
        "I work at a law firm in Leeds.",
        "We are a small law firm.",
        "我是律师，想订咖啡机",
        "我们是一家律师事务所",
        "我係律師樓嘅行政",
        "我是法院的书记员",
        "Do you sell a carbon monoxide detector?",
        "Our office has your gas smell detector.",
        "一氧化碳探测器多少钱",
        "燃气泄漏报警器怎么装",
        "烟雾报警器的电池多久换",
        "I work in A&E and my shifts are odd.",
        "My husband is a retired lawyer and wants to know.",
        "我在律师事务所上班",
        "我老婆喺急症室做护士",
        "Sales of your heaters absolutely exploded.",
        "Orders have exploded this week.",
    ]
    for needles, pattern in _KEYWORD_EXCEPTIONS:
        matches = [m.group() for t in texts for m in re.finditer(pattern, normalize_for_rules(t))]
        assert matches, pattern[:40]
        for match in matches:
            assert any(needle in match for needle in needles), (match, needles)


def _danger_now(text: str) -> bool:
    """Level 5 with the "call 119" advice."""
    hit = match_urgency_rules(text)
    return hit is not None and hit.level == 5 and is_danger(hit.keyword)


def _no_danger_now(text: str) -> bool:
    """No emergency and no "call 119" advice."""
    hit = match_urgency_rules(text)
    return hit is None or (hit.level < 5 and not is_danger(hit.keyword))


@pytest.mark.parametrize(
    "text",
    [
        "My son burned his arm on the grill plate this afternoon.",
        "She got a burn from the iron's steam vent, it sprays out sideways.",
        "Our toddler swallowed one of the button magnets from the fridge set.",
        "The desk lamp sparked and tripped the fuse.",
        "I got a shock off the toaster's metal side.",
        "There were flames coming out of the vent of the dryer.",
        "The living room smells of burning plastic since the fan heater went quiet.",
        "My husband cut his hand on the slicer guard and needed stitches.",
        "宝宝把一颗螺丝吞下去了",
        "我手被烫了一下，起了个泡",
        "手機充電時突然燒起來了",  # Traditional
        "我個仔隻手俾熱水辣親",  # Cantonese: scalded
        "插座烧黑了，墙上还有一道印",
        "厨房有一股臭鸡蛋味",
        "The CO alarm keeps going off in the kitchen since the boiler was fitted.",
        "Our gas detector is beeping near the new cooker.",
    ],
)
def test_harm_told_without_an_alarm_word_is_danger(text):
    """A burn, a swallowed part, a shock, flames or a gas smell told as what happened: level 5
    and the "call 119" advice, though no alarm word is in the mail."""
    assert _danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "My solicitor will be in touch about the damaged floor.",
        "I'm taking you to court over this.",
        "This is a letter before claim under the pre-action protocol.",
        "Unless you pay by Friday we will issue proceedings.",
        "再不退钱我就提告",
        "我会通过法律途径解决这件事",
        "我哋會入稟小額錢債審裁處",  # Cantonese (Hong Kong small claims)
        "你們再不處理，我就去告你們",  # Traditional
    ],
)
def test_legal_action_told_without_the_usual_words_is_an_emergency(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5 and not is_danger(hit.keyword)


@pytest.mark.parametrize(
    "text",
    [
        "I'm going to the press with this.",
        "I have reported you to Trading Standards.",
        "I will take this to the Ombudsman.",
        "我要去消基會",  # Traditional (Taiwan's consumer foundation)
        "再不解决我就找媒体爆料",
        "我會搵消委會",  # Cantonese
    ],
)
def test_the_press_and_consumer_bodies_are_important(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 4


def test_a_journalist_asking_for_a_press_contact_is_not_important():
    hit = match_urgency_rules("I'm a journalist; who is your press contact?")
    assert hit is None or hit.level < 4


@pytest.mark.parametrize(
    "text",
    [
        "Is there a risk of an electric shock from the metal handle?",
        "Could the battery cause an explosion if it is dropped?",
        "Does it have protection against electric shock?",
        "What happens if a child gets an electric shock from it?",
        "热水壶会不会漏电？",
        "電暖器會不會起火？",  # Traditional
        "充电宝放久了会爆炸吗？",
        "有防止漏电的功能吗",
        "插蘇濕咗會唔會觸電㗎？",  # Cantonese
        "电暖器有起火的风险吗",
    ],
)
def test_a_question_whether_harm_could_happen_is_no_danger(text):
    """A buyer asking whether a product could burn or shock is no emergency."""
    assert _no_danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "The heater is smoking, is it safe?",
        "Is it safe to keep using it now that it's sparking?",
        "Can you send someone because the socket is smoking?",
        "是不是漏电了？",
        "会不会已经漏电了？",
        "每次用都会冒烟，正常吗？",
        "Is it normal that my charger sparks when I plug it in?",
        "I'm writing to ask if you could help as my charger exploded?",
        "防水插座冒烟了",  # a waterproof socket: 防 is no guard here
        "I tried to protect it from the rain but it is sparking",
    ],
)
def test_a_question_about_what_is_happening_is_still_danger(text):
    assert _danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "There was a news report about a charger that exploded. Are yours certified?",
        "I read an article about heaters that caught fire; do yours switch off when tipped?",
        "新闻报道说有人的电热毯起火了，你们的有保护吗？",
        "聽說有人的行動電源爆炸，你們的安全嗎？",  # Traditional
    ],
)
def test_news_and_stories_of_others_are_no_danger(text):
    assert _no_danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "I read about these chargers online and then my own charger exploded last night.",
        "新闻上说的那种情况我家也遇到了，充电宝爆炸了",
        "我听说你们会派人来，现在插座还在冒烟",
        "I heard that the heater caught fire in my flat while I was out",
    ],
)
def test_news_beside_the_customer_s_own_harm_is_still_danger(text):
    assert _danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "Please invoice Red Sparks Trading Ltd for the order.",
        "Is the 'Smoking Gun' board game back in stock?",
        "Do you sell the carbon monoxide detector with a 10-year battery?",
        "煤气泄漏探测器多少钱？",
        "一氧化碳报警器的电池多久换一次",  # 报警器 is also a harmless phrase of its own
        "Sales are on fire this week, please restock the kettles.",
        "我们店这款卖到爆炸，请补货",
        "I'm totally burnt out, please just cancel the order.",
        "The manual says the first few uses give a burning smell; how long does it last?",
        "新烤箱第一次用有点焦味",
        "How do I get melted cheese off the grill plates?",
        "I hold a lasting power of attorney for my mother.",
        "Your advert sparked my interest: do you deliver to Cork?",
    ],
)
def test_names_figures_of_speech_and_first_use_are_no_danger(text):
    assert _no_danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "The carbon monoxide detector went off and we all feel dizzy.",
        "We have your carbon monoxide alarm. It is beeping and the boiler is running.",
        "一氧化碳报警器一直在响",
        "The hob display shows 'GAS LEAK' and will not stop.",
        "The kitchen is on fire!",
        "The new heater sparked on its first use.",
        "The new oven's plug melted the first time I used it.",
        "The 'Smoking' light is on and the toaster is smoking.",
    ],
)
def test_a_detector_going_off_a_real_fire_and_first_use_sparks_are_still_danger(text):
    assert _danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm a corporate lawyer looking for a quiet coffee machine.",
        "My solicitor friend recommended your dehumidifiers.",
        "We are a law firm and need an invoice for the shredders.",
        "我们是一家律师事务所，想订购打印纸",
        "我係律師，想買部咖啡機",  # Cantonese
        "我是法院的书记员，想买两台空气净化器",
        "My parcel was stolen and I've told the police; the crime number is 1234.",
        "快递被偷了，已经报警了，请补发",
        # twentieth session: an office, a break-in told the sentence before, questions
        "Our attorney's office is moving next month; please change the billing address.",
        "Someone broke into my car and took the dash cam I bought from you. The police want "
        "its serial number.",
        "What is your return policy? I don't want to end up in small claims court.",
        "If the kettle turns out to be faulty, would I need a lawyer or is the warranty enough?",
    ],
)
def test_lawyers_as_jobs_and_thefts_reported_to_the_police_are_no_emergency(text):
    hit = match_urgency_rules(text)
    assert hit is None or hit.level < 5


@pytest.mark.parametrize(
    "text",
    [
        "I am a solicitor acting for Mr Lee and we will issue proceedings.",
        "我是张先生的代理律师，受委托通知贵司",
        "Someone stole my card and ordered with it; I've called the police.",
        "I'll call the police if you don't refund me.",
        "我在法院立案了，准备起诉你们",
        "My account got hacked yesterday, can you lock it?",  # no "if it gets hacked?"
    ],
)
def test_a_lawyer_for_a_client_fraud_and_a_police_threat_stay_emergencies(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5


def test_each_grouped_harmless_phrase_holds_one_of_its_needles():
    """A group of `KEYWORD_NOT_ALARMS` is searched only in a text holding one of its words."""
    for needles, phrases in KEYWORD_NOT_ALARMS:
        for phrase in phrases:
            assert any(needle in normalize_for_rules(phrase) for needle in needles), phrase


@pytest.mark.parametrize(
    "text",
    [
        "My CO alarm needs a new battery, which type does it take?",
        "Do you sell a gas alarm for a camper van?",
        "Is the gas detector included with the hob?",
    ],
)
def test_a_co_or_gas_alarm_that_is_not_sounding_is_a_product(text):
    assert _no_danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        # boiling water or steam on someone
        "The kettle tipped and the boiling water went over his foot.",
        "She spilled boiling water on her leg when the jug's handle snapped.",
        "电水壶的热水喷出来，手臂烫到起水泡。",
        "我妈被蒸汽烫到手了",
        "孩子被开水烫伤手背",
        # a coin cell or a small part swallowed
        "I think the baby swallowed the button cell from the scale.",
        "Our toddler swallowed the coin cell, the cover just falls off.",
        "孩子把纽扣电池放进嘴里，现在找不到了，我们正往医院赶。",
        "我儿子把遥控器的电池吞了",
        # a bang and a flash, a part crackling, charred or black
        "There was a bang and a flash from the socket when I plugged in the heater.",
        "The wall socket where the heater is plugged in is scorching hot and crackling.",
        "The plug has gone soft and the socket is charred.",
        "水壶底座那里啪的一声，插座周围发黑了。",
        "個插蘇燒到黑晒",
        "電暖器的插頭融化變形了",
        # cuts from broken glass, a fall
        "The oven door shattered and my husband has glass cuts on both arms.",
        "The blender jug broke and she cut her fingers badly.",
        "玻璃面板碎了，碎片把我女儿的脸划伤了。",
        "My dad hurt his back badly when the ladder gave way.",
        # a gas or CO alarm sounding, wherever the verb is
        "厨房的燃气报警器一直在响，怎么办？",
        "家里的煤气报警器响了",
        "The gas detector you sold us is beeping next to the boiler.",
        "The CO alarm in the hall is going off.",
    ],
)
def test_scalds_swallowed_cells_bangs_burnt_sockets_cuts_and_sounding_alarms_are_danger(text):
    """Harm as the twentieth session's misses told it: level 5 with the "call 119" advice."""
    assert _danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        # food that melted, names in Title Case, a tool's sparks
        "Melted marshmallow is stuck on the sandwich toaster plates.",
        "The melted sugar won't come off the waffle plates.",
        "Please send the invoice to Bright Sparks Nursery for the six kettles.",
        "Do you still have the Colour Explosion blender in orange?",
        "Your angle grinder throws a lot of sparks when cutting steel. Which safety glasses?",
        # a question whether it ever happened, or could if ...
        "Has any of your power banks ever exploded? I want to buy one for my daughter.",
        "Does the warranty cover the smart lock if it gets hacked?",
        "佢哋話你哋部暖爐好安全，唔會著火，係咪真㗎？",
        "这个电暖器不会起火吧？",
        # history: a year gone by, a leak already fixed
        "After our garage caught fire in 2019 we only buy heaters with a cut-out.",
        "I smelled gas in my flat last week; the gas company fixed the pipe. The hob won't light.",
        "上周家里燃气泄漏，燃气公司已经修好了，现在热水器点不着火。",
        # sales figures of speech
        "Our sales team has been smoking hot this quarter, so we'd like 20 kettles as gifts.",
    ],
)
def test_food_names_tools_questions_history_and_figures_of_speech_are_no_danger(text):
    assert _no_danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "The heater caught fire again today; the engineer fixed it last month.",
        "Bright sparks came out of the socket.",
        "The CO alarm keeps beeping and we all have headaches.",
        "The toaster's plug is charred and the socket crackled.",
    ],
)
def test_harm_beside_the_new_exceptions_is_still_danger(text):
    assert _danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "The CO alarm keeps beeping once a minute, I think the battery is low.",
        "燃气报警器怎么接线？",
        "Do you sell a CO alarm for a caravan?",
        "My cat knocked the charger off the desk and the plug cracked.",
        "The pork crackling came out perfect in the new oven!",
    ],
)
def test_an_alarm_s_low_battery_a_product_and_crackling_pork_are_no_danger(text):
    assert _no_danger_now(text)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("再不解决我就发到小红书和抖音上，让大家都看看。", 4),
        ("We will be referring this to our legal department to recover the costs.", 5),
        ("I've passed this matter to our legal department.", 5),
    ],
)
def test_posting_it_for_everyone_to_see_and_a_legal_department_referral(text, level):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == level


def test_an_earlier_harm_chased_is_important_not_an_emergency():
    """The example mail labelled 4: the scald is what the customer chases an answer about."""
    text = (
        "I've had enough. Nobody from your company has answered me about the kettle that leaked "
        "boiling water onto my hand. I'm sending the photos to the local paper."
    )
    assert match_urgency_rules(text) == RuleHit(4, "local paper")
    assert _danger_now("The kettle leaked boiling water onto my hand this morning.")


def test_each_pattern_keyword_s_match_holds_one_of_its_needles():
    """A pattern keyword is searched only in a text holding one of its needles: every match in
    these texts holds one (a match without one would be skipped)."""
    texts = [
        "The boiling water went all down her leg.",
        "scalding tea over my son",
        "hot coffee over my hand",
        "我妈被蒸汽烫到手了",
        "电水壶的热水喷到手臂上",
        "手臂烫到起水泡",
        "I think the baby swallowed the button cell.",
        "孩子把纽扣电池放进嘴里",
        "she cut her fingers",
        "碎片把我女儿的脸划伤了",
        "划破了他的手",
        "My son sliced his fingers on the blade.",
        "The toaster just shot out a flame.",
        "a red, blistered patch on his leg",
        "His palm came up in blisters.",
        "We're on our way to the hospital.",
        "Water is pouring out of the washing machine into the fuse box.",
        "洗碗机漏水，水流到插座那边",
        "The slow cooker was pouring out thick grey smoke.",
        "The battery has swelled up.",
        "The power bank puffed up overnight.",
        "The gas won't turn off.",
        "I can't get the flame to go out.",
        "燃气灶关了以后火还是不灭",
        "There are two charges on my card I didn't make.",
        "Someone has got into our account on your portal.",
        "贵司的分销系统一直登不上去",
        "The confirmation email shows another customer's name and address.",
        "My account details were visible to someone else.",
        "订单确认邮件里是别人的姓名和地址",
        "我的个人资料被别人看到了",
        "Under my account there are orders that aren't mine.",
    ]
    for name, (needles, pattern) in PATTERN_KEYWORDS_RE.items():
        matches = [m.group() for t in texts for m in re.finditer(pattern, normalize_for_rules(t))]
        assert matches, name
        for match in matches:
            assert any(needle in match for needle in needles), (name, match)


# Twenty-first session: set 3's misses (used) and example mails written for tuning; held-out set 4
# (bench/urgency_danger_heldout_4.jsonl) is not quoted here.


@pytest.mark.parametrize(
    "text",
    [
        "The sandwich toaster shot out a flame when I opened it.",
        "My wife woke up with a blistered patch on her arm after using the heat pad.",
        "His hand came up in blisters where he touched the iron's plate.",
        "My daughter swallowed something from the toy and we're on our way to the hospital.",
        "We're rushing him to A&E now, the kettle base gave him a jolt.",
        "Water is leaking from the dishwasher onto the socket behind it.",
        "楼上漏水，水流进了电箱，灯一闪一闪的。",
        "The rice cooker is pouring out white smoke and the kitchen is full of it.",
        "There's thick black smoke coming from the back of the TV.",
        "The laptop battery has bulged and the case is cracking.",
        "The gas won't turn off at the knob, the burner is still lit.",
        "煤气灶的火关不掉，旋钮坏了。",
        "The whole hallway smells like gas since the boiler was fitted.",
        "I get a tingling shock every time I touch the fridge door.",
        "He slashed his thumb on the mandoline and there's blood everywhere.",
        "电风扇把孩子的手指夹伤了，一直在流血。",
        "個暖爐冒緊煙，好大陣燶味。",
        "She has burns on her face and we're in the emergency department.",
    ],
)
def test_dangers_told_in_everyday_words_are_danger(text):
    assert _danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "The paint on the oven door has blistered.",
        "Can you deliver to the hospital where I work? I'm on my way to a shift.",
        "The water is leaking from the hose onto the floor.",
        "There's no smoke, the fan just hums.",
        "The fan won't turn off with the remote.",
        "Does the laptop battery last a whole day?",
        "I smelled gas last year, but that was the old cooker.",
    ],
)
def test_the_new_patterns_leave_harmless_mail_alone(text):
    assert _no_danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "Is there a kettle with a lid that locks so the kids can't get scalded?",
        "I don't smell gas any more since the engineer came.",
        "The new kettle has a cool wall, so the kids never get burned.",
    ],
)
def test_a_verb_s_negation_before_a_danger_word_is_no_danger(text):
    assert _no_danger_now(text)


@pytest.mark.parametrize(
    ("text", "emergency"),
    [
        ("I work in A&E, so please deliver after 6pm.", False),
        ("My wife works nights; I work at the fire station myself, can you deliver Monday?", False),
        ("My father is a retired solicitor and asks if the descaler is safe for pipes.", False),
        ("我在律所上班，想给办公室买一台咖啡机。", False),
        ("我老公喺急症室做医生，想问雪柜几时送到。", False),
        ("We make ambulance equipment and need 20 kettles for the depot.", False),
        ("Sales of the new fan have really exploded this month!", False),
        ("The whole team is on fire about the new espresso machine, everyone loves it.", False),
        # a relative who advises, a visit to A&E: still emergencies
        ("My brother is a solicitor and says you are liable for the damage.", True),
        ("We're at A&E now, the toaster exploded.", True),
        ("我们现在在急诊，孩子被烫伤了。", True),
    ],
)
def test_jobs_trades_and_sales_that_explode_are_no_emergency(text, emergency):
    hit = match_urgency_rules(text)
    assert (hit is not None and hit.level == 5) == emergency, hit


@pytest.mark.parametrize(
    "text",
    [
        "万一炒菜时锅里的油着火了该怎么灭？",
        "如果充电器过热起火了，保修包括吗？",
        "In case the heater ever catches fire or starts smoking, what should I do first?",
        "请问家财险能不能赔电器起火的损失？我只是先了解一下。",
        "前几年我家热水器漏过电，所以这次想买带漏电保护的。",
        "I touched the pan and burned my finger a little - my own fault, nothing serious.",
        "我自己不小心被蒸汽烫了一下，没什么大碍，想问问盖子怎么拿。",
    ],
)
def test_supposed_harm_a_guard_and_a_minor_burn_are_no_danger(text):
    assert _no_danger_now(text)


@pytest.mark.parametrize(
    "text",
    [
        "如果现在还在冒烟，我该怎么办？",
        "Nothing serious yet, but the socket is sparking.",
        "热水器漏电了，我被电了一下。",
        "I burned my hand badly on the oven door and it's blistering.",
    ],
)
def test_harm_now_beside_a_supposing_or_minor_word_is_still_danger(text):
    assert _danger_now(text)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Someone has got into my account and ordered a TV to another address.", 5),
        ("There are three payments on my card I didn't make after I ordered from you.", 5),
        ("I see unauthorised charges from your shop on my statement.", 5),
        ("我们经销商后台从上午开始就登不进去，订单都下不了。", 5),
        ("If this isn't fixed I'm telling the local newspaper.", 4),
        ("Expect a one-star review on every review site I can find.", 4),
        ("说好给我回电，到现在没有人联系我。", 4),
        ("打咗三次电话都冇人覆。", 4),
        ("师傅说上午来，我请假白等了一天，太过分了。", 4),
    ],
)
def test_an_account_taken_over_a_partner_s_system_and_chasing(text, level):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == level and not is_danger(hit.keyword), hit


@pytest.mark.parametrize(
    "text",
    [
        "我的账号登不上去，密码是不是要重置？",
        "The payment went through but I didn't get an invoice.",
        "I logged into my account and can't find the order.",
    ],
)
def test_a_customer_s_own_login_and_payment_questions_are_no_emergency(text):
    hit = match_urgency_rules(text)
    assert hit is None or hit.level < 5, hit


def test_hostile_mail_of_100_kb_stays_fast():
    """100 kB of text built to make the rules retry (the new patterns' needles everywhere, the
    words they skip over, no ending; a danger word repeated with what cancels it and no full
    stop, which had each match's context read from the mail's start: 75 s for "万一着火") is
    matched in well under a second of CPU each (`SENTENCE_WINDOW`, `MAX_MATCHES_PER_KEYWORD`).

    The work is the regular expressions' (uncountable from Python): the slowest piece took 76 ms
    of CPU at load 17, so the bound of 5 s is 65 times that and 15 times below the old 75 s."""
    from tests.work import cpu_seconds

    pieces = [
        "万一着火",
        "去年着火",
        "in case of smoking ",
        "news said smoking ",
        "water leaking dripping into the ",
        "battery battery power bank is has ",
        "blister blisters on his ",
        "水水漏水流到流",
        "火火灶关还",
        "someone someone has got in ",
        "charges payments on my card i ",
        "sales of your orders have really ",
        "i work in the local ",
        "my husband is a retired ",
        "在在急诊急诊",
        "万一如果要是 in case what if ",
        "on our way driving rushing him to the ",
        "pouring out thick black grey smoke smoke ",
        "分销分销经销登",
    ]
    for piece in pieces:
        text = (piece * (100_000 // len(piece) + 1))[:100_000]
        assert cpu_seconds(match_urgency_rules, text) < 5.0, piece


def test_question_sentences_are_the_bounded_regex_matches() -> None:
    """The linear scan finds exactly what ``[^.!?。！？\\n]{1,200}[?？]`` finds."""
    import random
    import re

    from mailrouter.routing.urgency_rules import question_sentences

    reference = re.compile(r"[^.!?。！？\n]{1,200}[?？]")
    alphabet = "ab 怎么?？.!。\n"
    rng = random.Random(7)
    for _ in range(3000):
        length = rng.choice((0, 1, 5, 40, 199, 200, 201, 450))
        text = "".join(rng.choice(alphabet) for _ in range(length))
        if rng.random() < 0.3:
            text = "x" * rng.randint(150, 260) + text
        assert list(question_sentences(text)) == [m.group() for m in reference.finditer(text)]


def test_a_long_text_without_sentence_ends_is_read_in_linear_time() -> None:
    """20,000 characters with no full stop cost the regex 200 steps a character (59 ms).

    The work is inside str methods and a regular expression (uncountable from Python): 50
    readings take 3 ms of CPU at load 17 and took 3 s on the old path; the bound of 0.1 s is
    some 30 times from each."""
    from mailrouter.routing.urgency_rules import match_question
    from tests.work import cpu_seconds

    text = "how long " * 2222 + "?"
    assert cpu_seconds(lambda: [match_question(text) for _ in range(50)]) < 0.1


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # thirty-first session: a wait chased once, calmly ("could you check"), within a week or
        # so of the return is normal (the model decides); overdue, pressed or chased again it is
        # important. Written for this test, in none of the sets.
        (
            "Refund not received yet\nYou got the heater back last Monday. Could you check "
            "whether the refund went out?",
            None,
        ),
        ("退款还没到账\n退回的电暖器你们五天前签收了，麻烦查一下退款进度，谢谢。", None),
        ("退款還沒到帳，麻煩幫我查一下，謝謝。", None),  # Traditional
        ("退款还没到账，不着急，麻烦查一下就好。", None),  # "not in a hurry" is calm
        ("Refund not received yet. I already asked last week. Could you check?", 4),
        (
            "Refund not received yet. It has been three weeks since you got the heater back. "
            "Could you check?",
            4,
        ),
        ("Refund not received. Could you check? I need the money as soon as possible.", 4),
        ("退款还没到账，已经两个礼拜了，麻烦查一下。", 4),
        ("退款还没到账，我已经问过两次客服了，麻烦查一下。", 4),
        ("Refund not received. You promised it within 5 days, that was a month ago.", 4),
    ],
)
def test_money_awaited_and_checked_calmly_is_no_complaint(text, level):
    """A calm "Could you check?" a few days after the return asks; a wait overdue or pressed is
    important (the levels' convention in the README)."""
    hit = match_urgency_rules(text)
    assert (hit.level if hit else None) == level, hit


@pytest.mark.parametrize(
    "text",
    [
        # thirty-first session: a personal-data breach told calmly, without "data leak": the
        # privacy rules make it at least important, and the sets label it 5 like "data leak"
        "The confirmation email I got today shows another customer's name, address and phone number.",  # noqa: E501
        "When I logged in, the app displayed a different person's order details and home address.",
        "My account details were visible to someone else: my neighbour logged in and saw my orders.",  # noqa: E501
        "I can see other customers' names and addresses in the order history of my account.",
        "我收到的订单确认邮件里是别人的姓名、地址和手机号。",
        "登录以后看到的是其他客户的个人信息和订单信息。",
        "我的個人資料被別人看到了，他登入後顯示的是我的地址。",  # Traditional
        # thirty-fourth session (set 17 line 40): the app named in one clause, the others' data
        # in a later one of the same sentence; orders not the customer's in their account
        "我今天打开你们的App，在“我的订单”里出现了好几个不是我的订单，里面有别人的姓名、电话和详细地址。",
        "今天登入你們的網站，會員頁面裡多了幾筆不是我的訂單，裡面有其他人的姓名和電話。",
        "I opened your app today and under My orders there are several orders that aren't mine, with names and phone numbers.",  # noqa: E501
        "My account page lists three orders that are not mine, with other people's addresses.",
    ],
)
def test_a_personal_data_breach_told_calmly_is_an_emergency(text):
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5, hit
    assert not is_danger(hit.keyword)


@pytest.mark.parametrize(
    "text",
    [
        # a parcel misdelivered is a delivery problem, not data shown by us
        "I received someone else's parcel, it has another customer's address on the label.",
        "快递送错了，我收到的是别人的快递，上面是别人的地址。",
        # a question whether it could happen, and a customer's own data asked for
        "Could someone else see my details if I use a shared computer?",
        "Please send me a copy of my personal data.",
        "请问别人能看到我的订单信息吗？",
        # data given to someone else on purpose
        "Please send the invoice to another person's address: my office manager's.",
        # thirty-fourth session: an order sent to someone else's address, a parcel not ours
        "我的订单寄到了别人的地址，麻烦帮我改一下，App里显示已签收。",
        "App显示已签收，可是快递员说是别人签的，包裹不是我的地址。",
        "The app says my order was delivered, but the parcel on my step is not mine.",
    ],
)
def test_other_mail_about_someone_else_s_details_is_no_breach(text):
    hit = match_urgency_rules(text)
    assert hit is None or hit.level < 5, hit


# Thirty-fourth session (set 11 line 14): a floor, wall or door swollen by water is damage to
# the home (important, 4, with a claim), not a lithium battery about to burn (5).
@pytest.mark.parametrize(
    "text",
    [
        "洗碗机昨晚漏水，实木地板鼓起来一大片，要求赔偿地板损失。",
        "洗衣機漏水，牆皮都鼓起來了，請派人來看。",  # Traditional
        "The dishwasher leaked overnight and the laminate floor has swollen up near the sink.",
    ],
)
def test_a_floor_swollen_by_water_is_no_battery_fire(text) -> None:
    hit = match_urgency_rules(text)
    assert hit is None or hit.level < 5, hit


@pytest.mark.parametrize(
    "text",
    [
        "充电宝鼓包了，摸起来很烫。",
        "電池那邊整個鼓起來了。",
        "The battery pack has swollen up and the case cracked.",
    ],
)
def test_a_swollen_battery_is_still_an_emergency(text) -> None:
    hit = match_urgency_rules(text)
    assert hit is not None and hit.level == 5, hit
