"""Place names in Google Trends files as region codes: ``US``, ``US-CA``, ``BR-SP``, ``""`` for worldwide.

A country is its ISO 3166-1 alpha-2 code (English names and common aliases: ``United States``, ``USA``, ``UK``,
``Brasil`` ...); a US state, Brazilian state, Canadian province, Australian state or UK nation its ISO 3166-2
code; a place below that (a city, metro area, county) the code it lies in, ``:`` and its name as written
(``US-TX:Brenham``, ``US-PA:Philadelphia PA``). Written forms understood: ``Idaho (United States)``,
``Brenham (Texas United States)``, ``Alabama [us-al]``, ``Pokhara, Nepal``, ``Benton County, Mississippi``,
``State of Maranhão``, ``Wilkes Barre-Scranton PA`` (a trailing state code, in the US). A name that resolves to
nothing is kept as written, after the file's region when it has one (``FR:Alsace``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from sitegen.ingest.trendvalues import clean, fold

_COUNTRIES = """AD Andorra|AE United Arab Emirates|AF Afghanistan|AG Antigua and Barbuda|AI Anguilla|AL Albania|AM Armenia
|AO Angola|AQ Antarctica|AR Argentina|AS American Samoa|AT Austria|AU Australia|AW Aruba|AX Aland Islands|AZ Azerbaijan
|BA Bosnia and Herzegovina|BB Barbados|BD Bangladesh|BE Belgium|BF Burkina Faso|BG Bulgaria|BH Bahrain|BI Burundi
|BJ Benin|BL Saint Barthelemy|BM Bermuda|BN Brunei|BO Bolivia|BQ Caribbean Netherlands|BR Brazil|BS Bahamas|BT Bhutan
|BV Bouvet Island|BW Botswana|BY Belarus|BZ Belize|CA Canada|CC Cocos Islands|CD Democratic Republic of the Congo
|CF Central African Republic|CG Republic of the Congo|CH Switzerland|CI Cote d'Ivoire|CK Cook Islands|CL Chile
|CM Cameroon|CN China|CO Colombia|CR Costa Rica|CU Cuba|CV Cape Verde|CW Curacao|CX Christmas Island|CY Cyprus
|CZ Czech Republic|DE Germany|DJ Djibouti|DK Denmark|DM Dominica|DO Dominican Republic|DZ Algeria|EC Ecuador
|EE Estonia|EG Egypt|EH Western Sahara|ER Eritrea|ES Spain|ET Ethiopia|FI Finland|FJ Fiji|FK Falkland Islands
|FM Micronesia|FO Faroe Islands|FR France|GA Gabon|GB United Kingdom|GD Grenada|GE Georgia|GF French Guiana
|GG Guernsey|GH Ghana|GI Gibraltar|GL Greenland|GM Gambia|GN Guinea|GP Guadeloupe|GQ Equatorial Guinea|GR Greece
|GS South Georgia and the South Sandwich Islands|GT Guatemala|GU Guam|GW Guinea-Bissau|GY Guyana|HK Hong Kong
|HM Heard Island and McDonald Islands|HN Honduras|HR Croatia|HT Haiti|HU Hungary|ID Indonesia|IE Ireland|IL Israel
|IM Isle of Man|IN India|IO British Indian Ocean Territory|IQ Iraq|IR Iran|IS Iceland|IT Italy|JE Jersey|JM Jamaica
|JO Jordan|JP Japan|KE Kenya|KG Kyrgyzstan|KH Cambodia|KI Kiribati|KM Comoros|KN Saint Kitts and Nevis|KP North Korea
|KR South Korea|KW Kuwait|KY Cayman Islands|KZ Kazakhstan|LA Laos|LB Lebanon|LC Saint Lucia|LI Liechtenstein
|LK Sri Lanka|LR Liberia|LS Lesotho|LT Lithuania|LU Luxembourg|LV Latvia|LY Libya|MA Morocco|MC Monaco|MD Moldova
|ME Montenegro|MF Saint Martin|MG Madagascar|MH Marshall Islands|MK North Macedonia|ML Mali|MM Myanmar|MN Mongolia
|MO Macao|MP Northern Mariana Islands|MQ Martinique|MR Mauritania|MS Montserrat|MT Malta|MU Mauritius|MV Maldives
|MW Malawi|MX Mexico|MY Malaysia|MZ Mozambique|NA Namibia|NC New Caledonia|NE Niger|NF Norfolk Island|NG Nigeria
|NI Nicaragua|NL Netherlands|NO Norway|NP Nepal|NR Nauru|NU Niue|NZ New Zealand|OM Oman|PA Panama|PE Peru
|PF French Polynesia|PG Papua New Guinea|PH Philippines|PK Pakistan|PL Poland|PM Saint Pierre and Miquelon
|PN Pitcairn Islands|PR Puerto Rico|PS Palestine|PT Portugal|PW Palau|PY Paraguay|QA Qatar|RE Reunion|RO Romania
|RS Serbia|RU Russia|RW Rwanda|SA Saudi Arabia|SB Solomon Islands|SC Seychelles|SD Sudan|SE Sweden|SG Singapore
|SH Saint Helena|SI Slovenia|SJ Svalbard and Jan Mayen|SK Slovakia|SL Sierra Leone|SM San Marino|SN Senegal
|SO Somalia|SR Suriname|SS South Sudan|ST Sao Tome and Principe|SV El Salvador|SX Sint Maarten|SY Syria|SZ Eswatini
|TC Turks and Caicos Islands|TD Chad|TF French Southern Territories|TG Togo|TH Thailand|TJ Tajikistan|TK Tokelau
|TL Timor-Leste|TM Turkmenistan|TN Tunisia|TO Tonga|TR Turkey|TT Trinidad and Tobago|TV Tuvalu|TW Taiwan|TZ Tanzania
|UA Ukraine|UG Uganda|UM U.S. Outlying Islands|US United States|UY Uruguay|UZ Uzbekistan|VA Vatican City
|VC Saint Vincent and the Grenadines|VE Venezuela|VG British Virgin Islands|VI U.S. Virgin Islands|VN Vietnam
|VU Vanuatu|WF Wallis and Futuna|WS Samoa|XK Kosovo|YE Yemen|YT Mayotte|ZA South Africa|ZM Zambia|ZW Zimbabwe"""

_ALIASES = """US United States of America|US USA|US U.S.|US U.S.A.|US America|US Estados Unidos|US EUA|US The United States
|GB UK|GB U.K.|GB Great Britain|GB Britain|GB Reino Unido|GB Royaume-Uni|GB-ENG England|GB-SCT Scotland|GB-WLS Wales
|GB-NIR Northern Ireland|BR Brasil|DE Deutschland|DE Alemanha|DE Allemagne|FR Franca|ES Espanha|ES Espana|IT Italia
|MX Mexique|CZ Czechia|CI Ivory Coast|SZ Swaziland|MM Burma|MM Myanmar Burma|MK Macedonia|MK FYROM
|CD Congo - Kinshasa|CD DR Congo|CD Congo DRC|CD Democratic Republic of Congo|CG Congo - Brazzaville|CG Congo
|GM The Gambia|BS The Bahamas|KR Korea|KR Republic of Korea|KR Korea, Republic of|VA Vatican|VA Holy See
|RU Russian Federation|VN Viet Nam|TR Turkiye|TL East Timor|CV Cabo Verde|FK Falkland Islands Islas Malvinas
|MO Macau|PS Palestinian Territories|PS State of Palestine|BN Brunei Darussalam|LA Lao PDR|SY Syrian Arab Republic
|IR Iran, Islamic Republic of|TZ United Republic of Tanzania|MD Republic of Moldova|BO Bolivia, Plurinational State of
|VE Venezuela, Bolivarian Republic of|FM Federated States of Micronesia|KN St. Kitts and Nevis|LC St. Lucia
|VC St. Vincent and Grenadines|MF St. Martin|BL St. Barthelemy|PM St. Pierre and Miquelon|SH St. Helena
|US-DC Washington, D.C.|US-DC Washington DC|US-DC D.C.|BA Bosnia|TT Trinidad|AG Antigua|ST Sao Tome|HK Hong Kong SAR"""

_STATES = {
    "US": "AL Alabama|AK Alaska|AZ Arizona|AR Arkansas|CA California|CO Colorado|CT Connecticut|DE Delaware"
          "|DC District of Columbia|FL Florida|GA Georgia|HI Hawaii|ID Idaho|IL Illinois|IN Indiana|IA Iowa|KS Kansas"
          "|KY Kentucky|LA Louisiana|ME Maine|MD Maryland|MA Massachusetts|MI Michigan|MN Minnesota|MS Mississippi"
          "|MO Missouri|MT Montana|NE Nebraska|NV Nevada|NH New Hampshire|NJ New Jersey|NM New Mexico|NY New York"
          "|NC North Carolina|ND North Dakota|OH Ohio|OK Oklahoma|OR Oregon|PA Pennsylvania|RI Rhode Island"
          "|SC South Carolina|SD South Dakota|TN Tennessee|TX Texas|UT Utah|VT Vermont|VA Virginia|WA Washington"
          "|WV West Virginia|WI Wisconsin|WY Wyoming",
    "BR": "AC Acre|AL Alagoas|AP Amapa|AM Amazonas|BA Bahia|CE Ceara|DF Distrito Federal|DF Federal District"
          "|ES Espirito Santo|GO Goias|MA Maranhao|MT Mato Grosso|MS Mato Grosso do Sul|MG Minas Gerais|PA Para"
          "|PB Paraiba|PR Parana|PE Pernambuco|PI Piaui|RJ Rio de Janeiro|RN Rio Grande do Norte|RS Rio Grande do Sul"
          "|RO Rondonia|RR Roraima|SC Santa Catarina|SP Sao Paulo|SE Sergipe|TO Tocantins",
    "CA": "AB Alberta|BC British Columbia|MB Manitoba|NB New Brunswick|NL Newfoundland and Labrador|NS Nova Scotia"
          "|ON Ontario|PE Prince Edward Island|QC Quebec|SK Saskatchewan|NT Northwest Territories|NU Nunavut|YT Yukon",
    "AU": "ACT Australian Capital Territory|NSW New South Wales|VIC Victoria|QLD Queensland|TAS Tasmania"
          "|NT Northern Territory|WA Western Australia|SA South Australia",
}

WORLDWIDE = {"worldwide", "world", "global", "globally", "mundo", "monde", "weltweit", "todo el mundo", "all",
             "world excl. france"}


def _key(text: str) -> str:
    t = fold(text).replace("&", " and ")
    t = re.sub(r"\bst\.? ", "saint ", t)
    t = re.sub(r"[^a-z0-9]+", " ", t)
    return t.strip()


COUNTRY: dict[str, str] = {}
for _entry in (_COUNTRIES + "|" + _ALIASES).replace("\n", "").split("|"):
    _code, _name = _entry.strip().split(" ", 1)
    COUNTRY.setdefault(_key(_name), _code)
COUNTRY_CODES = {e.strip().split(" ", 1)[0] for e in _COUNTRIES.replace("\n", "").split("|")}
STATE: dict[str, dict[str, str]] = {}  # country -> folded name or code -> ISO 3166-2
for _country, _table in _STATES.items():
    names: dict[str, str] = {}
    for _entry in _table.split("|"):
        _code, _name = _entry.split(" ", 1)
        names[_key(_name)] = f"{_country}-{_code}"
        names[_code.lower()] = f"{_country}-{_code}"
    STATE[_country] = names
STATE_CODES = {code for table in STATE.values() for code in table.values()}


_AMBIGUOUS = {"victoria", "georgia"}  # a state name that is also a country or a city elsewhere


def _direct(key: str, context: str) -> str:
    """A country, or a state: a state of the context's country wins (Georgia in the US), then a country, then a
    state name found in no other table (Ontario, New South Wales, Texas)."""
    country = context.split(":")[0].split("-")[0]
    table = STATE.get(country, {})
    if len(key) > 3 and key in table:
        return table[key]
    if key in COUNTRY:
        return COUNTRY[key]
    if key not in _AMBIGUOUS and len(key) > 3:
        for other in ("US", "CA", "AU"):
            if key in STATE[other]:
                return STATE[other][key]
    return ""


def resolve_code(text: str) -> str:
    """An ISO code column's cell (``PR``, ``SE-K``) as a region, or ``""``."""
    code = clean(text).upper()
    m = re.match(r"^([A-Z]{2})(?:-([A-Z0-9]{1,3}))?$", code)
    return code if m and m.group(1) in COUNTRY_CODES else ""


