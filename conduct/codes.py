"""Every code list of Conduct, in one place.

Codes are the stable values stored (sealed) in the database, sent over the API and used by
statistics; labels are for people and may be translated. Code lists never live in database
tables, so no code value of a sealed field appears anywhere in the raw database. Missions are
the one exception: they are plain, and seeded from ``MISSIONS`` below.

Only ever add codes: a removed code would make stored facts unreadable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass


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
    ("sexual_exploitation", "Sexual exploitation"),
    ("sexual_abuse", "Sexual abuse"),
    ("other_misconduct", "Other misconduct"),
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
    ("rape", "Rape"),
    ("sexual_assault", "Sexual assault"),
    ("sexual_activity_with_minor", "Sexual activity with a minor"),
    ("transactional_sex", "Transactional sex"),
    ("solicitation_of_transactional_sex", "Solicitation of transactional sex"),
    ("exploitative_relationship", "Exploitative relationship"),
    ("other_sea", "Other sexual exploitation or abuse"),
    ("fraud", "Fraud"),
    ("theft", "Theft"),
    ("harassment", "Harassment"),
    ("sexual_harassment", "Sexual harassment"),
    ("abuse_of_authority", "Abuse of authority"),
    ("assault", "Assault"),
    ("environmental_violation", "Environmental violation"),
    ("other", "Other"),
)

PERSONNEL_CATEGORY = _codes(
    "personnel_category",
    ("military_contingent", "Military contingent"),
    ("military_observer", "Military observer"),
    ("staff_officer", "Staff officer"),
    ("formed_police_unit", "Formed police unit"),
    ("individual_police_officer", "Individual police officer"),
    ("international_civilian", "International civilian"),
    ("national_civilian", "National civilian"),
    ("un_volunteer", "UN Volunteer"),
    ("contractor_consultant", "Contractor or consultant"),
    ("other_government_provided", "Other government-provided personnel"),
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
    ("victim", "Victim"),
    ("witness", "Witness"),
    ("third_party", "Third party"),
    ("community_based_complaint_network", "Community-based complaint network"),
    ("ngo", "Non-governmental organisation"),
    ("media", "Media"),
    ("un_personnel", "UN personnel"),
    ("anonymous", "Anonymous"),
    ("other", "Other"),
)

PERSON_ROLE = _codes(
    "role",
    ("victim", "Victim"),
    ("subject", "Subject (alleged perpetrator)"),
    ("witness", "Witness"),
    ("reporter", "Reporter"),
)

SEX = _codes("sex", ("female", "Female"), ("male", "Male"), ("unknown", "Unknown"))

AGE_GROUP = _codes(
    "age_group",
    ("adult", "Adult"),
    ("child", "Child (under 18)"),
    ("unknown", "Unknown"),
)

STATUS = _codes(
    "status",
    ("received", "Received"),
    ("preliminary_assessment", "Preliminary assessment"),
    ("referred", "Referred"),
    ("under_investigation", "Under investigation"),
    ("pending_member_state", "Pending member state"),
    ("substantiated", "Substantiated"),
    ("not_substantiated", "Not substantiated"),
    ("closed_other", "Closed (other)"),
    ("closed", "Closed"),
)

MISCONDUCT_CLASS = _codes(
    "misconduct_class",
    ("1", "Category 1 (serious misconduct)"),
    ("2", "Category 2"),
)

INVESTIGATING_ENTITY = _codes(
    "investigating_entity",
    ("oios", "Office of Internal Oversight Services"),
    ("tcc_pcc_nio", "National investigation officer (troop or police contributor)"),
    ("mission_siu", "Mission special investigation unit"),
    ("military_police", "Military police"),
    ("un_police", "UN police"),
    ("ad_hoc_panel", "Ad hoc panel"),
    ("member_state", "Member state"),
    ("un_agency", "UN agency"),
)

VICTIM_ASSISTANCE = _codes(
    "victim_assistance",
    ("medical", "Medical care"),
    ("psychosocial", "Psychosocial support"),
    ("legal", "Legal assistance"),
    ("basic_material", "Basic material assistance"),
    ("paternity_support", "Paternity and child-support claims"),
)

REFERRAL_PURPOSE = _codes(
    "referral_purpose",
    ("investigation", "Investigation"),
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
    ("sent", "Sent"),
    ("acknowledged", "Acknowledged"),
    ("in_progress", "In progress"),
    ("completed", "Completed"),
    ("declined", "Declined"),
)

CONSENT = _codes(
    "consent",
    ("given", "Consent given"),
    ("refused", "Consent refused"),
    ("not_asked", "Not asked"),
    ("override", "Shared without consent (override recorded)"),
)

INTERIM_MEASURE = _codes(
    "interim_measure",
    ("administrative_leave", "Administrative leave"),
    ("payments_suspended", "Payments suspended"),
    ("repatriation_pending", "Repatriation pending"),
    ("restriction_of_movement", "Restriction of movement"),
    ("removal_from_duties", "Removal from duties"),
)

FINDING = _codes(
    "finding",
    ("substantiated", "Substantiated"),
    ("not_substantiated", "Not substantiated"),
    ("closed_other", "Closed (other)"),
)

ACTION = _codes(
    "action",
    ("repatriation", "Repatriation"),
    ("ban_from_future_service", "Ban from future service"),
    ("dismissal", "Dismissal"),
    ("separation", "Separation"),
    ("imprisonment", "Imprisonment"),
    ("payment_withheld", "Payment withheld"),
    ("reprimand", "Reprimand"),
    ("no_action", "No action"),
)

PATERNITY_STATUS = _codes(
    "paternity_status",
    ("claim_received", "Claim received"),
    ("dna_requested", "DNA sample requested"),
    ("paternity_established", "Paternity established"),
    ("paternity_not_established", "Paternity not established"),
    ("support_ordered", "Child support ordered"),
    ("closed", "Closed"),
)

ROLES = _codes(
    "role",
    ("officer", "Conduct officer"),
    ("leadership", "Leadership"),
    ("auditor", "Auditor"),
    ("admin", "Administrator"),
    ("vetting", "Vetting officer"),
)

# Peace operations, current and recent: (code, name, active).
MISSIONS: tuple[tuple[str, str, bool], ...] = (
    ("MINUSCA", "UN Multidimensional Integrated Stabilization Mission in the CAR", True),
    ("MONUSCO", "UN Organization Stabilization Mission in the DR Congo", True),
    ("UNMISS", "UN Mission in South Sudan", True),
    ("UNISFA", "UN Interim Security Force for Abyei", True),
    ("UNIFIL", "UN Interim Force in Lebanon", True),
    ("MINURSO", "UN Mission for the Referendum in Western Sahara", True),
    ("UNFICYP", "UN Peacekeeping Force in Cyprus", True),
    ("UNDOF", "UN Disengagement Observer Force", True),
    ("UNMIK", "UN Interim Administration Mission in Kosovo", True),
    ("UNTSO", "UN Truce Supervision Organization", True),
    ("UNMOGIP", "UN Military Observer Group in India and Pakistan", True),
    ("MINUSMA", "UN Multidimensional Integrated Stabilization Mission in Mali", False),
    ("UNAMID", "African Union-UN Hybrid Operation in Darfur", False),
    ("UNITAMS", "UN Integrated Transition Assistance Mission in Sudan", False),
    ("MINUSTAH", "UN Stabilization Mission in Haiti", False),
    ("UNMIL", "UN Mission in Liberia", False),
    ("MINUJUSTH", "UN Mission for Justice Support in Haiti", False),
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
