"""Values in Google Trends files: interest numbers, growth percentages, search volumes, dates and file dates.

Interest: ``68``, ``55.88``, ``1,204`` (thousands), ``<1`` (read as 0.5), ``23%``; with ``decimal_comma`` (a
table in Portuguese, Spanish, French or German) ``1.350`` is 1350 and ``33,5`` is 33.5. Growth: ``+3,700%``,
``250%``, ``Breakout`` / ``Aumento repentino`` (more than +5000%, read as ``BREAKOUT`` = 5000). Search volumes
(Trending now): ``200K+``, ``2M+``, ``2 mil+`` (thousand), ``1 mi+`` (million), a no-break space allowed.

Dates: ISO (``2022-05-01``, ``2004-01``), US ``5/20/2015`` (day first when the first number is above 12, or with
dots ``03.05.2017``), ``Jun 4 2018``, ``October 11, 2025``, ``9 de julho de 2026``, ``13. April 2022``,
``January 2014``, ``Jan-04``, ``03Oct2018``, a range ``01/02/2019 - 01/08/2019`` (its start), ``Week: 06/28/2020``,
a year ``2008`` where a column of years is expected; month names in English, Portuguese, Spanish, French and
German. A time of day without a date (``7:30 PM EST``) and a day without a year (``8/6 16:40``) are told apart
so a reader can say why a row was rejected.
"""

from __future__ import annotations

import calendar
import math
import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache

BREAKOUT = 5000.0  # Google labels a rise of more than +5000% "Breakout"

MONTHS: dict[str, int] = {}
for _n, _names in enumerate((
        "january jan janeiro enero ene janvier janv januar jän jaen",
        "february feb fevereiro fev febrero février fevrier févr fevr februar",
        "march mar março marco marzo mars märz maerz marz",
        "april apr abril abr avril avr",
        "may maio mai mayo",
        "june jun junho junio juin juni",
        "july jul julho julio juillet juil juli",
        "august aug agosto ago août aout",
        "september sep sept setembro set septiembre setiembre septembre",
        "october oct outubro out octubre octobre okt oktober",
        "november nov novembro noviembre novembre",
        "december dec dezembro dez diciembre dic décembre decembre déc dezember"), start=1):
    for _w in _names.split():
        MONTHS[_w] = _n

