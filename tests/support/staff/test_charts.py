"""SVG charts: well-formed, accessible, escaped, and honest about their numbers."""

import xml.etree.ElementTree as ET

import pytest
from jinja2 import Environment
from markupsafe import Markup

from support.staff.charts import bar_chart, line_chart, stacked_bar_chart

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & Co\'s'


def parse(markup: Markup) -> ET.Element:
    assert isinstance(markup, Markup)
    return ET.fromstring(str(markup))


def bars(root: ET.Element) -> list[ET.Element]:
    """Data rectangles: the ones that carry a tooltip title."""
    return [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def assert_accessible(root: ET.Element, title: str) -> None:
    assert root.get("role") == "img"
    assert root.get("width") == "100%" and root.get("viewBox", "").startswith("0 0 ")
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == title
    assert root.find(f"{SVG}desc").get("id") == desc_id


def test_bar_chart_is_valid_accessible_svg_with_values() -> None:
    root = parse(bar_chart("Tickets per department", ["Sales", "支持部"], [12, 30.5], unit="h"))
    assert_accessible(root, "Tickets per department")
    assert root.find(f"{SVG}desc").text == "Sales: 12 h; 支持部: 30.5 h"
    assert {"12 h", "30.5 h", "Sales", "支持部"} <= set(texts(root))
    small, large = bars(root)
    assert float(large.get("height")) / float(small.get("height")) == pytest.approx(30.5 / 12, 0.02)
    assert small.find(f"{SVG}title").text == "Sales: 12 h"


def test_axis_ticks_cover_the_data() -> None:
    tick_labels = texts(parse(bar_chart("Load", ["a", "b"], [3, 47])))
    assert "0" in tick_labels and "50" in tick_labels


def test_a_bounded_scale_reaches_its_top() -> None:
    """An average rating of 2 on a 1-5 scale fills two fifths of the height, not all of it."""
    root = parse(bar_chart("Average satisfaction (1-5)", ["Service"], [2], scale_max=5))
    assert "5" in texts(root)
    [bar] = bars(root)
    plain = parse(bar_chart("Average satisfaction (1-5)", ["Service"], [2]))
    [full] = bars(plain)
    assert float(bar.get("height")) == pytest.approx(float(full.get("height")) * 2 / 5, 0.02)


def test_labels_and_title_are_escaped() -> None:
    for markup in (
        bar_chart(HOSTILE, [HOSTILE], [1]),
        stacked_bar_chart(HOSTILE, [HOSTILE], {HOSTILE: [1]}),
        line_chart(HOSTILE, [HOSTILE], {HOSTILE: [1]}),
    ):
        assert "<script" not in markup
        root = parse(markup)
        assert root.find(f"{SVG}title").text == HOSTILE
        assert HOSTILE in root.find(f"{SVG}desc").text


def test_control_characters_in_labels_do_not_break_the_xml() -> None:
    root = parse(bar_chart("Depts", ["Sales\x00\x1b"], [2]))
    assert "Sales" in texts(root)


def test_charts_embed_in_autoescaped_templates_without_double_escaping() -> None:
    template = Environment(autoescape=True).from_string("<figure>{{ chart }}</figure>")
    html = template.render(chart=bar_chart("A & B", ["x"], [1]))
    assert html.startswith("<figure><svg ") and "A &amp; B" in html and "&amp;amp;" not in html


@pytest.mark.parametrize(
    "markup",
    [
        bar_chart("Nothing yet", [], []),
        bar_chart("Nothing yet", ["a", "b"], [None, None]),
        stacked_bar_chart("Nothing yet", [], {}),
        stacked_bar_chart("Nothing yet", ["Mon"], {}),
        line_chart("Nothing yet", ["W1", "W2"], {"Sales": [None, float("nan")]}),
        line_chart("Nothing yet", [], {}),
    ],
)
def test_empty_data_renders_a_no_data_chart(markup: Markup) -> None:
    root = parse(markup)
    assert_accessible(root, "Nothing yet")
    assert root.find(f"{SVG}desc").text == "No data"
    assert "No data" in texts(root)
    assert bars(root) == [] and list(root.iter(f"{SVG}circle")) == []


def test_empty_text_can_be_translated() -> None:
    root = parse(bar_chart("工单", [], [], empty_text="暂无数据"))
    assert "暂无数据" in texts(root)


def test_counts_get_whole_number_ticks() -> None:
    # 12 open tickets had an axis 0, 2.5, ... 12.5; one ticket an axis 0, 0.2, ... 1.
    twelve = texts(parse(stacked_bar_chart("Open", ["<1 day"], {"Sales": [7], "Service": [5]})))
    assert "12.5" not in twelve and "2.5" not in twelve and "15" in twelve
    one = texts(parse(bar_chart("New", ["Sales"], [1])))
    assert "0.2" not in one and "1" in one
    hours = texts(parse(bar_chart("Median", ["Sales"], [0.03], unit="h")))
    assert "0.01" in hours  # fractions keep fractional ticks


def test_zero_values_are_data_not_an_empty_chart() -> None:
    root = parse(bar_chart("Breaches", ["Sales", "Support"], [0, 0]))
    assert "No data" not in texts(root)
    assert root.find(f"{SVG}desc").text == "Sales: 0; Support: 0"


def test_stacked_bar_chart_segments_totals_and_legend() -> None:
    root = parse(
        stacked_bar_chart(
            "Tickets by status",
            ["Mon", "Tue"],
            {"Open": [3, 0], "Waiting on customer": [1, 2], "Closed": [4, None]},
        )
    )
    assert_accessible(root, "Tickets by status")
    desc = root.find(f"{SVG}desc").text
    assert "Mon: Open 3, Waiting on customer 1, Closed 4 (total 8)" in desc
    assert "Tue: Open 0, Waiting on customer 2 (total 2)" in desc
    assert len(bars(root)) == 4  # zero and missing values draw no segment
    assert {"8", "2", "Open", "Waiting on customer", "Closed"} <= set(texts(root))  # totals, legend
    fills = {rect.get("fill") for rect in bars(root)}
    assert len(fills) == 3  # one colour per series


def test_line_chart_breaks_lines_at_missing_values() -> None:
    root = parse(
        line_chart(
            "Median first reply",
            ["W1", "W2", "W3", "W4"],
            {"Sales": [3, None, 5, 4.5], "Support": [-1, 2, 2, 8]},
            unit="h",
        )
    )
    assert_accessible(root, "Median first reply")
    assert root.find(f"{SVG}desc").text == (
        "Sales: W1 3 h, W3 5 h, W4 4.5 h; Support: W1 -1 h, W2 2 h, W3 2 h, W4 8 h"
    )
    assert len(list(root.iter(f"{SVG}circle"))) == 7
    lines = list(root.iter(f"{SVG}polyline"))
    assert [len(line.get("points").split()) for line in lines] == [2, 4]
    assert lines[0].get("stroke-dasharray") is None and lines[1].get("stroke-dasharray")
    assert "-2" in texts(root)  # the axis extends below zero for the negative value


def test_many_labels_are_thinned_and_long_labels_shortened() -> None:
    labels = [f"2026-03-{day:02}" for day in range(1, 31)]
    root = parse(bar_chart("Daily", labels, list(range(30))))
    shown = [text for text in texts(root) if text.startswith("2026-")]
    assert 3 <= len(shown) < 30
    long = parse(bar_chart("Depts", ["A department name far too long for its slot"] * 12, [1] * 12))
    shortened = [node for node in long.iter(f"{SVG}text") if (node.text or "").endswith("…")]
    assert shortened  # the full label stays available as a tooltip
    assert shortened[0].find(f"{SVG}title").text == "A department name far too long for its slot"


def test_two_charts_on_a_page_have_distinct_ids() -> None:
    first = parse(bar_chart("Week 1", ["a"], [1]))
    second = parse(bar_chart("Week 2", ["a"], [1]))
    assert first.get("aria-labelledby") != second.get("aria-labelledby")


def test_mismatched_data_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        bar_chart("x", ["a", "b", "c"], [1, 2])
    with pytest.raises(ValueError, match="must not be negative"):
        stacked_bar_chart("x", ["a"], {"s": [-1]})


def test_department_names_too_wide_for_their_slot_wrap_instead_of_being_hidden() -> None:
    # Five departments, one with data: thinning to every other label left Finance's bar unnamed.
    names = ["Customer Service", "Finance", "Human Resources", "Public Relations", "Sales"]
    root = parse(bar_chart("Within target", names, [None, 100, None, None, None], unit="%"))

    def label(node: ET.Element) -> str:  # a wrapped label: its lines, one per tspan
        lines = [tspan.text or "" for tspan in node.findall(f"{SVG}tspan")]
        return " ".join(lines) if lines else "".join(node.itertext())

    labels = [label(node) for node in root.iter(f"{SVG}text") if label(node) in names]
    assert labels == names
    wrapped = [node for node in root.iter(f"{SVG}text") if node.find(f"{SVG}tspan") is not None]
    assert wrapped and all(len(node.findall(f"{SVG}tspan")) == 2 for node in wrapped)
    assert float(root.get("viewBox").split()[3]) > float(
        parse(bar_chart("Within target", ["a", "b"], [1, 2], unit="%")).get("viewBox").split()[3]
    )  # room for the second line


def test_small_values_keep_distinct_tick_labels() -> None:
    # A median first response of 72 s is 0.02 h: its axis read 0, 0.01, 0.01, 0.01, 0.02.
    tick_labels = texts(parse(bar_chart("Median first response time", ["Service"], [0.02])))
    assert ["0", "0.005", "0.01", "0.015", "0.02"] == [
        label for label in tick_labels if label[:1].isdigit()
    ][:5]


@pytest.mark.parametrize("unit", ["分钟", "min", "h", "%"])
def test_the_unit_over_the_value_axis_stays_inside_the_picture(unit: str) -> None:
    """Anchored at its end beside one-digit ticks, "分钟" began left of the picture and showed
    as half a character on the reports page."""
    root = parse(bar_chart("首次回复时间中位数", ["客户服务部", "财务部"], [4.2, None], unit=unit))
    ns = "{http://www.w3.org/2000/svg}"
    (label,) = [t for t in root.iter(f"{ns}text") if (t.text or "") == unit]
    x = float(label.get("x"))
    wide = sum(1.0 if ord(c) > 0x2E80 else 0.58 for c in unit) * 11  # as charts._text_width
    start = {"start": x, "middle": x - wide / 2, "end": x - wide}[label.get("text-anchor", "start")]
    assert start >= 0
