"""Reports: figures, valid SVG charts, CSV export, the live dashboard."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from flask_babel import force_locale

from faq.models import Article, Category
from support.core.db import utcnow
from support.core.web import duration
from support.staff.reports import Period, _time_chart, build_report, percentile
from tests.factories import department, make_ticket, make_user
from tests.support.staff_helpers import login

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def history(app, session):
    """Tickets of the last days in Customer Service and Sales with known figures."""
    now = utcnow()
    day = timedelta(days=1)
    for seconds, late in ((600, False), (1200, False), (3600, False), (7200, True)):
        created = now - 3 * day
        make_ticket(
            session,
            urgency=4,
            created_at=created,
            status="resolved",
            first_response_at=created + timedelta(seconds=seconds),
            first_response_seconds=seconds,
            first_response_due_at=created + timedelta(seconds=7000 if late else 9000),
        )
    make_ticket(
        session,
        department_code="sales",
        urgency=5,
        created_at=now - 2 * day,
        first_response_at=now - 2 * day + timedelta(hours=5),
        first_response_seconds=18000,
        first_response_due_at=now - 2 * day + timedelta(hours=1),
    )
    for age in (timedelta(hours=2), 2 * day, 10 * day):
        make_ticket(session, created_at=now - age, status="open")
    category = Category(slug="c", name_en="C")
    article = Article(slug="a", category=category, question="Q?", answer_md="A.")
    session.add_all([category, article])
    session.flush()
    make_ticket(session, created_at=now - day, status="resolved", resolved_by_article_id=article.id)
    for rating in (5, 4):
        make_ticket(
            session,
            created_at=now - day,
            status="resolved",
            satisfaction_rating=rating,
            satisfaction_at=now - timedelta(hours=3),
        )
    session.commit()
    return now


def test_percentiles() -> None:
    assert percentile([], 50) is None
    assert percentile([600, 1200, 3600, 7200], 50) == 2400
    assert percentile([600, 1200, 3600, 7200], 90) == pytest.approx(6120)
    assert percentile([5], 90) == 5


def test_figures(app, session, history) -> None:
    departments = [department(session, "sales"), department(session, "service")]
    period = Period.from_dates(None, None, ZONE, history.astimezone(ZONE).date())
    report = build_report(session, departments, period, history)
    service_all = next(
        r for r in report.first_response if r.department == "Customer Service" and r.urgency is None
    )
    assert (service_all.answered, service_all.within_target) == (4, 3)
    assert service_all.share_within == 0.75
    assert service_all.median_seconds == 2400
    assert service_all.p90_seconds == pytest.approx(6120)
    sales_5 = next(r for r in report.first_response if r.department == "Sales" and r.urgency == 5)
    assert (sales_5.answered, sales_5.within_target) == (1, 0)
    # open: 2 h, 2 days, 10 days old (plus none in Sales)
    assert report.backlog["Customer Service"] == [1, 1, 0, 1, 0]
    assert sum(report.volume_by_department["Customer Service"]) == 10
    assert sum(report.volume_by_urgency["4"]) == 4
    assert report.satisfaction["Customer Service"] == {5: 1, 4: 1}
    assert report.deflection["Customer Service"] == (10, 1)


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def test_report_page_draws_valid_svg_charts(app, session, client, history) -> None:
    make_user(session, email="lead@example.com", role="lead", departments=("service", "sales"))
    session.commit()
    login(client, "lead@example.com")
    page = client.get("/staff/reports")
    assert page.status_code == 200
    charts = _svgs(page.get_data(as_text=True))
    assert len(charts) == 8
    assert all(svg.get("role") == "img" for svg in charts)
    titles = [svg.find("{http://www.w3.org/2000/svg}title").text for svg in charts]
    assert "First responses within target" in titles and "Open tickets by age" in titles
    legend = page.get_data(as_text=True).split("New tickets by urgency")[1].split("</svg>")[0]
    assert "5 · Emergency" in legend and "1 · Suggestion or praise" in legend  # named levels
    table = page.get_data(as_text=True).split('class="stats"')[1].split("</table>")[0]
    assert "<td>4 · Important</td>" in table and "<td>5 · Emergency</td>" in table
    one_department = client.get("/staff/reports?department=sales&start=2000-01-01")
    assert one_department.status_code == 200
    assert client.get("/staff/reports?department=hr").status_code == 404  # not the lead's
    chinese = client.get("/staff/reports?lang=zh").get_data(as_text=True)
    assert "实时数据：<a" in chinese  # the Chinese colon, no space after it


def test_faq_deflection_says_so_until_a_ticket_is_resolved_by_an_article(
    app, session, client
) -> None:
    # Tickets, none resolved by an FAQ article: bars of 0 % on an empty 0-1 % axis before.
    make_user(session, email="lead@example.com", role="lead")
    make_ticket(session, subject="Kettle")
    session.commit()
    login(client, "lead@example.com")
    section = client.get("/staff/reports").get_data(as_text=True).split('id="defl-title"')[1]
    chart = section.split("</svg>", 1)[0]
    assert "chart-empty" in chart and "No ticket resolved by an FAQ article yet" in chart
    client.set_cookie("lang", "zh")
    section = client.get("/staff/reports").get_data(as_text=True).split('id="defl-title"')[1]
    assert "暂无数据：还没有工单由常见问题文章解决" in section.split("</svg>", 1)[0]


def test_the_report_lists_what_customers_wrote_with_their_rating(app, session, client) -> None:
    """A lead reads the comments of the period's ratings, the lowest first, each linked to its
    ticket (they were stored and shown nowhere); a rating without words is not listed."""
    now = utcnow()
    for rating, comment in ((4, "Friendly, but slow."), (1, "Nobody called back."), (5, None)):
        make_ticket(
            session,
            status="resolved",
            satisfaction_rating=rating,
            satisfaction_comment=comment,
            satisfaction_at=now - timedelta(hours=2),
        )
    make_ticket(
        session,
        department_code="sales",
        status="resolved",
        satisfaction_rating=2,
        satisfaction_comment="Sales were rude.",
        satisfaction_at=now - timedelta(hours=2),
    )
    make_user(session, email="lead@example.com", role="lead", departments=("service",))
    session.commit()
    login(client, "lead@example.com")
    page = client.get("/staff/reports?lang=en").get_data(as_text=True)
    section = page.split('id="sat-title"')[1].split("</section>")[0]
    assert section.index("Nobody called back.") < section.index("Friendly, but slow.")
    assert "Rated 1 out of 5" in section and "/staff/tickets/" in section
    assert "Sales were rude." not in section  # not this lead's department


def test_csv_export(app, session, client, history) -> None:
    make_user(session, email="lead@example.com", role="lead")
    department(session, "service").name = '=HYPERLINK("http://evil")'
    session.commit()
    login(client, "lead@example.com")
    response = client.get("/staff/reports/first_response.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["department", "urgency", "answered", "within_target"]
    overall = next(r for r in rows[1:] if r[1] == "all")
    assert overall[0].startswith("'=")  # a formula would run in a spreadsheet
    assert overall[2:5] == ["4", "3", "0.75"]
    for section in ("backlog", "volume", "satisfaction", "deflection"):
        assert client.get(f"/staff/reports/{section}.csv").status_code == 200
    assert client.get("/staff/reports/passwords.csv").status_code == 404


def test_dashboard_counts_right_now(app, session, client) -> None:
    from support.desk.sla import start_clock

    make_user(session, email="lead@example.com", role="lead", departments=("service", "sales"))
    now = utcnow()
    for minutes in (5, 50, 120):
        ticket = make_ticket(
            session, urgency=5, subject=f"m{minutes}", created_at=now - timedelta(minutes=minutes)
        )
        start_clock(ticket, app.config, now=ticket.created_at)
    session.commit()
    login(client, "lead@example.com")
    html = client.get("/staff/dashboard").get_data(as_text=True)
    row = html.split("Customer Service</a></th>")[1].split("</tr>")[0]
    assert re.findall(r">(\d+)<", row) == ["3", "1", "1"]
    assert "m120" in html.split("Breached right now")[1]
    # The count links say what they count to a screen reader's list of links, not "1".
    assert 'aria-label="Customer Service · Due soon: 1">1</a>' in row
    assert 'aria-label="Customer Service · Breached: 1">1</a>' in row
    # Nothing to count is a plain 0: a red, underlined "0" read as an alarm.
    sales = html.split("Sales</a></th>")[1].split("</tr>")[0]
    assert re.findall(r">(\d+)<", sales) == ["0", "0", "0"]
    assert "sla-breached" not in sales and "sla-due_soon" not in sales


def test_report_command(app, session, database_url, tmp_path, history) -> None:
    from support.cli import cli

    instance = tmp_path / "cli"
    instance.mkdir()
    (instance / "config.toml").write_text(
        f'secret_key = "cli-test-secret"\ndatabase_url = "{database_url}"\n'
    )
    result = CliRunner().invoke(
        cli,
        ["--instance", str(instance), "report", "--section", "backlog", "--department", "service"],
    )
    assert result.exit_code == 0, result.output
    assert "Customer Service,1,1,0,1,0" in result.output


def test_report_page_speaks_chinese(app, session, client, history) -> None:
    make_user(session, email="lead@example.com", role="lead", departments=("service", "sales"))
    session.commit()
    login(client, "lead@example.com")
    client.set_cookie("lang", "zh")
    page = client.get("/staff/reports").get_data(as_text=True)
    assert re.search(r"<label[^>]*>至</label>", page)  # a date range's "to", not 收件人
    assert "不到 1 天" in page and "&lt; 1 day" not in page  # backlog buckets
    # What a screen reader reads of a stacked chart: "(合计 3)", not "(total 3)".
    assert "(合计 " in page and "(total " not in page
    # Hours as a Chinese reader writes them: "0.67 小时", not "0.67 h".
    assert re.search(r">[\d.]+ 小时<", page) and not re.search(r">[\d.]+ h<", page)
    backlog = client.get("/staff/reports/backlog.csv").get_data(as_text=True)
    assert "< 1 day" in backlog  # the CSV keeps stable English column names


@pytest.mark.parametrize(
    ("first", "last"),
    [("9999-12-31", "0001-01-01"), ("0001-01-01", "9999-12-31"), ("9999-12-31", None)],
)
def test_far_and_reversed_dates_make_a_period_up_to_today(first, last) -> None:
    from datetime import date

    today = date(2026, 12, 4)
    period = Period.from_dates(
        date.fromisoformat(first), last and date.fromisoformat(last), ZONE, today
    )
    assert period.first_day <= period.last_day <= today


def test_response_times_read_as_minutes_and_hours(app, session, client, history) -> None:
    # The table said "0.67" and "1.7" under "Median (h)" and the charts "0.67 h": a lead had
    # to work out 40 minutes.
    make_user(session, email="lead@example.com", role="lead", departments=("service", "sales"))
    session.commit()
    login(client, "lead@example.com")
    for lang, median, p90, sales in (
        ("en", "40 min", "1 h 42 min", "5 h"),
        ("zh", "40 分钟", "1 小时 42 分钟", "5 小时"),
    ):
        page = client.get(f"/staff/reports?lang={lang}").get_data(as_text=True)
        table = page.split('id="fr-title"')[1].split("</table>")[0]
        rows = table.split("</svg>")[-1]
        assert f'<td class="num">{median}</td>' in rows and f'<td class="num">{p90}</td>' in rows
        assert f'<td class="num">{sales}</td>' in rows
        charts = table.split('<table class="stats">')[0]
        assert f">{median}</text>" in charts and f">{sales}</text>" in charts
        assert "0.67" not in table


@pytest.mark.parametrize(
    ("seconds", "english", "chinese"),
    [
        (20, "under 1 min", "不到 1 分钟"),
        (1080, "18 min", "18 分钟"),
        (3600, "1 h", "1 小时"),
        (5400, "1 h 30 min", "1 小时 30 分钟"),
        (2 * 86400, "2 d", "2 天"),
        (2 * 86400 + 4 * 3600 + 59, "2 d 4 h", "2 天 4 小时"),
    ],
)
def test_durations_as_people_say_them(app, seconds, english, chinese) -> None:
    with app.test_request_context("/"):
        with force_locale("en"):
            assert duration(seconds) == english
        with force_locale("zh_Hans"):
            assert duration(seconds) == chinese


def test_a_response_chart_under_an_hour_has_its_axis_in_minutes(app) -> None:
    # Two-minute medians drew an axis of 0.01-0.04 "h" under bars reading "2 min".
    with app.test_request_context("/staff/reports?lang=en"):
        quick = str(_time_chart("Median first response time", ["Sales", "Service"], [120, 90]))
        slow = str(_time_chart("Median first response time", ["Sales", "Service"], [5400, 120]))
    assert ">min</text>" in quick and ">h</text>" not in quick
    assert ">0.02</text>" not in quick and ">2</text>" in quick  # the axis reaches 2 (minutes)
    assert ">2 min</text>" in quick
    assert ">h</text>" in slow and ">1 h 30 min</text>" in slow