BREAKOUT_WORDS = ("breakout", "aumento repentino", "fuerte aumento", "forte hausse", "starker anstieg")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower case, accents removed, spaces collapsed: for matching names, not for display."""
    text = str(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SPACES.sub(" ", text).strip().lower()


_ODD_SPACE = re.compile(r"  |[\u00a0\u202f\u2009\t\n\r]")


def clean(text: object) -> str:
    """A cell as display text: spaces (also no-break) collapsed, outer quotes and spaces removed."""
    if text is None:
        return ""
    out = str(text).strip()
    if not out:
        return out
    if _ODD_SPACE.search(out):
        out = _SPACES.sub(" ", out).strip()
    if len(out) >= 2 and out[0] == out[-1] and out[0] in "\"'":
        out = out[1:-1].strip()
    return out


# -- numbers -------------------------------------------------------------------------------------------------

_THOUSANDS_DOT = re.compile(r"^\d{1,3}(\.\d{3})+$")
_THOUSANDS_COMMA = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


def parse_number(value: object, decimal_comma: bool = False) -> float | None:
    """An interest or growth value as a float; ``None`` for an empty cell or ``-``. Raises ``ValueError``
    for text that is not a number. ``<1`` is 0.5, a Breakout label is ``BREAKOUT``, ``+`` and ``%`` are dropped."""
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if not value:
        return None
    try:
        if decimal_comma and ("." in value or "," in value):
            raise ValueError  # 1.350 is 1350 here: the slow path below reads it
        number = float(value)  # the common case: a plain number
        if math.isfinite(number) and "_" not in str(value):
            return number
    except (TypeError, ValueError):
        pass
    shown = clean(value)
    if shown[:1].isalpha():  # text: a Breakout label, n/a, or not a number at all
        low = fold(shown).rstrip("*").strip()
        if any(low.startswith(w) for w in BREAKOUT_WORDS):
            return BREAKOUT
        if low in ("n/a", "na"):
            return None
        raise ValueError(f"not a number: {shown!r}")
    text = _SPACES.sub("", shown)
    if text in ("", "-", "--", "—"):
        return None
    if text == "<1":
        return 0.5
    text = text.lstrip("+").rstrip("*").rstrip("%").lstrip("+")
    if decimal_comma:
        if _THOUSANDS_DOT.match(text):
            text = text.replace(".", "")
        elif text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
    if _THOUSANDS_COMMA.match(text):
        text = text.replace(",", "")
    elif re.match(r"^\d+,\d{1,2}$", text):  # 33,33: a decimal comma
        text = text.replace(",", ".")
    if not _NUMBER.match(text):
        raise ValueError(f"not a number: {shown!r}")
    return float(text)


_VOLUME = re.compile(r"^([\d.,]+)\s*(k|m|b|mil|mi|mln|mio|mrd|bi|mil millones)?\s*\+?$")
_VOLUME_UNITS = {"": 1.0, "k": 1e3, "mil": 1e3, "m": 1e6, "mi": 1e6, "mln": 1e6, "mio": 1e6, "b": 1e9, "bi": 1e9,
                 "mrd": 1e9, "mil millones": 1e9}


def parse_volume(value: object) -> float:
    """A Trending-now search volume: ``200K+`` -> 200000, ``2 mil+`` -> 2000, ``1 mi+`` -> 1e6, ``500+`` -> 500.
    Raises ``ValueError`` for anything else."""
    text = _SPACES.sub(" ", clean(value)).lower()
    m = _VOLUME.match(text)
    if not m:
        raise ValueError(f"not a search volume: {clean(value)!r}")
    digits = m.group(1)
    if "," in digits and "." not in digits and not re.match(r"^\d{1,3}(,\d{3})+$", digits):
        digits = digits.replace(",", ".")  # 1,5 mi+
    else:
        digits = digits.replace(",", "")
    if re.match(r"^\d{1,3}(\.\d{3})+$", digits):
        digits = digits.replace(".", "")
    return float(digits) * _VOLUME_UNITS[m.group(2) or ""]


# -- dates ---------------------------------------------------------------------------------------------------

def _valid(y: int, m: int, d: int) -> date | None:
    if y < 100:
        y += 2000
    try:
        return date(y, m, d) if 1900 <= y <= 2100 else None
    except ValueError:
        return None


def _iso(day: date, hour: int | None = None, minute: int = 0) -> str:
    if hour is None or (hour == 0 and minute == 0):
        return day.isoformat()
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def _hour(h: str | None, ampm: str | None) -> int | None:
    if h is None:
        return None
    hour = int(h)
    if ampm:
        hour = hour % 12 + (12 if ampm.lower().startswith("p") else 0)
    return hour if 0 <= hour <= 23 else None


_TIME = r"(?:,?\s+(?:at\s+|às\s+|as\s+|a las\s+|à\s+|um\s+)?(\d{1,2})(?::(\d{2}))?(?::\d{2})?\s*([ap]\.?m\.?)?)?"
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?$")
_ISO_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})([/.])(\d{1,2})\2(\d{2}|\d{4})" + _TIME + r"\s*[a-z]{0,4}$", re.I)
_NAMED_MDY = re.compile(r"^([a-zà-ü]+)\.?[\s-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s-]+(\d{4})" + _TIME + r"\s*[a-z]{0,4}$", re.I)
_NAMED_DMY = re.compile(r"^(\d{1,2})\.?(?:\s+de)?[\s-]*([a-zà-ü]+)\.?(?:\s+de)?[\s-]*(\d{4})" + _TIME
                        + r"\s*[a-z]{0,4}$", re.I)
_MONTH_YEAR = re.compile(r"^([a-zà-ü]+)\.?(?:\s+de)?[\s-]+(\d{4}|\d{2})$", re.I)
_TIME_ONLY = re.compile(r"^\d{1,2}(:\d{2}){1,2}\s*([ap]\.?m\.?)?\s*([a-z]{1,4})?$|^\d{1,2}\s*[ap]\.?m\.?(\s+[a-z]{1,4})?$", re.I)
_NO_YEAR = re.compile(r"^\d{1,2}/\d{1,2}(?:$|[\s-])", re.I)
_RANGE = re.compile(r"^(.+?)\s+(?:-|–|to|a|até|bis|au)\s+(.+)$")
_PREFIX = re.compile(r"^(?:week|semana|woche|semaine|month|mês|day|dia)\s*(?:of\s*)?:?\s*", re.I)


def date_kind(value: object, dayfirst: bool = False, years: bool = False) -> tuple[str, str]:
    """``("date", iso)`` for a date (``iso`` a date, or ``YYYY-MM-DDTHH:MM`` with a time of day), ``("time", "")``
    for a time of day without a date, ``("noyear", "")`` for a day without a year, ``("", "")`` for anything
    else. ``years`` accepts a bare year (``2008`` -> 2008-01-01); ``dayfirst`` reads ``3/5/2017`` as 3 May."""
    if isinstance(value, datetime):
        return "date", _iso(value.date(), value.hour, value.minute)
    if isinstance(value, date):
        return "date", value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if years and float(value).is_integer() and 1900 <= value <= 2100:
            return "date", f"{int(value):04d}-01-01"
        return "", ""
    text = clean(value)
    if not text or not any(ch.isdigit() for ch in text):
        return "", ""
    text = _PREFIX.sub("", text)
    m = _RANGE.match(text)
    if m and any(ch.isdigit() for ch in m.group(1)) and any(ch.isdigit() for ch in m.group(2)):
        kind, iso = date_kind(m.group(1), dayfirst, years)
        if kind:
            return kind, iso
    if years and re.fullmatch(r"\d{4}(\.0)?", text) and 1900 <= int(float(text)) <= 2100:
        return "date", f"{int(float(text)):04d}-01-01"
    m = _ISO.match(text)
    if m:
        d = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            return "date", _iso(d, int(m.group(4)) if m.group(4) else None, int(m.group(5) or 0))
        return "", ""
    m = _ISO_MONTH.match(text)
    if m and 1 <= int(m.group(2)) <= 12:
        d = _valid(int(m.group(1)), int(m.group(2)), 1)
        return ("date", d.isoformat()) if d else ("", "")
    m = _NUMERIC.match(text)
    if m:
        a, b, y = int(m.group(1)), int(m.group(3)), int(m.group(4))
        day_first = dayfirst or m.group(2) == "." or a > 12
        d = _valid(y, b, a) if day_first else _valid(y, a, b)
        if d:
            hour = _hour(m.group(5), m.group(7))
            return "date", _iso(d, hour, int(m.group(6) or 0))
        return "", ""
    for pattern, order in ((_NAMED_MDY, "mdy"), (_NAMED_DMY, "dmy")):
        m = pattern.match(text)
        if m:
            if order == "mdy":
                month, day_n = MONTHS.get(fold(m.group(1))), int(m.group(2))
            else:
                month, day_n = MONTHS.get(fold(m.group(2))), int(m.group(1))
            d = _valid(int(m.group(3)), month, day_n) if month else None
            if d:
                return "date", _iso(d, _hour(m.group(4), m.group(6)), int(m.group(5) or 0))
    m = _MONTH_YEAR.match(text)
    if m and fold(m.group(1)) in MONTHS:
        d = _valid(int(m.group(2)), MONTHS[fold(m.group(1))], 1)
        return ("date", d.isoformat()) if d else ("", "")
    m = re.match(r"^(\d{1,2})([a-z]{3,9})(\d{4})$", fold(text))  # 03Oct2018
    if m and m.group(2) in MONTHS:
        d = _valid(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1)))
        if d:
            return "date", d.isoformat()
    if _TIME_ONLY.match(text) or re.match(r"^\d{1,2}:\d{2}", text):
        return "time", ""
    if _NO_YEAR.match(text) or re.match(r"^\d{1,2}/\d{1,2}-\d{1,2}h$", text):
        return "noyear", ""
    return "", ""


def parse_date(value: object, dayfirst: bool = False, years: bool = False) -> str | None:
    """The ISO date (or date and time) of a cell, or None (see ``date_kind``)."""
    kind, iso = date_kind(value, dayfirst, years)
    return iso if kind == "date" else None


_STAMP = re.compile(r"^(.+?)\s+(?:at|às|as|a las|à|um)\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?"
                    r"\s*(?:(?:utc|gmt)\s*([+-]\d{1,2})(?::?(\d{2}))?)?$", re.I)


def parse_timestamp(value: object) -> str:
    """A Trending-now ``Started`` / ``Ended`` cell as ISO with its offset: ``October 11, 2025 at 12:40:00 PM
    UTC-7`` -> ``2025-10-11T12:40:00-07:00``; ``9 de julho de 2026 às 18:50:00 UTC-3`` likewise. ``""`` for an
    empty cell; raises ``ValueError`` for anything else."""
    text = _SPACES.sub(" ", clean(value))
    if not text:
        return ""
    m = _STAMP.match(text)
    if not m:
        iso = parse_date(text)
        if iso:
            return iso
        raise ValueError(f"not a date and time: {text!r}")
    day = parse_date(m.group(1))
    hour = _hour(m.group(2), m.group(5))
    if not day or hour is None:
        raise ValueError(f"not a date and time: {text!r}")
    out = f"{day[:10]}T{hour:02d}:{m.group(3)}:{m.group(4) or '00'}"
    if m.group(6):
        sign = "-" if m.group(6).startswith("-") else "+"
        out += f"{sign}{abs(int(m.group(6))):02d}:{m.group(7) or '00'}"
    return out


def month_end(year: int, month: int) -> str:
    return date(year, month, calendar.monthrange(year, month)[1]).isoformat()


_NAME_DATES = (  # (pattern, order of the groups)
    (re.compile(r"(?<!\d)(20\d{2}|19\d{2})[-_ ]?(\d{2})[-_ ]?(\d{2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(20\d{2})-(\d{1,2})-(\d{1,2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(\d{2})(\d{2})(20\d{2})(?!\d)"), "mdy"),
    (re.compile(r"(?<!\d)(20\d{2})(1[0-2])(\d)(?!\d)"), "ymd"),  # 2018102 = 2018-10-2
    (re.compile(r"(?<!\d)(20\d{2})-?(\d)(\d{2})(?!\d)"), "ymd"),  # 2016125 = 2016-12-5 caught above; 2015-507
    (re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})(?!\d)"), "yymmdd"),
)


def file_date(name: str, title: str = "") -> str:
    """The date a file states in its name (``20171019_...``, ``221001_...``, ``2018-5-10_...``, ``..._03Oct2018``,
    ``..., April 12, 2018 - ...``, ``trending_US_7d_20260714-0105``), as ISO; a name with only a year takes the
    last day of the month the title names in that year (``Frightgeist_2018_...`` + "September 2018"). ``""``
    when the name states no date."""
    stem = re.sub(r"\.[a-z0-9]+$", "", name.rsplit("/", 1)[-1], flags=re.I)
    for pattern, order in _NAME_DATES:
        for m in pattern.finditer(stem):
            a, b, c = (int(g) for g in m.groups())
            if order == "ymd":
                d = _valid(a, b, c)
            elif order == "mdy":
                d = _valid(c, a, b) or _valid(c, b, a)
            else:
                d = _valid(a, b, c) or _valid(c, a, b)
            if d:
                return d.isoformat()
    m = re.search(r"(\d{1,2})([A-Za-z]{3,9})(20\d{2})", stem)
    if m and fold(m.group(2)) in MONTHS:
        d = _valid(int(m.group(3)), MONTHS[fold(m.group(2))], int(m.group(1)))
        if d:
            return d.isoformat()
    m = re.search(r"([A-Za-z]{3,9})\.? (\d{1,2}), (20\d{2})", stem)
    if m and fold(m.group(1)) in MONTHS:
        d = _valid(int(m.group(3)), MONTHS[fold(m.group(1))], int(m.group(2)))
        if d:
            return d.isoformat()
    m = re.search(r"(?<!\d)(20\d{2}|19\d{2})(?!\d)", stem)
    if m:
        year = int(m.group(1))
        for found in re.finditer(r"([A-Za-zçé]{3,9})\.?,? (?:de )?(\d{4})", title):
            month = MONTHS.get(fold(found.group(1)))
            if month and int(found.group(2)) == year:
                return month_end(year, month)
    return ""


def period_end(text: str) -> str:
    """The last date of a period written ``(12/18/22 - 12/18/23, United States)``, ``10/10/2022 - 11/10/2022``
    or ``09/01/2022 to 09/30/2022``: ISO, or ``""``."""
    m = re.search(r"(\d{1,2}/\d{1,2}/\d{2,4})\s*(?:-|–|to|a|até)\s*(\d{1,2}/\d{1,2}/\d{2,4})", text)
    if m:
        return (parse_date(m.group(2)) or "")[:10]
    return ""
