"""Report pages, charts and CSV exports for leadership."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from conduct.audit.models import AuditEvent
from conduct.core.db import db, unit_of_work
from tests.factories import make_case


@pytest.fixture
def seeded(app):
    """MINUSCA: 9 sexual abuse reports in 2025, 2 sexual exploitation (hidden), 6 in 2024."""
    with app.app_context(), unit_of_work():
        for _ in range(9):
            make_case(mission="MINUSCA", received_on=date(2025, 4, 2))
        for _ in range(2):
            make_case(
                mission="MINUSCA",
                received_on=date(2025, 5, 2),
                category="sexual_exploitation",
                allegation_type="transactional_sex",
            )
        for _ in range(6):
            make_case(mission="MONUSCO", received_on=date(2024, 5, 2))


@pytest.fixture
def leader(app, user_factory, api_login):
    user_id, _ = user_factory(roles=("leadership",), missions=())
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    return client


def _events(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_the_statistics_page_lists_every_table(leader):
    page = leader.get("/reports/").get_data(as_text=True)
    for table in ("allegations", "victims", "subjects", "timeliness"):
        assert f"/reports/{table}" in page


def test_a_table_page_shows_a_chart_of_our_own_and_an_accessible_table(app, leader, seeded):
    response = leader.get("/reports/allegations?by=category&year=2025")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<img src="/reports/allegations/chart.svg?by=category&amp;year=2025"' in page
    assert "<caption>" in page and '<th scope="row">Sexual abuse</th>' in page
    answer = leader.get("/api/v1/reports/allegations?by=category&year=2025").get_json()
    shown = [row for row in answer["rows"] if not row["suppressed"]]
    assert any(row["category"] == "other_misconduct" for row in shown)
    for row in shown:
        assert f'<td class="number">{row["count"]}</td>' in page
    assert '<span class="hidden-cell" title="suppressed">hidden</span>' in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    events = [e.fields for e in _events(app, "report.view")]
    assert events == ["allegations,category,filter.year"] * 2, "the page and the API answer"


def test_the_chart_is_svg_without_script_and_hides_suppressed_cells(app, leader, seeded):
    response = leader.get("/reports/allegations/chart.svg?by=category&year=2025")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert "<script" not in svg and "Sexual abuse" in svg
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    events = _events(app, "report.view")
    assert [e.fields for e in events] == ["allegations,category,chart,filter.year"]


def test_csv_export_is_audited_and_leaves_suppressed_counts_empty(app, leader, seeded):
    response = leader.get("/reports/allegations/export.csv?by=mission,category")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "allegations-mission-category.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["mission", "category", "count", "suppressed"]
    cells = {(r[0], r[1]): (r[2], r[3]) for r in rows[1:-1]}
    assert cells[("MINUSCA", "sexual_exploitation")] == ("", "yes")
    assert cells[("UNMIL", "sexual_abuse")] == ("0", "no")
    assert rows[-1][0] == "total" and rows[-1][2] == "17"
    events = _events(app, "report.export")
    assert [(e.object_id, e.fields) for e in events] == [
        ("allegations", "allegations,category,mission")
    ]


def test_a_bad_choice_shows_the_form_again_with_a_message(leader):
    response = leader.get("/reports/victims?by=colour")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "by:" in page


@pytest.mark.parametrize("path", ["/reports/", "/reports/victims", "/reports/victims/export.csv"])
def test_other_roles_get_no_statistics(app, user_factory, api_login, path):
    user_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    client = app.test_client()
    api_login(client, user_id)
    assert client.get(path + "?by=sex").status_code == 403
