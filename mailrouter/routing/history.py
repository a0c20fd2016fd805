"""What a company's own labelled history says: its priority words, and which keyword rules it
contradicts.

Imported histories name priorities in their own words ("high", "P2", "紧急"); the setting
CLASSIFIER_PRIORITY_WORDS maps them to the five urgency levels (DEFAULT_PRIORITY_WORDS below:
3 "special problem" is never a default target, since it also moves the ticket to the
specialist department, and 1 selects the "thanks" reply template where a department has none).

The keyword rules (`urgency_rules`) were written for the shipped examples. `rule_report`
counts, per keyword, how often it fired on the history's mails and the share whose level the
history agrees with; a keyword that fired at least RULE_MIN_FIRED times with an agreement
below CLASSIFIER_RULE_MIN_AGREEMENT is *overruled*: the model, which learnt the history,
decides those mails. "Agrees" is read on the history's own scale: a level-5 rule agrees with
a history that never uses 5 when the mail has the history's highest level.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mailrouter.routing.features import mail_text
from mailrouter.routing.labels import Example
from mailrouter.routing.urgency_rules import match_urgency_rules

# fmt: off
DEFAULT_PRIORITY_WORDS: dict[str, int] = {
    "lowest": 1, "low": 1, "minor": 1, "trivial": 1, "p4": 1, "p5": 1,
    "normal": 2, "medium": 2, "moderate": 2, "standard": 2, "p3": 2,
    "high": 4, "major": 4, "important": 4, "p2": 4,
    "urgent": 5, "critical": 5, "blocker": 5, "emergency": 5, "highest": 5, "p1": 5, "p0": 5,
    "低": 1, "较低": 1, "中": 2, "一般": 2, "普通": 2, "高": 4, "较高": 4, "重要": 4,
    "紧急": 5, "非常紧急": 5, "严重": 5,
}
# fmt: on
RULE_MIN_FIRED = 5


def priority_level(raw: str, words: Mapping[str, int] | None = None) -> int | None:
    """Urgency 1-5 of an imported priority: a digit 1-5, or a word of ``words`` (any case)."""
    value = raw.strip()
    if value.isdigit():
        return int(value) if 1 <= int(value) <= 5 else None
    mapping = DEFAULT_PRIORITY_WORDS if words is None else words
    folded = {str(k).strip().casefold(): int(v) for k, v in mapping.items()}
    level = folded.get(value.casefold())
    return level if level is not None and 1 <= level <= 5 else None


def _on_history_scale(level: int, used: Sequence[int]) -> int:
    """The level of the history nearest to a rule's level (ties go up)."""
    return min(used, key=lambda u: (abs(u - level), -u))


def rule_report(
    examples: Iterable[Example],
    rules: Mapping[int, Iterable[str]],
    *,
    min_agreement: float,
    disabled: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """Per keyword that fired on ``examples``: its level, how often it fired, the share of
    those mails whose history level agrees, and whether it is overruled or switched off."""
    examples = list(examples)
    used = sorted({int(e.urgency) for e in examples})
    switched_off = set(disabled)
    report: dict[str, dict[str, Any]] = {}
    for example in examples:
        hit = match_urgency_rules(mail_text(example.subject, example.body), rules)
        if hit is None:
            continue
        row = report.setdefault(hit.keyword, {"level": hit.level, "fired": 0, "agreed": 0})
        row["fired"] += 1
        row["agreed"] += int(example.urgency) == _on_history_scale(hit.level, used)
    for keyword, row in report.items():
        row["agreement"] = round(row["agreed"] / row["fired"], 4)
        row["overruled"] = row["fired"] >= RULE_MIN_FIRED and row["agreement"] < min_agreement
        row["switched_off"] = keyword in switched_off
    return dict(sorted(report.items(), key=lambda item: (-item[1]["fired"], item[0])))


def overruled(report: Mapping[str, Mapping[str, Any]]) -> frozenset[str]:
    return frozenset(k for k, row in report.items() if row.get("overruled"))


def format_rule_report(report: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The report as text lines for `support train`."""
    if not report:
        return ["urgency keywords: none fired on the history"]
    lines = ["urgency keywords on the history (keyword, level, fired, history agreed):"]
    for keyword, row in report.items():
        state = (
            "switched off"
            if row.get("switched_off")
            else "overruled by the history: the model decides"
            if row.get("overruled")
            else ""
        )
        lines.append(
            f"  {keyword}: level {row['level']}, {row['fired']}, {row['agreement']:.0%}"
            + (f" ({state})" if state else "")
        )
    return lines
