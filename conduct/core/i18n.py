"""The pages' languages: English and French, with Flask-Babel and gettext catalogs.

A page's language is the account's choice, else the choice made before login (a cookie), else
the browser's Accept-Language, else English. The JSON API and the command line always speak
English: they are contracts for programs.

The catalogs are the ``.po`` files under conduct/translations; they are compiled in memory when
first used, so there is no compiled file to build or to go stale. Messages are English text
marked for translation: ``gettext`` where a request is running, ``N_`` where a string is
written before any request (code lists, schema messages) and translated when it is shown.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache, cached_property
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, has_request_context, request
from flask_babel import Babel, Domain, format_date, get_locale, gettext

LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"
COOKIE_NAME = "conduct_locale"
COOKIE_SECONDS = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"


def N_(text: str) -> str:  # noqa: N802 - the gettext name for "translate later"
    """Mark ``text`` for the catalog without translating it now; it is translated when shown."""
    return text


def catalog_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def compiled_catalog(language: str) -> NullTranslations:
    """The language's catalog, compiled from its .po file once per process."""
    path = catalog_path(language)
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


class CatalogDomain(Domain):
    """Flask-Babel's domain, reading our .po catalogs instead of compiled .mo files."""

    def get_translations(self):
        locale = get_locale()
        if locale is None or str(locale) == DEFAULT_LANGUAGE:
            return NullTranslations()
        return compiled_catalog(str(locale))


class ConductBabel(Babel):
    @cached_property
    def domain_instance(self):
        return CatalogDomain(domain=DOMAIN)


def is_language(value: object) -> bool:
    return isinstance(value, str) and value in LANGUAGES


def select_locale() -> str:
    """The language of this request's pages (see the module's docstring)."""
    from flask_login import current_user

    from .web import is_api_request  # web builds on this module

    if not has_request_context() or is_api_request():
        return DEFAULT_LANGUAGE

    chosen = getattr(current_user, "locale", None) if current_user.is_authenticated else None
    if is_language(chosen):
        return chosen
    cookie = request.cookies.get(COOKIE_NAME)
    if is_language(cookie):
        return cookie
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return str(locale) if locale is not None else DEFAULT_LANGUAGE


# Marshmallow's own messages, written in English only, with their parameters as patterns: a
# problem shown on a page is translated through them. Conduct's own messages are translated
# where they are raised (API requests are answered in English, see select_locale).
_PARAMETERS = re.compile(r"\\\{(\w+)\\\}")
SCHEMA_MESSAGES: tuple[str, ...] = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Unknown field."),
    N_("Invalid input type."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid boolean."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid UUID."),
    N_("Not a valid list."),
    N_("Not a valid mapping type."),
    N_("Invalid value."),
    N_("String does not match expected pattern."),
    N_("Must be one of: {choices}."),
    N_("Longer than maximum length {max}."),
    N_("Shorter than minimum length {min}."),
    N_("Length must be between {min} and {max}."),
    N_("Must be greater than or equal to {min}."),
    N_("Must be less than or equal to {max}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
)


# Messages with parameters, the most fixed text first: a parameter matches any text, so a
# message that is the start of a longer one ("Must be greater than or equal to {min}.") must
# not be tried before it.
_WITH_PARAMETERS = sorted(
    (message for message in SCHEMA_MESSAGES if "{" in message),
    key=lambda message: -len(_PARAMETERS.sub("", re.escape(message))),
)


@cache
def _pattern(message: str) -> re.Pattern:
    return re.compile("^" + _PARAMETERS.sub(r"(?P<\1>.+?)", re.escape(message)) + "$")


def translate_problem(text: str) -> str:
    """A problem as the page's language says it: a catalog message, or one of the schemas'
    messages with its parameters put back."""
    translated = gettext(text)
    if translated != text or "{" in text:
        return translated
    for message in _WITH_PARAMETERS:
        found = _pattern(message).match(text)
        if found:
            return gettext(message).format(**found.groupdict())
    return text


def translate_problems(problems: Mapping[str, list[str] | str]) -> dict[str, list[str]]:
    """Every problem of a field -> problems mapping, translated (see ``translate_problem``)."""
    return {
        name: [
            translate_problem(str(line)) for line in (lines if isinstance(lines, list) else [lines])
        ]
        for name, lines in problems.items()
    }


def day(value: date | str | None) -> str:
    """A date as the page's language writes it ("28 nov. 2026"); ISO text is read first."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "medium")


def moment(value: datetime | None) -> str:
    """A time to the minute, as logs write it in every language: 2026-11-28 09:30 UTC."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def code_label(code: object, labels: Mapping[str, str]) -> str:
    """The label of a code in the page's language; a code no longer listed is shown as it is."""
    if code is None or code == "":
        return "—"
    label = labels.get(code)
    return gettext(label) if label is not None else str(code)


def country(code: str | None) -> str:
    """An ISO 3166 alpha-3 code with the country's name in the page's language."""
    if not code:
        return "—"
    name = country_names(current_language()).get(code)
    return f"{name} ({code})" if name else code


@cache
def country_names(language: str) -> dict[str, str]:
    """alpha-3 code -> country name in ``language``, from Babel's locale data (CLDR)."""
    from babel.core import get_global

    territories = Locale.parse(language).territories
    aliases = get_global("territory_aliases")
    names = {}
    for alpha3, targets in aliases.items():
        if len(alpha3) == 3 and alpha3.isalpha() and targets and targets[0] in territories:
            names[alpha3] = territories[targets[0]]
    return names


def init_app(app: Flask) -> None:
    from conduct import codes

    ConductBabel(app, locale_selector=select_locale)
    app.jinja_env.filters.update(
        day=day,
        moment=moment,
        country=country,
        label=code_label,
        translated=gettext,
    )
    app.jinja_env.globals.update(
        codes=codes, languages=LANGUAGES, current_language=current_language
    )