@lru_cache(maxsize=65536)
def resolve(text: str, context: str = "") -> tuple[str, bool]:
    """``(region, known)``: the region code of a place name (see the module docstring) and whether it resolved to
    a code (False: the name was kept as written). ``context`` is the region the file or column is about."""
    name = clean(text).strip(" ,")
    if not name:
        return "", False
    key = _key(name)
    if key in WORLDWIDE:
        return "", True
    m = re.match(r"^(.*?)\s*\[([a-z]{2})(?:-([a-z0-9]{1,3}))?\]$", name, re.I)
    if m:
        return m.group(2).upper() + (f"-{m.group(3).upper()}" if m.group(3) else ""), True
    m = re.match(r"^(?:state of|estado de|estado do|estado da) (.+)$", key)
    if m and m.group(1) in STATE["BR"]:
        return STATE["BR"][m.group(1)], True
    country = context.split(":")[0].split("-")[0]
    if name.isupper() and len(name) <= 3 and key in STATE.get(country, {}):
        return STATE[country][key], True  # NSW, ACT in Australia; TX in the US
    if len(name) == 2 and name.isupper() and name in COUNTRY_CODES | {"UK"}:
        return ("GB" if name == "UK" else name), True
    code = _direct(key, context)
    if code:
        return code, True
    m = re.match(r"^(.+?)\s*\((.+)\)$", name)  # Brenham (Texas United States), Idaho (United States)
    if m:
        outer, inner = m.group(1).strip(), m.group(2).strip()
        where, known = _qualifier(inner, context)
        if known:
            own = _direct(_key(outer), where)
            return (own if own else f"{where}:{outer}" if where else outer), True
        own = _direct(_key(outer), context)
        if own and "-" not in own:
            return f"{own}:{inner}", True
    if "," in name:  # Pokhara, Nepal; Benton County, Mississippi; Paris, France
        head, _, tail = name.rpartition(",")
        where, known = _qualifier(tail.strip(), context or "US")
        if known and where:
            own = _direct(_key(head), where)
            return (own, True) if own else (f"{where}:{head.strip()}", True)
    m = re.match(r"^(.+?)\s+([A-Z]{2})$", name)  # Wilkes Barre-Scranton PA, Elmira NY
    if m and (context or "US").startswith("US") and m.group(2).lower() in STATE["US"]:
        return f"{STATE['US'][m.group(2).lower()]}:{name}", True
    return (f"{context}:{name}" if context else name), False


