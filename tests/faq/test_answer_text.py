"""An answer's Markdown as plain text: in search snippets and auto-reply excerpts (one line),
and dropped into a staff reply (a mail: paragraphs, list lines and the links' addresses)."""

from __future__ import annotations

from faq.search import markdown_to_mail_text, markdown_to_text

ENGLISH = (
    "Fill the kettle with **equal parts water and white vinegar**, boil it,\n"
    "and leave it for an hour.\n\n"
    "- Rinse it three times\n"
    "- Boil clean water once and pour it away\n\n"
    "See [our care guide](https://acme-kettles.com/care)."
)
CHINESE = (
    "在水壶里倒入**一半清水一半白醋**，烧开后静置一小时。\n\n"
    "- 用清水冲洗三遍\n"
    "- 再烧一壶清水倒掉\n\n"
    "详见[保养指南](https://acme-kettles.com/care)"
)


def test_a_snippet_ends_each_list_item_as_a_sentence() -> None:
    # Seen on the search page and in the auto-reply: "Rinse it three times Boil clean water
    # once and pour it away See our care guide." A wrapped line is no sentence end.
    assert markdown_to_text(ENGLISH) == (
        "Fill the kettle with equal parts water and white vinegar, boil it, and leave it for "
        "an hour. Rinse it three times. Boil clean water once and pour it away. "
        "See our care guide."
    )
    assert markdown_to_text(CHINESE) == (
        "在水壶里倒入一半清水一半白醋，烧开后静置一小时。用清水冲洗三遍。再烧一壶清水倒掉。详见保养指南"
    )
    assert markdown_to_text("# Returns\n\nWithin 30 days: yes!") == "Returns. Within 30 days: yes!"
    assert markdown_to_text("Steps:\n1. Open it\n2. Close it") == "Steps: Open it. Close it"


def test_an_answer_dropped_into_a_reply_keeps_its_paragraphs_lists_and_links() -> None:
    # "Insert an FAQ answer" gave one run-on paragraph and "See our care guide." with the
    # guide's address gone: the customer had nothing to click.
    assert markdown_to_mail_text(ENGLISH) == (
        "Fill the kettle with equal parts water and white vinegar, boil it,\n"
        "and leave it for an hour.\n\n"
        "- Rinse it three times\n"
        "- Boil clean water once and pour it away\n\n"
        "See our care guide (https://acme-kettles.com/care)."
    )
    assert markdown_to_mail_text(CHINESE).endswith(
        "- 再烧一壶清水倒掉\n\n详见保养指南（https://acme-kettles.com/care）"
    )
    assert markdown_to_mail_text("1. Open\n2. Close\n\n<https://a.example/x>") == (
        "1. Open\n2. Close\n\nhttps://a.example/x"
    )
    assert markdown_to_mail_text("<b>not html</b> and `code`") == "<b>not html</b> and code"
