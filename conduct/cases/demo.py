"""Generated demo data: realistic cases across missions, years, categories, people, referrals.

Everything is made up and seeded from a fixed random seed, so two runs give the same set. It
goes through the same models (and so the same sealing) as real data; benchmarks use it too.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import click
from sqlalchemy import func, select

from conduct import codes
from conduct.core.db import db, unit_of_work
from conduct.core.missions import seed_missions

from .models import (
    Case,
    CaseTeamMember,
    Finding,
    InterimMeasure,
    Person,
    Referral,
    StatusChange,
)
from .services import allocate_references

# Weights roughly follow the UN's published SEA allegation data: most reports come from a few
# large missions, and sexual exploitation outnumbers abuse.
MISSION_WEIGHTS = {
    "MINUSCA": 30,
    "MONUSCO": 30,
    "UNMISS": 12,
    "MINUSMA": 6,
    "UNISFA": 3,
    "UNIFIL": 2,
    "UNAMID": 3,
    "UNITAMS": 1,
    "MINUSTAH": 4,
    "UNMIL": 3,
    "MINURSO": 1,
    "UNMIK": 1,
}
CATEGORY_TYPES = {
    "sexual_exploitation": [
        "transactional_sex",
        "solicitation_of_transactional_sex",
        "exploitative_relationship",
        "other_sea",
    ],
    "sexual_abuse": ["rape", "sexual_assault", "sexual_activity_with_minor"],
    "other_misconduct": [
        "fraud",
        "theft",
        "harassment",
        "sexual_harassment",
        "abuse_of_authority",
        "assault",
        "environmental_violation",
        "other",
    ],
}
CONTRIBUTORS = [
    "BGD",
    "PAK",
    "NPL",
    "RWA",
    "IND",
    "EGY",
    "ZAF",
    "TZA",
    "MAR",
    "GHA",
    "SEN",
    "BDI",
    "COG",
    "GAB",
    "URY",
    "NGA",
    "CMR",
    "TGO",
    "ETH",
    "KEN",
]
GIVEN = [
    "Amina",
    "Jean",
    "Grace",
    "Pierre",
    "Fatou",
    "Joseph",
    "Esther",
    "Moussa",
    "Aline",
    "Samuel",
    "Mariam",
    "Didier",
    "Claudine",
    "Ibrahim",
    "Nadia",
    "Olivier",
    "Rose",
    "Patrice",
    "Awa",
    "Emmanuel",
    "Chantal",
    "Yusuf",
    "Irène",
    "Thierry",
]
FAMILY = [
    "Nzapayeke",
    "Mbemba",
    "Kabila",
    "Ndongo",
    "Touadéra",
    "Sango",
    "Mukendi",
    "Diallo",
    "Koné",
    "Traoré",
    "Deng",
    "Garang",
    "Lokonga",
    "Bangura",
    "Kamara",
    "Yambéré",
    "Ngoy",
    "Ilunga",
    "Mahamat",
    "Abdou",
    "Ouédraogo",
    "Lumumba",
    "Sawadogo",
]
PLACES = [
    "Bangui, PK5",
    "Bria, camp",
    "Bambari, market",
    "Goma, Munigi",
    "Beni, Mavivi",
    "Bunia, site",
    "Juba, POC 3",
    "Malakal, POC",
    "Bor, town",
    "Gao, base",
    "Abyei",
    "Kidal, outskirts",
    "Port-au-Prince",
    "Monrovia, Sinkor",
    "El Fasher",
]
REPORTERS = ["a community network", "the victim", "a UN staff member", "an NGO"]
FLOW = [
    "received",
    "preliminary_assessment",
    "referred",
    "under_investigation",
    "pending_member_state",
]
CLOSED = ["substantiated", "not_substantiated", "closed_other"]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"


def _person(rng, case, role, when: date) -> Person:
    person = Person(case=case, role=role, full_name=_name(rng))
    if role == "victim":
        person.sex = rng.choices(["female", "male", "unknown"], [85, 10, 5])[0]
        person.age_group = rng.choices(["adult", "child", "unknown"], [65, 25, 10])[0]
        person.date_of_birth = when - timedelta(days=rng.randint(13 * 365, 40 * 365))
        person.contact = f"+236 7{rng.randint(0, 9)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    elif role == "subject":
        category = rng.choice(codes.PERSONNEL_CATEGORY.codes)
        person.personnel_category = category
        if category in codes.UNIFORMED_PERSONNEL:
            person.nationality = rng.choice(CONTRIBUTORS)
        person.personnel_number = f"{rng.choice('ABCDEFGH')}{rng.randint(100000, 999999)}"
        person.date_of_birth = when - timedelta(days=rng.randint(22 * 365, 55 * 365))
        person.aliases = rng.choice([None, "Papa", "le Capitaine", "Chef"])
    else:
        person.contact = f"contact via {rng.choice(['CBCN', 'NGO focal point', 'radio'])}"
    return person


def _history(rng, case, statuses: list[str], received: date) -> date:
    at = received
    previous = None
    for status in statuses:
        at = at + timedelta(days=rng.randint(1, 40))
        if previous is not None:
            case.history.append(
                StatusChange(
                    case=case,
                    from_status=previous,
                    to_status=status,
                    at=_moment(at),
                    reason=f"Moved to {status.replace('_', ' ')}.",
                )
            )
        previous = status
    return at


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


def make_case(rng: random.Random, year_range: tuple[int, int]) -> Case:
    """One generated case with its people, referrals, history, measures and findings; its
    reference is given by :func:`_give_references` before it is added to the session."""
    mission = _weighted(rng, MISSION_WEIGHTS)
    received = date(rng.randint(*year_range), 1, 1) + timedelta(days=rng.randint(0, 364))
    category = rng.choices(list(CATEGORY_TYPES), [45, 30, 25])[0]
    progress = rng.randint(1, len(FLOW) + 1)
    statuses = FLOW[:progress]
    if progress > len(FLOW) or rng.random() < 0.35:
        statuses = FLOW[: max(progress, 3)] + [rng.choices(CLOSED, [45, 40, 15])[0]]
    case = Case(
        mission_code=mission,
        received_on=received,
        narrative=(
            f"Report received from {rng.choice(REPORTERS)}"
            f" about events near {rng.choice(PLACES)}. Details recorded during intake."
        ),
        location=rng.choice(PLACES),
        notes=rng.choice([None, "Follow-up interview planned.", "Interpreter needed (Sango)."]),
        source=rng.choice(codes.SOURCE.codes),
        category=category,
        allegation_type=rng.choice(CATEGORY_TYPES[category]),
        misconduct_class="1" if category != "other_misconduct" else rng.choice(["1", "2"]),
        incident_date=(received - timedelta(days=rng.randint(0, 400))).isoformat()[
            : rng.choice([4, 7, 10, 10])
        ],
        status=statuses[-1],
    )
    victims = [
        _person(rng, case, "victim", received)
        for _ in range(rng.choices([1, 2, 3], [75, 18, 7])[0])
    ]
    subjects = [
        _person(rng, case, "subject", received) for _ in range(rng.choices([1, 2], [85, 15])[0])
    ]
    others = [
        _person(rng, case, rng.choice(["witness", "reporter"]), received)
        for _ in range(rng.randint(0, 2))
    ]
    case.persons.extend(victims + subjects + others)
    last = _history(rng, case, statuses, received)
    if "referred" in statuses:
        referred_on = received + timedelta(days=rng.randint(1, 20))
        acknowledged = (
            referred_on + timedelta(days=rng.randint(1, 15)) if rng.random() < 0.8 else None
        )
        case.referrals.append(
            Referral(
                case=case,
                entity=rng.choice(codes.INVESTIGATING_ENTITY.codes),
                purpose="investigation",
                status="acknowledged" if acknowledged else "sent",
                referred_on=referred_on,
                due_on=referred_on + timedelta(days=90),
                acknowledged_on=acknowledged,
                details="Referral memo sent with intake summary.",
            )
        )
    for _victim in victims:
        if rng.random() < 0.6:
            service = rng.choice(codes.VICTIM_ASSISTANCE.codes)
            case.referrals.append(
                Referral(
                    case=case,
                    entity=service,
                    purpose=service,
                    status="sent",
                    consent=rng.choices(["given", "refused"], [90, 10])[0],
                    referred_on=received + timedelta(days=rng.randint(0, 10)),
                    details="Victim assistance referral.",
                )
            )
    for subject in subjects:
        if rng.random() < 0.3:
            case.measures.append(
                InterimMeasure(
                    case=case,
                    person_id=subject.id,
                    type=rng.choice(codes.INTERIM_MEASURE.codes),
                    started_on=received + timedelta(days=rng.randint(1, 30)),
                )
            )
        if statuses[-1] in CLOSED:
            finding = statuses[-1]
            actions = (
                rng.sample(
                    [
                        "repatriation",
                        "ban_from_future_service",
                        "payment_withheld",
                        "imprisonment",
                        "dismissal",
                    ],
                    rng.randint(1, 2),
                )
                if finding == "substantiated"
                else ["no_action"]
            )
            case.findings.append(
                Finding(
                    case=case,
                    person_id=subject.id,
                    finding=finding,
                    actions=actions,
                    decided_by=rng.choice(codes.INVESTIGATING_ENTITY.codes),
                    decided_on=last,
                )
            )
    return case


def seed_demo(
    count: int,
    *,
    seed: int = 2026,
    batch: int = 500,
    year_range: tuple[int, int] = (2019, 2026),
    progress=None,
) -> int:
    """Add ``count`` generated cases, committing every ``batch`` cases. Returns the count."""
    rng = random.Random(seed)  # noqa: S311 - made-up demo data, not secrets
    with unit_of_work() as session:
        seed_missions(session)
    made = 0
    while made < count:
        size = min(batch, count - made)
        with unit_of_work() as session:
            cases = [make_case(rng, year_range) for _ in range(size)]
            _give_references(session, cases)
            session.add_all(cases)
        made += size
        if progress is not None:
            progress(size)
    return made


def _give_references(session, cases: list[Case]) -> None:
    """References for a batch of new cases: one block per mission and year, in batch order."""
    wanted: dict[tuple[str, int], list[Case]] = {}
    for case in cases:
        wanted.setdefault((case.mission_code, case.received_on.year), []).append(case)
    for (mission, year), group in wanted.items():
        for case, reference in zip(
            group, allocate_references(session, mission, year, len(group)), strict=True
        ):
            case.reference = reference


# Demo accounts, one per role (development only; `conduct demo seed` refuses production).
DEMO_PASSWORD = "sandstone-lantern-river-42"  # noqa: S105 - printed demo login, never production
DEMO_ACCOUNTS = (
    ("officer@conduct.demo", "Aminata Diallo (conduct officer)", "officer", ("MINUSCA", "MONUSCO")),
    ("officer.unmiss@conduct.demo", "Peter Lado (conduct officer)", "officer", ("UNMISS",)),
    ("leadership@conduct.demo", "Head of Mission office", "leadership", ()),
    ("auditor@conduct.demo", "Oversight auditor", "auditor", ()),
    ("admin@conduct.demo", "System administrator", "admin", ()),
    ("vetting@conduct.demo", "Vetting officer", "vetting", ()),
)


def seed_demo_accounts() -> int:
    """Create the demo accounts that do not exist yet; put the officers on their cases' teams.

    Second factors are not pre-enrolled: each account enrols at its first login, with an
    authenticator app or with `conduct users otp EMAIL`.
    """
    from conduct.auth import services as accounts

    made = 0
    with unit_of_work() as session:
        for email, name, role, missions in DEMO_ACCOUNTS:
            if accounts.find_user(email) is not None:
                continue
            user = accounts.create_user(None, email, name, [role], missions, DEMO_PASSWORD)
            made += 1
            if role == "officer":
                case_ids = session.scalars(
                    select(Case.id).where(Case.mission_code.in_(missions))
                ).all()
                session.add_all(CaseTeamMember(case_id=cid, user_id=user.id) for cid in case_ids)
    return made


def seed_if_empty(count: int) -> None:
    """Demo cases and accounts for a fresh development database; nothing if it has cases."""
    if db.session.scalar(select(func.count()).select_from(Case)):
        click.echo("demo data: the database already holds cases; nothing added")
    else:
        with click.progressbar(length=count, label="seeding demo cases") as bar:
            seed_demo(count, progress=bar.update)
    seed_demo_accounts()


def print_welcome() -> None:
    click.echo("")
    click.echo("Conduct is ready at http://127.0.0.1:5000 (health: /healthz, /readyz).")
    click.echo(f"Demo accounts (development only), all with the password {DEMO_PASSWORD}:")
    for email, _, role, missions in DEMO_ACCOUNTS:
        scope = f" ({', '.join(missions)})" if missions else ""
        click.echo(f"  {role:<11} {email}{scope}")
    click.echo(
        "At first login each account sets up its second factor: scan the QR code with an "
        "authenticator app, or run `.venv/bin/conduct users otp EMAIL` for the current code."
    )