def _qualifier(text: str, context: str) -> tuple[str, bool]:
    """``Texas United States`` -> US-TX; ``United States`` -> US; ``Andorra`` -> AD; ``Alabama`` (US) -> US-AL."""
    key = _key(text)
    if key in WORLDWIDE:
        return "", True
    code = _direct(key, context)
    if code:
        return code, True
    for name, country in COUNTRY.items():  # "<state> <country>"
        if "-" not in country and key.endswith(" " + name):
            state = STATE.get(country, {}).get(key[: -len(name) - 1].strip(), "")
            return (state or country), True
    return "", False


def region_of_header(text: str) -> str:
    """The region named in an Explore header's parentheses: ``sunscreen: (United States)`` -> US,
    ``(12/7/22 - 12/7/23, United States)`` -> US, ``(Philadelphia PA)`` -> US-PA:Philadelphia PA,
    ``(Worldwide)`` -> ``""``. ``""`` when none is named."""
    m = re.search(r"\(([^()]*)\)\s*$", clean(text))
    if not m:
        return ""
    inner = m.group(1)
    parts = [p.strip() for p in inner.split(",")]
    place = [p for p in parts if p and not re.search(r"\d+/\d+/\d+", p)]
    if not place:
        return ""
    region, _ = resolve(", ".join(place))
    return region


