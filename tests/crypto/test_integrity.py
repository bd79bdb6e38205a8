"""Sealed values are bound to their cell: moved, altered or orphaned, they refuse to open."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text, update

from conduct.cases import services
from conduct.cases.models import Case, Person
from conduct.core.db import db
from conduct.crypto import IntegrityError, ShreddedError, WrongKeyError
from conduct.crypto.keys import init_key_dir
from tests.factories import make_case, make_person


@pytest.fixture
def two_cases(work):
    with work():
        first = make_case()
        second = make_case(mission="MONUSCO")
        people = [
            make_person(first, full_name="Grace A", contact="+236 70 00 00 01"),
            make_person(first, full_name="Rose B", role="witness"),
            make_person(second, full_name="Esther C"),
        ]
        ids = [first.id, second.id, *(person.id for person in people)]
    return ids


def _copy_cell(table: str, column: str, source_id, target_id, target_column=None) -> None:
    target_column = target_column or column
    db.session.execute(
        text(
            f"UPDATE {table} SET {target_column} = "
            f"(SELECT {column} FROM {table} WHERE id = :source) WHERE id = :target"
        ),
        {"source": source_id, "target": target_id},
    )


def _uuid_param(value):
    """How the dialect stores a UUID in a raw statement."""
    return value if db.engine.dialect.name == "postgresql" else value.hex


def _read_person(person_id, field):
    with db.session.no_autoflush:
        person = db.session.get(Person, person_id)
        return getattr(person, field)


def test_values_read_back_as_written(work, two_cases):
    _, _, grace, rose, _ = two_cases
    with work():
        assert _read_person(grace, "full_name") == "Grace A"
        assert _read_person(grace, "contact") == "+236 70 00 00 01"
        assert _read_person(rose, "role") == "witness"
        assert _read_person(rose, "national_id") is None


@pytest.mark.parametrize(
    ("column", "target_column", "pick"),
    [
        ("identity", None, "other_row_same_case"),
        ("identity", "coded", "same_row_other_column"),
        ("identity", None, "other_case"),
        ("coded", None, "other_row_same_case"),
        ("coded", "identity", "same_row_other_column"),
        ("coded", None, "other_case"),
    ],
)
def test_a_moved_value_fails_with_an_integrity_error(work, two_cases, column, target_column, pick):
    _, _, grace, rose, esther = two_cases
    source, target = {
        "other_row_same_case": (grace, rose),
        "same_row_other_column": (grace, grace),
        "other_case": (grace, esther),
    }[pick]
    with work():
        _copy_cell("persons", column, _uuid_param(source), _uuid_param(target), target_column)
    with work(), pytest.raises(IntegrityError):
        field = {"identity": "full_name", "coded": "role"}[target_column or column]
        _read_person(target, field)


def test_an_altered_byte_fails_with_an_integrity_error(work, two_cases):
    _, _, grace, _, _ = two_cases
    with work():
        sealed = bytearray(db.session.get(Person, grace).identity_sealed)
        sealed[-5] ^= 0x01
        db.session.execute(
            update(Person).where(Person.id == grace).values(identity_sealed=bytes(sealed))
        )
    with work(), pytest.raises(IntegrityError, match="integrity"):
        _read_person(grace, "full_name")


def test_a_wrong_kek_cannot_open_the_data_keys(work, two_cases, make_app, tmp_path):
    first_case = two_cases[0]
    other_keys = tmp_path / "other-keys"
    init_key_dir(other_keys)
    stranger = make_app(CONDUCT_KEY_DIR=str(other_keys))
    with stranger.app_context():
        from conduct.core.db import unit_of_work

        with unit_of_work(), pytest.raises(WrongKeyError):
            _ = db.session.get(Case, first_case).narrative
        response = stranger.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["keys"] == "wrong"


def test_shredding_destroys_identities_but_keeps_coded_facts(work, two_cases):
    first, second, grace, _, esther = two_cases
    with work():
        services.shred_case(None, db.session.get(Case, first))
    with work():
        case = db.session.get(Case, first)
        assert case.category == "sexual_abuse"
        with pytest.raises(ShreddedError):
            _ = case.narrative
        with pytest.raises(ShreddedError):
            _read_person(grace, "full_name")
        assert _read_person(grace, "role") == "victim"
        person = db.session.get(Person, grace)
        assert person.name_dob_index is None and person.personnel_number_index is None
        assert db.session.get(Case, second).narrative.startswith("Report received")
        assert _read_person(esther, "full_name") == "Esther C"


def test_blind_indexes_match_normalised_identities(work):
    with work():
        case = make_case()
        a = make_person(
            case,
            role="subject",
            personnel_number="ab-123 456",
            full_name="Jean-Pierre Ndongo",
            date_of_birth=date(1988, 2, 3),
        )
        b = make_person(
            case,
            role="subject",
            personnel_number="AB123456",
            full_name="NDONGO jean pierre",
            date_of_birth=date(1988, 2, 3),
        )
        c = make_person(
            case,
            role="subject",
            personnel_number="AB123457",
            full_name="Jean-Pierre Ndongo",
            date_of_birth=date(1988, 2, 4),
        )
        assert a.personnel_number_index == b.personnel_number_index != c.personnel_number_index
        assert a.name_dob_index == b.name_dob_index != c.name_dob_index
        assert len(a.personnel_number_index) == 32


def test_a_new_row_added_again_after_a_rollback_keeps_its_values_and_indexes(work):
    """A savepoint rolled back after a new person's flush leaves the instance with its
    sealed values; added again, it is saved whole, blind indexes included."""
    born = date(1990, 5, 6)
    with work() as session:
        case = make_case()
        session.flush()
        savepoint = session.begin_nested()
        person = Person(
            case=case,
            role="subject",
            full_name="Awa Traoré",
            date_of_birth=born,
            personnel_number="XY-123456",
        )
        session.add(person)
        session.flush()
        savepoint.rollback()
        session.add(person)
        session.flush()
        person_id = person.id
        expected = make_person(
            case,
            role="subject",
            full_name="Awa Traoré",
            date_of_birth=born,
            personnel_number="XY-123456",
        )
        indexes = (expected.personnel_number_index, expected.name_dob_index)
    with work():
        stored = db.session.get(Person, person_id)
        assert (stored.full_name, stored.date_of_birth, stored.personnel_number) == (
            "Awa Traoré",
            born,
            "XY-123456",
        )
        assert stored.role == "subject"
        assert (stored.personnel_number_index, stored.name_dob_index) == indexes
        assert None not in indexes


def test_a_new_row_gets_the_indexes_of_the_identifiers_it_was_given(work):
    with work():
        case = make_case()
        named = make_person(case, full_name="Awa Traoré", date_of_birth=date(1990, 5, 6))
        assert named.personnel_number_index is None and len(named.name_dob_index) == 32
        numbered = make_person(case, full_name="Awa Traoré", personnel_number="XY-123456")
        assert len(numbered.personnel_number_index) == 32 and numbered.name_dob_index is None


def test_changing_a_sealed_field_reseals_and_bumps_the_version(work):
    with work():
        case = make_case()
        case_id, sealed_before = case.id, case.identity_sealed
    with work():
        case = db.session.get(Case, case_id)
        case.narrative = "Corrected account."
        case.status = "preliminary_assessment"
    with work():
        case = db.session.get(Case, case_id)
        assert case.narrative == "Corrected account."
        assert case.status == "preliminary_assessment"
        assert case.identity_sealed != sealed_before
        assert case.version == 2


def test_ciphertexts_of_equal_values_differ_and_hide_length(work):
    with work():
        case = make_case()
        short = make_person(case, full_name="Al")
        same = make_person(case, full_name="Al")
        longer = make_person(case, full_name="Alexandrine")
        empty = make_person(case, full_name=None)
        assert short.identity_sealed != same.identity_sealed
        lengths = {len(p.identity_sealed) for p in (short, longer, empty)}
        assert len(lengths) == 1, "short values, longer values and no value look alike"


def test_a_bad_code_is_refused_before_anything_is_stored(work):
    from conduct.core.errors import ValidationFailed

    with work(), pytest.raises(ValidationFailed) as caught:
        make_case(category="genocide", allegation_type="rape")
    assert set(caught.value.fields) == {"category"}
    with work():
        assert db.session.scalars(select(Case)).all() == []
