"""Factories for tests: callables that build real rows through the real services."""

from __future__ import annotations

from datetime import date

from conduct.cases import services


def make_case(actor=None, mission="MINUSCA", received_on=date(2026, 3, 2), **fields):
    """Open a case through the service (reference, data key, audit event and all)."""
    values = {
        "narrative": "Report received through the community network.",
        "category": "sexual_abuse",
        "allegation_type": "sexual_assault",
        "source": "community_based_complaint_network",
        **fields,
    }
    return services.open_case(actor, mission, received_on, values)


def make_person(case, actor=None, **fields):
    values = {"role": "victim", "full_name": "Awa Traoré", "sex": "female", **fields}
    return services.add_person(actor, case, values)
