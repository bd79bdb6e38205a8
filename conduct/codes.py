"""Every code list of Conduct, in one place.

Codes are the stable values stored (sealed) in the database, sent over the API and used by
statistics; labels are for people: English here, marked with ``N_`` for the catalogs, and
translated where a page shows them. Code lists never live in database
tables, so no code value of a sealed field appears anywhere in the raw database. Missions are
the one exception: they are plain, and seeded from ``MISSIONS`` below.

Only ever add codes: a removed code would make stored facts unreadable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from conduct.core.i18n import N_


@dataclass(frozen=True)
class CodeList(Mapping[str, str]):
    """An ordered, read-only mapping of code to English label."""

    name: str
    labels: Mapping[str, str]

    def __getitem__(self, code: str) -> str:
        return self.labels[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.labels)


def _codes(name: str, *pairs: tuple[str, str]) -> CodeList:
    return CodeList(name, dict(pairs))


CATEGORY = _codes(
    "category",
    ("sexual_exploitation", N_("Sexual exploitation")),
    ("sexual_abuse", N_("Sexual abuse")),
    ("other_misconduct", N_("Other misconduct")),
)

SEA_ALLEGATION_TYPES = (
    "rape",
    "sexual_assault",
    "sexual_activity_with_minor",
    "transactional_sex",
    "solicitation_of_transactional_sex",
    "exploitative_relationship",
    "other_sea",
)

ALLEGATION_TYPE = _codes(
    "allegation_type",
    ("rape", N_("Rape")),
    ("sexual_assault", N_("Sexual assault")),
    ("sexual_activity_with_minor", N_("Sexual activity with a minor")),
    ("transactional_sex", N_("Transactional sex")),
    ("solicitation_of_transactional_sex", N_("Solicitation of transactional sex")),
    ("exploitative_relationship", N_("Exploitative relationship")),
    ("other_sea", N_("Other sexual exploitation or abuse")),
    ("fraud", N_("Fraud")),
    ("theft", N_("Theft")),
    ("harassment", N_("Harassment")),
    ("sexual_harassment", N_("Sexual harassment")),
    ("abuse_of_authority", N_("Abuse of authority")),
    ("assault", N_("Assault")),
    ("environmental_violation", N_("Environmental violation")),
    ("other", N_("Other")),
)

PERSONNEL_CATEGORY = _codes(
    "personnel_category",
    ("military_contingent", N_("Military contingent")),
    ("military_observer", N_("Military observer")),
    ("staff_officer", N_("Staff officer")),
    ("formed_police_unit", N_("Formed police unit")),
    ("individual_police_officer", N_("Individual police officer")),
    ("international_civilian", N_("International civilian")),
    ("national_civilian", N_("National civilian")),
    ("un_volunteer", N_("UN Volunteer")),
    ("contractor_consultant", N_("Contractor or consultant")),
    ("other_government_provided", N_("Other government-provided personnel")),
)

UNIFORMED_PERSONNEL = (
    "military_contingent",
    "military_observer",
    "staff_officer",
    "formed_police_unit",
    "individual_police_officer",
)

SOURCE = _codes(
    "source",
    ("victim", N_("Victim")),
    ("witness", N_("Witness")),
    ("third_party", N_("Third party")),
    ("community_based_complaint_network", N_("Community-based complaint network")),
    ("ngo", N_("Non-governmental organisation")),
    ("media", N_("Media")),
    ("un_personnel", N_("UN personnel")),
    ("anonymous", N_("Anonymous")),
    ("other", N_("Other")),
)

PERSON_ROLE = _codes(
    "role",
    ("victim", N_("Victim")),
    ("subject", N_("Subject (alleged perpetrator)")),
    ("witness", N_("Witness")),
    ("reporter", N_("Reporter")),
)

SEX = _codes("sex", ("female", N_("Female")), ("male", N_("Male")), ("unknown", N_("Unknown")))

AGE_GROUP = _codes(
    "age_group",
    ("adult", N_("Adult")),
    ("child", N_("Child (under 18)")),
    ("unknown", N_("Unknown")),
)

STATUS = _codes(
    "status",
    ("received", N_("Received")),
    ("preliminary_assessment", N_("Preliminary assessment")),
    ("referred", N_("Referred")),
    ("under_investigation", N_("Under investigation")),
    ("pending_member_state", N_("Pending member state")),
    ("substantiated", N_("Substantiated")),
    ("not_substantiated", N_("Not substantiated")),
    ("closed_other", N_("Closed (other)")),
    ("closed", N_("Closed")),
)

MISCONDUCT_CLASS = _codes(
    "misconduct_class",
    ("1", N_("Category 1 (serious misconduct)")),
    ("2", N_("Category 2")),
)

INVESTIGATING_ENTITY = _codes(
    "investigating_entity",
    ("oios", N_("Office of Internal Oversight Services")),
    ("tcc_pcc_nio", N_("National investigation officer (troop or police contributor)")),
    ("mission_siu", N_("Mission special investigation unit")),
    ("military_police", N_("Military police")),
    ("un_police", N_("UN police")),
    ("ad_hoc_panel", N_("Ad hoc panel")),
    ("member_state", N_("Member state")),
    ("un_agency", N_("UN agency")),
)

VICTIM_ASSISTANCE = _codes(
    "victim_assistance",
    ("medical", N_("Medical care")),
    ("psychosocial", N_("Psychosocial support")),
    ("legal", N_("Legal assistance")),
    ("basic_material", N_("Basic material assistance")),
    ("paternity_support", N_("Paternity and child-support claims")),
)

REFERRAL_PURPOSE = _codes(
    "referral_purpose",
    ("investigation", N_("Investigation")),
    *VICTIM_ASSISTANCE.labels.items(),
)

# Who receives a referral: an investigating entity, or a victim-assistance provider, named
# by the assistance it gives.
REFERRAL_ENTITY = _codes(
    "referral_entity",
    *INVESTIGATING_ENTITY.labels.items(),
    *VICTIM_ASSISTANCE.labels.items(),
)

REFERRAL_STATUS = _codes(
    "referral_status",
    ("sent", N_("Sent")),
    ("acknowledged", N_("Acknowledged")),
    ("in_progress", N_("In progress")),
    ("completed", N_("Completed")),
    ("declined", N_("Declined")),
)

CONSENT = _codes(
    "consent",
    ("given", N_("Consent given")),
    ("refused", N_("Consent refused")),
    ("not_asked", N_("Not asked")),
    ("override", N_("Shared without consent (override recorded)")),
)

INTERIM_MEASURE = _codes(
    "interim_measure",
    ("administrative_leave", N_("Administrative leave")),
    ("payments_suspended", N_("Payments suspended")),
    ("repatriation_pending", N_("Repatriation pending")),
    ("restriction_of_movement", N_("Restriction of movement")),
    ("removal_from_duties", N_("Removal from duties")),
)

FINDING = _codes(
    "finding",
    ("substantiated", N_("Substantiated")),
    ("not_substantiated", N_("Not substantiated")),
    ("closed_other", N_("Closed (other)")),
)

ACTION = _codes(
    "action",
    ("repatriation", N_("Repatriation")),
    ("ban_from_future_service", N_("Ban from future service")),
    ("dismissal", N_("Dismissal")),
    ("separation", N_("Separation")),
    ("imprisonment", N_("Imprisonment")),
    ("payment_withheld", N_("Payment withheld")),
    ("reprimand", N_("Reprimand")),
    ("no_action", N_("No action")),
)

PATERNITY_STATUS = _codes(
    "paternity_status",
    ("claim_received", N_("Claim received")),
    ("dna_requested", N_("DNA sample requested")),
    ("paternity_established", N_("Paternity established")),
    ("paternity_not_established", N_("Paternity not established")),
    ("support_ordered", N_("Child support ordered")),
    ("closed", N_("Closed")),
)

ROLES = _codes(
    "role",
    ("officer", N_("Conduct officer")),
    ("leadership", N_("Leadership")),
    ("auditor", N_("Auditor")),
    ("admin", N_("Administrator")),
    ("vetting", N_("Vetting officer")),
)

# Peace operations, current and recent: (code, name, active). The seeded names are also in
# the catalogs, so pages show them in their language; names added later show as entered.
MISSIONS: tuple[tuple[str, str, bool], ...] = (
    ("MINUSCA", N_("UN Multidimensional Integrated Stabilization Mission in the CAR"), True),
    ("MONUSCO", N_("UN Organization Stabilization Mission in the DR Congo"), True),
    ("UNMISS", N_("UN Mission in South Sudan"), True),
    ("UNISFA", N_("UN Interim Security Force for Abyei"), True),
    ("UNIFIL", N_("UN Interim Force in Lebanon"), True),
    ("MINURSO", N_("UN Mission for the Referendum in Western Sahara"), True),
    ("UNFICYP", N_("UN Peacekeeping Force in Cyprus"), True),
    ("UNDOF", N_("UN Disengagement Observer Force"), True),
    ("UNMIK", N_("UN Interim Administration Mission in Kosovo"), True),
    ("UNTSO", N_("UN Truce Supervision Organization"), True),
    ("UNMOGIP", N_("UN Military Observer Group in India and Pakistan"), True),
    ("MINUSMA", N_("UN Multidimensional Integrated Stabilization Mission in Mali"), False),
    ("UNAMID", N_("African Union-UN Hybrid Operation in Darfur"), False),
    ("UNITAMS", N_("UN Integrated Transition Assistance Mission in Sudan"), False),
    ("MINUSTAH", N_("UN Stabilization Mission in Haiti"), False),
    ("UNMIL", N_("UN Mission in Liberia"), False),
    ("MINUJUSTH", N_("UN Mission for Justice Support in Haiti"), False),
)

# ISO 3166-1 alpha-3 codes, for the nationality of uniformed personnel.
COUNTRIES: frozenset[str] = frozenset(
    """
    AFG ALA ALB DZA ASM AND AGO AIA ATA ATG ARG ARM ABW AUS AUT AZE BHS BHR BGD BRB BLR BEL
    BLZ BEN BMU BTN BOL BES BIH BWA BVT BRA IOT BRN BGR BFA BDI CPV KHM CMR CAN CYM CAF TCD
    CHL CHN CXR CCK COL COM COG COD COK CRI CIV HRV CUB CUW CYP CZE DNK DJI DMA DOM ECU EGY
    SLV GNQ ERI EST SWZ ETH FLK FRO FJI FIN FRA GUF PYF ATF GAB GMB GEO DEU GHA GIB GRC GRL
    GRD GLP GUM GTM GGY GIN GNB GUY HTI HMD VAT HND HKG HUN ISL IND IDN IRN IRQ IRL IMN ISR
    ITA JAM JPN JEY JOR KAZ KEN KIR PRK KOR KWT KGZ LAO LVA LBN LSO LBR LBY LIE LTU LUX MAC
    MDG MWI MYS MDV MLI MLT MHL MTQ MRT MUS MYT MEX FSM MDA MCO MNG MNE MSR MAR MOZ MMR NAM
    NRU NPL NLD NCL NZL NIC NER NGA NIU NFK MKD MNP NOR OMN PAK PLW PSE PAN PNG PRY PER PHL
    PCN POL PRT PRI QAT REU ROU RUS RWA BLM SHN KNA LCA MAF SPM VCT WSM SMR STP SAU SEN SRB
    SYC SLE SGP SXM SVK SVN SLB SOM ZAF SGS SSD ESP LKA SDN SUR SJM SWE CHE SYR TWN TJK TZA
    THA TLS TGO TKL TON TTO TUN TUR TKM TCA TUV UGA UKR ARE GBR USA UMI URY UZB VUT VEN VNM
    VGB VIR WLF ESH YEM ZMB ZWE
    """.split()  # noqa: SIM905 - a block of codes reads better than a 250-line list
)

# Every code list a sealed coded field draws from, by list name; docs and tests walk it.
ALL_LISTS: tuple[CodeList, ...] = (
    CATEGORY,
    ALLEGATION_TYPE,
    PERSONNEL_CATEGORY,
    SOURCE,
    PERSON_ROLE,
    SEX,
    AGE_GROUP,
    STATUS,
    MISCONDUCT_CLASS,
    INVESTIGATING_ENTITY,
    VICTIM_ASSISTANCE,
    REFERRAL_PURPOSE,
    REFERRAL_ENTITY,
    REFERRAL_STATUS,
    CONSENT,
    INTERIM_MEASURE,
    FINDING,
    ACTION,
    PATERNITY_STATUS,
)