_PREPOSITION = re.compile(r"\b(?:in|de|em|en|of|for|à|no|na|im|au)\s+(?:the\s+)?([A-ZÀ-Ý][\w'À-ÿ]+(?: [A-Z][\w'À-ÿ]+)?)")
_NOT_COUNTRY_CODES = {"IN", "IT", "TO", "NO", "AM", "AS", "OR", "ME", "IS", "AT", "BY", "DE", "LA", "PA", "MA", "SO",
                      "TV", "ID", "OK", "PR", "CO", "GE", "AD", "PE", "MD", "MS", "SC", "NE", "AL", "AR", "AZ"}


def region_in_text(text: str) -> str:
    """A country a title or file name states (``in the US``, ``US searches``, ``in France``, ``_BR``): its code,
    or ``""``. Only clear mentions count, so a person's name is not taken for a place."""
    t = " " + re.sub(r"[_\-.]+", " ", clean(text)) + " "
    if re.search(r"\b(worldwide|globally|global)\b", t, re.I):
        return ""
    if re.search(r"\b(US|USA|United States|America)\b|U\.S\.", t) and not re.search(r"\b(South|Latin) America", t):
        return "US"
    if re.search(r"\b(UK|United Kingdom|Britain|GB)\b", t):
        return "GB"
    for m in _PREPOSITION.finditer(t):
        code = COUNTRY.get(_key(m.group(1))) or COUNTRY.get(_key(m.group(1).split(" ")[0]))
        if code and _key(m.group(1).split(" ")[0]) not in ("georgia", "jordan", "chad", "turkey", "america"):
            return code
    for token in re.findall(r"\b([A-Z]{2})\b", t):
        if token in COUNTRY_CODES and token not in _NOT_COUNTRY_CODES:
            return token
    for word in re.findall(r"[A-Z][a-z]+", t):
        k = _key(word)
        if k in COUNTRY and len(word) > 4 and k not in ("georgia", "jordan", "turkey", "chad", "america"):
            return COUNTRY[k]
    return ""


def region_matches(region: str, wanted: str) -> bool:
    """Whether a trend's region is ``wanted`` or lies inside it (``US-CA`` and ``US-CA:San Diego`` are in ``US``);
    ``wanted = ""`` matches every region."""
    if not wanted:
        return True
    wanted = wanted.strip().upper()
    head = region.split(":")[0].upper()
    return head == wanted or head.startswith(wanted + "-")
