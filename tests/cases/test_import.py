"""`conduct cases import FILE.csv`: checking every row, all or nothing, audit, scope."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conduct.audit.models import AuditEvent
from conduct.cases.cli import cases_cli
from conduct.cases.models import (
    Attachment,
    Case,
    CaseRecusal,
    CaseTeamMember,
    CaseTransfer,
    Finding,
    InterimMeasure,
    PaternityClaim,
    Person,
    ReferenceCounter,
    Referral,
    StatusChange,
)
from conduct.core.db import db, unit_of_work
from conduct.crypto.models import DataKey

EXAMPLE = Path(__file__).parents[2] / "docs" / "import-example.csv"
TABLES = (
    Case,
    Person,
    Referral,
    StatusChange,
    InterimMeasure,
    Finding,
    PaternityClaim,
    Attachment,
    CaseTransfer,
    CaseTeamMember,
    CaseRecusal,
    ReferenceCounter,
    DataKey,
    AuditEvent,
)
CASE_FIELDS = (
    "incident_date",
    "source",
    "category",
    "allegation_type",
    "misconduct_class",
    "narrative",
    "location",
    "notes",
)
PERSON_FIELDS = (
    "full_name",
    "aliases",
    "date_of_birth",
    "personnel_number",
    "national_id",
    "contact",
    "sex",
    "age_group",
    "personnel_category",
    "nationality",
)
# A small layout for the tests of single cells: one case per row, one victim, one subject.
HEADER = "mission,received_on,category,allegation_type,incident_date,victim_full_name,"
HEADER += "victim_date_of_birth,victim_sex,subject_nationality"
GOOD_ROW = "MINUSCA,2026-02-01,sexual_abuse,rape,2026-01,Esther Deng,2001-04-05,female,BGD"


@pytest.fixture
def officer(user_factory):
    """An officer of MINUSCA and MONUSCO, the missions of the example file."""
    return user_factory(missions=("MINUSCA", "MONUSCO"))


def _run(runner, tmp_path, content, *options, name="cases.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return runner.invoke(args=["cases", "import", str(path), *options])


def _import(runner, tmp_path, officer, content, *options):
    return _run(runner, tmp_path, content, "--as", officer[1], *options)


def _counts(app) -> dict[str, int]:
    """Rows of every case table, the reference counters, data keys and audit events."""
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in TABLES
        }


def _events(app) -> list[AuditEvent]:
    """Audit events after the accounts were made."""
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action.not_like("user.%"))
        events = list(db.session.scalars(query.order_by(AuditEvent.id)))
        db.session.expunge_all()
        return events


def _example_cases() -> dict[str, dict]:
    """The example file read independently of the importer: case values and persons by key."""
    with EXAMPLE.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    cases: dict[str, dict] = {}
    for row in rows:
        case = cases.setdefault(row["case_key"], {"row": row, "persons": []})
        for role in ("victim", "subject", "witness", "reporter"):
            person = {
                name: row.get(f"{role}_{name}") or None
                for name in PERSON_FIELDS
                if row.get(f"{role}_{name}")
            }
            if person:
                case["persons"].append({"role": role, **person})
    return cases


def _read_back(case: Case) -> dict:
    persons = []
    for person in case.persons:
        values = {"role": person.role}
        for name in PERSON_FIELDS:
            value = getattr(person, name)
            if value is not None:
                values[name] = value.isoformat() if isinstance(value, date) else value
        persons.append(values)
    return {
        "mission": case.mission_code,
        "received_on": case.received_on.isoformat(),
        **{name: getattr(case, name) for name in CASE_FIELDS},
        "persons": sorted(persons, key=repr),
    }


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


# The example file


def test_the_example_file_imports_and_reads_back_equal(app, runner, tmp_path, officer):
    result = _import(runner, tmp_path, officer, EXAMPLE.read_bytes())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "row 2 imported as MINUSCA-2025-0001",
        "row 4 imported as MONUSCO-2026-0001",
        "row 5 imported as MINUSCA-2024-0001",
        "imported 3 cases with 7 persons from 5 rows",
    ]
    expected = _example_cases()
    references = {
        "L-2025-014": "MINUSCA-2025-0001",
        "L-2026-002": "MONUSCO-2026-0001",
        "L-2024-031": "MINUSCA-2024-0001",
    }
    with app.app_context(), unit_of_work():
        for key, reference in references.items():
            case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
            row = expected[key]["row"]
            assert _read_back(case) == {
                "mission": row["mission"],
                "received_on": row["received_on"],
                **{name: row[name] or None for name in CASE_FIELDS},
                "persons": sorted(expected[key]["persons"], key=repr),
            }
            assert case.status == "received"
            assert case.created_by == officer[0]
            assert [member.user_id for member in case.team] == [officer[0]]
    # The multi-line narrative, its quotes and the accents came through whole.
    assert '"blue helmet"' in expected["L-2024-031"]["row"]["narrative"]
    assert "\n" in expected["L-2024-031"]["row"]["narrative"]


def test_the_import_is_audited_with_names_and_counts_only(app, runner, tmp_path, officer):
    assert _import(runner, tmp_path, officer, EXAMPLE.read_bytes()).exit_code == 0
    events = _events(app)
    actions = [event.action for event in events]
    assert actions.count("case.create") == 3
    assert actions.count("person.create") == 7
    assert actions[-1] == "case.import"
    summary = events[-1]
    assert summary.outcome == "success"
    assert summary.actor_id == officer[0]
    assert summary.fields.split(",") == [
        "cases:3",
        "invalid_rows:0",
        "persons:7",
        "rows:5",
        "skipped_cases:0",
    ]
    assert all(event.actor_id == officer[0] for event in events)
    # No value of the file appears anywhere in the log (but the plain mission and dates, and
    # a year that is also in a reference); bare numbers could be in an id by chance.
    with EXAMPLE.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    values = {
        value
        for row in rows
        for column, value in row.items()
        if len(value) > 2 and not value.isdigit() and column not in ("mission", "received_on")
    }
    assert {"COG", "le Capitaine", "transactional_sex", "Bria", "L-2025-014"} <= values
    stored = " ".join(
        str(getattr(event, column.key))
        for event in events
        for column in AuditEvent.__table__.columns
        if column.key not in ("occurred_at", "case_reference")
    )
    assert not [value for value in values if value in stored]


def test_the_output_holds_no_value_of_the_file(runner, tmp_path, officer):
    result = _import(runner, tmp_path, officer, EXAMPLE.read_bytes(), "--dry-run")
    assert result.exit_code == 0
    assert "Grace" not in result.output and "B482913" not in result.output
    assert "female" not in result.output and "COG" not in result.output


# Dry run


def test_a_dry_run_checks_everything_and_writes_nothing(app, runner, tmp_path, officer):
    before = _counts(app)
    result = _import(runner, tmp_path, officer, EXAMPLE.read_bytes(), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "dry run: 5 rows checked, 0 with problems; 3 of 3 cases valid, with 7 persons; "
        "nothing was written"
    ]
    assert _counts(app) == before
    assert before["cases"] == 0 and before["reference_counters"] == 0


def test_a_dry_run_needs_no_account_and_reports_problems(app, runner, tmp_path):
    before = _counts(app)
    content = f"{HEADER}\n{GOOD_ROW}\n" + GOOD_ROW.replace("rape", "fraud") + "\n"
    result = _run(runner, tmp_path, content, "--dry-run")
    assert result.exit_code == 1
    assert "row 3, field allegation_type: not an allegation type of the category given" in (
        result.stderr
    )
    assert "1 of 2 cases valid" in result.stdout
    assert _counts(app) == before


def test_a_dry_run_checks_the_scope_of_a_named_account(app, runner, tmp_path, user_factory):
    _, email = user_factory(missions=("UNMISS",))
    before = _counts(app)
    line = _one_line_error(_run(runner, tmp_path, EXAMPLE.read_bytes(), "--as", email, "--dry-run"))
    assert line == (
        f"Error: {email} may not import cases of MINUSCA, MONUSCO: not one of their missions"
    )
    assert _counts(app) == before


# All or nothing, and --skip-invalid


def _with_bad_date() -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count("2026-01-15") == 1
    return text.replace("2026-01-15", "15/01/2026")


def test_one_bad_row_means_nothing_is_written(app, runner, tmp_path, officer):
    before = _counts(app)
    result = _import(runner, tmp_path, officer, _with_bad_date())
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "row 4, field received_on: not a valid date: use YYYY-MM-DD"
    ]
    assert result.stdout.splitlines() == [
        "5 rows checked, 1 with problems: nothing imported (correct them, or use "
        "--skip-invalid to import the valid 2 cases)"
    ]
    assert "15/01/2026" not in result.output
    after = _counts(app)
    assert {name: after[name] - before[name] for name in after} == {
        **{name: 0 for name in after},
        "audit_events": 1,
    }
    (event,) = _events(app)
    assert (event.action, event.outcome, event.actor_id) == ("case.import", "invalid", officer[0])
    assert event.fields == "cases:0,invalid_rows:1,persons:0,rows:5,skipped_cases:3"


def test_skip_invalid_imports_the_good_cases_and_lists_the_bad_rows(app, runner, tmp_path, officer):
    result = _import(runner, tmp_path, officer, _with_bad_date(), "--skip-invalid")
    assert result.exit_code == 1
    assert "row 4, field received_on: not a valid date: use YYYY-MM-DD" in result.stderr
    assert result.stdout.splitlines() == [
        "row 2 imported as MINUSCA-2025-0001",
        "row 5 imported as MINUSCA-2024-0001",
        "imported 2 cases with 6 persons from 5 rows; skipped 1 case (1 row with problems)",
    ]
    counts = _counts(app)
    assert (counts["cases"], counts["persons"], counts["reference_counters"]) == (2, 6, 2)
    summary = _events(app)[-1]
    assert (summary.action, summary.outcome) == ("case.import", "success")
    assert summary.fields == "cases:2,invalid_rows:1,persons:6,rows:5,skipped_cases:1"


def test_a_bad_person_row_skips_its_whole_case(app, runner, tmp_path, officer):
    text = EXAMPLE.read_text(encoding="utf-8").replace("2008-07-30", "2008-13-30")
    result = _import(runner, tmp_path, officer, text, "--skip-invalid")
    assert "row 3, field victim_date_of_birth: not a valid date: use YYYY-MM-DD" in result.stderr
    assert "MINUSCA-2025" not in result.stdout
    assert "imported 2 cases with 4 persons" in result.stdout


# Single cells: each problem names its row and field, never the value


def _cell_problem(runner, tmp_path, officer, rows: list[str], header=HEADER) -> list[str]:
    content = "\n".join([header, *rows]) + "\n"
    result = _import(runner, tmp_path, officer, content)
    assert result.exit_code == 1, result.output
    assert "nothing imported" in result.stdout
    return result.stderr.splitlines()


TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("bad", "good", "column", "message"),
    [
        (
            "genocide",
            "sexual_abuse",
            "category",
            "Must be one of: sexual_exploitation, sexual_abuse, other_misconduct.",
        ),
        ("theft", "rape", "allegation_type", "not an allegation type of the category given"),
        ("2026-13", "2026-01", "incident_date", "expected YYYY, YYYY-MM or YYYY-MM-DD"),
        ("Jan 2026", "2026-01", "incident_date", "String does not match expected pattern."),
        ("ATLANTIS", "MINUSCA", "mission", "not a known mission code"),
        (TOMORROW, "2026-02-01", "received_on", "cannot be in the future"),
        ("yesterday", "2001-04-05", "victim_date_of_birth", "not a valid date: use YYYY-MM-DD"),
        ("XYZ", "BGD", "subject_nationality", "not an ISO 3166 alpha-3 country code"),
        ("girl", "female", "victim_sex", "Must be one of: female, male, unknown."),
    ],
)
def test_a_bad_cell_is_named_by_row_and_field(
    app, runner, tmp_path, officer, bad, good, column, message
):
    assert GOOD_ROW.count(good) == 1
    lines = _cell_problem(runner, tmp_path, officer, [GOOD_ROW, GOOD_ROW.replace(good, bad)])
    assert lines == [f"row 3, field {column}: {message}"]
    assert bad not in message
    assert _counts(app)["cases"] == 0


def test_an_empty_required_cell_and_several_problems_on_one_row(runner, tmp_path, officer):
    row = ",2026-02-01,sexual_abuse,rape,2026-01,Esther Deng,05/04/2001,woman,BGD"
    assert _cell_problem(runner, tmp_path, officer, [row]) == [
        "row 2, field mission: required (the cell is empty)",
        "row 2, field victim_date_of_birth: not a valid date: use YYYY-MM-DD",
        "row 2, field victim_sex: Must be one of: female, male, unknown.",
    ]


def test_rows_of_one_case_follow_the_first_row(runner, tmp_path, officer):
    header = "case_key,mission,received_on,category,victim_full_name,subject_full_name"
    rows = [
        "K1,MINUSCA,2026-02-01,sexual_abuse,Esther Deng,",
        "K1,MINUSCA,2026-02-01,,Awa Koné,",  # the case's columns repeated: fine
        "K1,,2026-02-02,,,Moussa Diallo",  # a different date on a later row
        "K1,,,,,",  # adds nothing
        ",MINUSCA,2026-02-01,sexual_abuse,Rose Sango,",  # no key
        "K2,MINUSCA,2026-02-01,sexual_abuse,Rose Sango,,extra",  # one cell too many
    ]
    assert _cell_problem(runner, tmp_path, officer, rows, header=header) == [
        "row 4, field received_on: differs from the first row of this case (row 2): give the "
        "case's columns on its first row, and leave them empty on the others",
        "row 5: adds no person to its case: fill in a person's columns or remove the row",
        "row 6, field case_key: required (the cell is empty)",
        "row 7: more cells than the header line has columns",
    ]


def test_without_a_case_key_each_row_is_a_case(app, runner, tmp_path, officer):
    result = _import(runner, tmp_path, officer, f"{HEADER}\n{GOOD_ROW}\n{GOOD_ROW}\n")
    assert result.exit_code == 0, result.output
    assert "imported 2 cases with 4 persons from 2 rows" in result.stdout


# The file as a whole


def test_a_bom_semicolons_and_windows_line_ends_are_read(app, runner, tmp_path, officer):
    content = f"{HEADER}\r\n{GOOD_ROW}\r\n".replace(",", ";").encode("utf-8-sig")
    result = _import(runner, tmp_path, officer, content)
    assert result.exit_code == 0, result.output
    with app.app_context(), unit_of_work():
        persons = {person.role: person for person in db.session.scalars(select(Person))}
        assert persons["victim"].full_name == "Esther Deng" and persons["victim"].sex == "female"
        assert persons["subject"].nationality == "BGD"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "Error: the file is empty: its first line must name the columns"),
        (b"\n,,\n", "Error: the file has no header line: its first line must name the columns"),
        (HEADER.encode() + b"\n", "Error: the file has no rows below its header line"),
        (
            b"received_on,category\n2026-01-01,rape\n",
            "Error: missing required columns: mission",
        ),
        (
            b"mission,received_on,Victim Name,category,victim_blood_type\n",
            "Error: unknown column names on line 1, in column C, E "
            "(docs/import.md lists the columns)",
        ),
        (
            b"mission,received_on,mission\n",
            "Error: columns named twice: mission",
        ),
        (
            GOOD_ROW.encode() + b"\n",
            "Error: line 1 names no known column: the first line must name the columns "
            "(see docs/import.md)",
        ),
        (
            HEADER.encode() + b"\n" + GOOD_ROW.replace("Deng", "D\xe9ng").encode("latin-1"),
            "Error: line 2 is not UTF-8 text: save the file as CSV UTF-8",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line(app, runner, tmp_path, officer, content, expected):
    before = _counts(app)
    assert _one_line_error(_import(runner, tmp_path, officer, content)) == expected
    after = _counts(app)
    assert after == {**before, "audit_events": before["audit_events"] + 1}
    (event,) = _events(app)
    assert (event.action, event.outcome, event.fields) == ("case.import", "invalid", "")


def test_a_column_without_a_name_may_only_be_empty(runner, tmp_path, officer):
    header = HEADER + ","
    ok = _import(runner, tmp_path, officer, f"{header}\n{GOOD_ROW},\n")
    assert ok.exit_code == 0, ok.output
    lines = _cell_problem(runner, tmp_path, officer, [f"{GOOD_ROW},a note"], header=header)
    assert lines == ["row 2: a value in column J, which has no name"]


# The acting account


def test_the_account_must_cover_every_mission_of_the_file(app, runner, tmp_path, user_factory):
    user_id, email = user_factory(missions=("MINUSCA",))
    line = _one_line_error(_run(runner, tmp_path, EXAMPLE.read_bytes(), "--as", email))
    assert line == f"Error: {email} may not import cases of MONUSCO: not one of their missions"
    assert _counts(app)["cases"] == 0
    (event,) = _events(app)
    assert (event.action, event.outcome, event.actor_id) == ("case.import", "denied", user_id)


@pytest.mark.parametrize("kind", ["leadership", "disabled", "unknown"])
def test_only_an_active_account_holding_case_import_may_import(
    app, runner, tmp_path, user_factory, kind
):
    if kind == "leadership":
        _, email = user_factory(roles=("leadership",), missions=())
        expected = f"Error: {email} does not hold the permission case:import"
    else:
        _, email = user_factory()
        expected = f"Error: no active account with the email {email}"
        if kind == "disabled":
            assert runner.invoke(args=["users", "disable", email]).exit_code == 0
        else:
            email = expected.rsplit(" ", 1)[-1].replace("@", ".gone@")
            expected = f"Error: no active account with the email {email}"
    before = _counts(app)["cases"]
    line = _one_line_error(_run(runner, tmp_path, EXAMPLE.read_bytes(), "--as", email))
    assert line == expected
    assert _counts(app)["cases"] == before
    assert _events(app)[-1].action == "case.import" and _events(app)[-1].outcome == "denied"


def test_an_import_needs_an_account(app, runner, tmp_path):
    result = _run(runner, tmp_path, EXAMPLE.read_bytes())
    assert result.exit_code == 2
    assert "name the account the import is recorded as: --as EMAIL" in result.output
    assert _counts(app)["audit_events"] == 0


def test_the_command_explains_itself(runner):
    result = runner.invoke(args=["cases", "import", "--help"])
    assert result.exit_code == 0
    for option in ("--as", "--dry-run", "--skip-invalid", "docs/import.md", "Exit status"):
        assert option in result.output
    assert set(cases_cli.commands) == {"import"}


def test_progress_bars_show_on_a_terminal_on_standard_error(runner, tmp_path, officer, monkeypatch):
    monkeypatch.setattr("conduct.cases.cli._on_terminal", lambda: True)
    result = _import(runner, tmp_path, officer, EXAMPLE.read_bytes())
    assert "checking rows" in result.stderr and "importing cases" in result.stderr
    assert "checking rows" not in result.stdout


def test_stdin_is_read_with_a_dash(app, officer):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["cases", "import", "-", "--as", officer[1]], input=io.BytesIO(EXAMPLE.read_bytes())
    )
    assert result.exit_code == 0, result.output
    assert "imported 3 cases with 7 persons from 5 rows" in result.stdout


# The documentation


DOC = Path(__file__).parents[2] / "docs" / "import.md"


def test_the_documentation_names_every_column_and_code():
    from conduct import codes
    from conduct.cases.import_csv import CASE_COLUMNS, KEY_COLUMN, PERSON_COLUMNS, PERSON_ROLES

    text = DOC.read_text(encoding="utf-8")
    names = {KEY_COLUMN, *CASE_COLUMNS, *(name for _, name in PERSON_COLUMNS.values())}
    names |= {f"{role}_" for role in PERSON_ROLES}
    lists = (codes.SOURCE, codes.CATEGORY, codes.ALLEGATION_TYPE, codes.MISCONDUCT_CLASS)
    lists += (codes.SEX, codes.AGE_GROUP, codes.PERSONNEL_CATEGORY)
    names |= {code for code_list in lists for code in code_list.codes}
    assert not [name for name in sorted(names) if f"`{name}`" not in text]


def test_the_documented_example_imports(app, runner, tmp_path, officer):
    text = DOC.read_text(encoding="utf-8")
    snippet = text.split("```csv\n", 1)[1].split("```", 1)[0]
    result = _import(runner, tmp_path, officer, snippet)
    assert result.exit_code == 0, result.output
    assert "imported 1 case with 3 persons from 2 rows" in result.stdout


def test_rows_are_numbered_by_the_line_they_start_on(runner, tmp_path, officer):
    header = "mission,received_on,narrative,victim_sex"
    rows = [
        'MINUSCA,2026-02-01,"First line,\nsecond line\nthird line",female',
        "MINUSCA,2026-02-01,Short,woman",
    ]
    lines = _cell_problem(runner, tmp_path, officer, rows, header=header)
    assert lines == ["row 5, field victim_sex: Must be one of: female, male, unknown."]


# A case refused while writing (the checks make it rare: here a mission closed in between)


def _refuse_second_case(monkeypatch):
    from conduct.cases import importing
    from conduct.core.errors import ValidationFailed

    real = importing.import_case
    calls = []

    def import_case(actor, planned):
        calls.append(planned.line)
        if len(calls) == 2:
            raise ValidationFailed.of({"mission": ["unknown mission code"]})
        return real(actor, planned)

    monkeypatch.setattr(importing, "import_case", import_case)


def test_a_case_refused_while_writing_undoes_the_whole_import(
    app, runner, tmp_path, officer, monkeypatch
):
    _refuse_second_case(monkeypatch)
    before = _counts(app)
    line = _one_line_error(_import(runner, tmp_path, officer, EXAMPLE.read_bytes()))
    assert line == (
        "Error: row 4: invalid input in: mission — mission: unknown mission code; nothing imported"
    )
    after = _counts(app)
    assert {name: after[name] - before[name] for name in after} == {
        **{name: 0 for name in after},
        "audit_events": 1,
    }
    (event,) = _events(app)
    assert (event.action, event.outcome) == ("case.import", "failed")


def test_with_skip_invalid_a_case_refused_while_writing_is_listed(
    app, runner, tmp_path, officer, monkeypatch
):
    _refuse_second_case(monkeypatch)
    result = _import(runner, tmp_path, officer, EXAMPLE.read_bytes(), "--skip-invalid")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "row 4: invalid input in: mission — mission: unknown mission code"
    ]
    assert result.stdout.splitlines()[-1] == (
        "imported 2 cases with 6 persons from 5 rows; skipped 1 case (1 row with problems)"
    )
    assert _counts(app)["cases"] == 2
    assert _events(app)[-1].fields == "cases:2,invalid_rows:1,persons:6,rows:5,skipped_cases:1"
