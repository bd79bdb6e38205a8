"""The French catalog: complete, well formed, and holding exactly what the code marks.

The extraction runs here into a temporary folder, as `make translations` runs it, so a string
marked in a template or in the code but missing from the catalog fails the suite.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from conduct import codes
from conduct.core.i18n import catalog_path

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def read_catalog(path: Path):
    with path.open("rb") as source:
        return read_po(source)


def msgids(catalog) -> set:
    """(context, msgid) of every message; a plural msgid as a tuple."""
    return {
        (message.context, tuple(message.id) if isinstance(message.id, list) else message.id)
        for message in catalog
        if message.id
    }


@pytest.fixture(scope="module")
def french():
    return read_catalog(catalog_path("fr"))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    template = tmp_path_factory.mktemp("extract") / "messages.pot"
    command = ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg")]
    command += ["-k", "N_", "-k", "_l", "--no-location", "-o", str(template), str(ROOT)]
    CommandLineInterface().run(command)
    return read_catalog(template)


def test_every_message_has_a_french_translation(french):
    empty = [
        message.id
        for message in french
        if message.id
        and not all(message.string if isinstance(message.string, tuple) else [message.string])
    ]
    assert empty == []
    assert not [message.id for message in french if message.id and message.fuzzy]


def test_the_catalog_is_well_formed_and_compiles(french):
    assert [(message.id, errors) for message, errors in french.check()] == []
    compiled = io.BytesIO()
    write_mo(compiled, french)
    compiled.seek(0)
    assert msgids(read_mo(compiled)) == msgids(french)


def test_the_catalog_holds_exactly_the_marked_strings(french, extracted):
    assert msgids(extracted), "the extraction found nothing: check babel.cfg"
    assert sorted(map(str, msgids(extracted) - msgids(french))) == []
    assert sorted(map(str, msgids(french) - msgids(extracted))) == []


def test_every_code_label_is_in_the_catalog(french):
    lists = (*codes.ALL_LISTS, codes.ROLES)
    labels = {(None, label) for code_list in lists for label in code_list.values()}
    labels |= {(None, name) for _code, name, _active in codes.MISSIONS}
    assert labels - msgids(french) == set()


def test_placeholders_are_kept_in_french(french):
    """%(name)s for gettext, {name} for the English-only messages matched on pages."""
    for message in french:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, str) else message.id[-1]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(english))
