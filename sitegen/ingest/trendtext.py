"""Words in Google Trends files: title lines, the subject a file is about, header cells as terms, rank labels.

Used by the table reader (``trendtables``): a title line (``"Search interest in Black Friday by country"``) is
told from a data line by its words; the subject (``Black Friday``) names the term of a table whose value column
is only ``Search interest``; a header ``Search interest in Ebola`` is the term ``Ebola``; ``#1``, ``2nd``,
``SECOND``, ``Most searched`` are rank labels.
"""

from __future__ import annotations

import re

from sitegen.ingest.trendvalues import clean, fold

TITLE_WORDS = {
    "search", "searches", "searched", "searching", "interest", "trending", "questions", "question", "ranked",
    "ranking", "rankings", "top", "based", "values", "indexed", "index", "data", "results", "most", "figures",
    "termos", "perguntas", "pergunta", "buscas", "buscados", "buscadas", "buscado", "pesquisas", "pesquisados",
    "dados", "interesse", "crescimento", "extraidos", "busquedas", "recherches", "recherches", "suchinteresse",
    "intensite", "numbers", "percentage", "broken", "source", "note", "methodology",
}
RISING_WORDS = ("crescimento", "trending", "rising", "spike", "em alta", "aumento", "growth", "breakout",
                "maior alta", "fastest", "rate of growth", "tendencia", "en aumento")
_STOP = {"the", "a", "an", "of", "in", "on", "for", "and", "by", "to", "from", "de", "da", "do", "das", "dos", "e",
         "em", "no", "na", "nos", "nas", "com", "la", "le", "les", "des", "du", "et", "en", "el", "los", "las",
         "y", "der", "die", "das", "und", "im", "is", "are", "where", "all", "each", "every", "per", "at", "as"}
GENERIC_VALUE_WORDS = {
    "search", "searches", "interest", "indexed", "index", "indexval", "indexwert", "value", "values", "score",
    "rank", "ranking", "size", "volume", "share", "of", "in", "the", "max", "is", "where", "percentage", "change",
    "participacao", "nas", "buscas", "interesse", "de", "busca", "google", "relative", "data", "normalized",
    "popularity", "count", "total", "searchinterest", "suchinteresse", "proportion", "global", "indexed_interest",
    "max value", "maximum", "1", "100", "0", "1 100", "0 100", "ranked", "week", "weekly", "daily", "monthly",
    "trend", "trends", "em", "participation", "percent", "interest100", "intensity", "number", "average", "avg",
    "mean", "level", "indice", "valor", "valeur", "wert",
}
_RANK_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
               "eighth": 8, "ninth": 9, "tenth": 10, "max": 1, "top": 1, "most": 1, "mais": 1, "primeiro": 1,
               "segundo": 2, "terceiro": 3}


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold(text))


def is_title_line(text: str) -> bool:
    """A line that describes the data rather than naming a searched term."""
    t = clean(text)
    if not t:
        return False
    if t.endswith(":") or t.startswith("*") or len(t) > 100:
        return True
    return any(w in TITLE_WORDS for w in words(t))


def is_prose(lines: list[str]) -> bool:
    """Paragraphs of text (a newsletter's commentary), not a list of searches."""
    if not lines:
        return False
    long = sum(1 for line in lines if len(words(line)) >= 12 and (line.rstrip().endswith(".") or ". " in line))
    return long * 2 >= len(lines)


def is_rising(text: str) -> bool:
    t = fold(text)
    return any(w in t for w in RISING_WORDS)


def rank_label(text: str) -> int:
    """The rank a header cell names (``1``, ``#2``, ``3rd``, ``FOURTH``, ``MAX``, ``Most searched``, ``Second most
    searched team``, ``Top searched``, ``Mais buscado``), or 0."""
    t = fold(text).strip()
    m = re.fullmatch(r"#?\s*(\d{1,2})(st|nd|rd|th)?", t)
    if m:
        return int(m.group(1))
    first = re.split(r"[\s_]+", t)[0] if t else ""
    if t in _RANK_WORDS:
        return _RANK_WORDS[t]
    compact = t.replace(" ", "").replace("_", "").replace("-", "")
    for word, rank in _RANK_WORDS.items():
        if compact.startswith(word + "searched") or compact.startswith(word + "mostsearched") \
                or compact.startswith(word + "buscad") or compact == word + "searched":
            return rank
    if first in ("top",) and len(t.split()) <= 2:
        return 1
    if first in _RANK_WORDS and first not in ("top", "most", "max", "mais") and len(t.split()) == 1:
        return _RANK_WORDS[first]
    if re.fullmatch(r"(1st|2nd|3rd|\d+th)(_.*)?", t):
        return int(re.match(r"\d+", t).group(0))
    return 0


def is_rank_header(text: str) -> bool:
    """A column of rank numbers (``Rank``, ``Ranking``, ``Rank of interest in Fifa``, ``rank_queries``)."""
    t = fold(text)
    return bool(re.match(r"^(rank|ranking|rang|posicao|position|#|rank of|ranked|place|\w+ rank$)", t)) \
        or t.endswith(" rank") or t.endswith("_rank") or t == "no" or t.startswith("rank_")


def is_growth_header(text: str) -> bool:
    t = fold(text)
    return any(w in t for w in ("crescimento", "growth", "% change", "rate of", "aumento", "change from",
                                "increase", "rise", "variacao", "variation"))


def header_term(text: str) -> str:
    """A header cell as the term it measures: ``Search interest in Ebola`` -> ``Ebola``, ``sunscreen: (United
    States)`` -> ``sunscreen``, ``Arsenal (indexed, 1-100)`` -> ``Arsenal``, ``Rank, Catholicism`` ->
    ``Catholicism``; ``""`` for a generic label (``Search Interest``, ``indexVal``, ``Value``)."""
    t = clean(text)
    t = re.sub(r":\s*\([^()]*\)\s*$", "", t)  # Explore: "term: (Region)"
    t = re.sub(r"\s*\((?:indexed|ranked|\d)[^()]*\)\s*$", "", t, flags=re.I)
    t = re.sub(r"^(?:indexed\s+)?(?:global\s+)?(?:search(?:es)?\s+interest|searches|search|interest)"
               r"\s+(?:in|for|on)\s+(?:the\s+)?", "", t, flags=re.I)
    t = re.sub(r"^%\s*searches\s+for\s+", "", t, flags=re.I)
    t = re.sub(r"^rank(?:ing)?(?:\s+of\s+interest\s+in)?[,:]?\s+", "", t, flags=re.I) if re.match(
        r"^rank(?:ing)?(?:\s+of\s+interest\s+in)?[,:]?\s+\S", t, re.I) else t
    t = re.sub(r",?\s*(?:indexed\s+)?search\s+interest\b.*$", "", t, flags=re.I) if not re.match(
        r"^(?:indexed\s+)?search\s+interest", t, re.I) else t
    t = re.sub(r",\s*(?:[A-Za-z]{3,9}\.?\s+)?\d.*$", "", t)  # "Fifa, May 27-28, 2015"
    t = re.sub(r"(?:_%|_indexed?|_index|\s*%)$", "", t, flags=re.I).strip(" ,:;*\"'")
    if not t or all(w in GENERIC_VALUE_WORDS for w in words(t)) or re.fullmatch(r"[\d\s/%.-]*", t):
        return ""
    if fold(t).startswith("search interest") or fold(t).startswith("indexed search"):
        return ""
    return t


_SUBJECT_PATTERNS = [
    r"search(?:es)?\s+interest\s+(?:(?:per|by)\s+\w+\s+)?(?:in|for|on)\s+(?:the\s+)?(.+)",
    r"(?:searching|searches|searched)\s+(?:for|on)\s+(?:the\s+)?(.+)",
    r"^(?:top|most)[\s-]+searched\s+(.+)",
    r"^rankings?\s+(?:for|of)\s+(.+)",
    r"^(?:top|most)\s+(?:trending\s+)?(.+)",
    r"interesse\s+(?:de\s+busca\s+)?(?:em|por|no|na|nos|nas)\s+(.+)",
    r"intensit[ée]\s+de\s+recherches?\s+pour\s+(?:le\s+|la\s+|les\s+)?(.+)",
    r"suchinteresse\s+nach\s+(.+)",
]
_SUBJECT_END = re.compile(r"\s+(?:by|in|from|during|on|since|over|across|between|leading|following|after|before|"
                          r"around|at|among|compared|broken|ranked|per|where|which|that|\d{1,2}/\d)\b.*$"
                          r"|\s+(?:and\s+)?(?:have|has|had|were|was|is|are)\s+been\b.*$|\s*[,.(:;!?].*$|\s+-\s+.*$",
                          re.I)


def subject(titles: list[str], name: str = "") -> str:
    """What a file or table is about, from its title (``Top countries searching for Black Friday, 7 days ...`` ->
    ``Black Friday``), else from its file name (``20191123_BlackFriday1.csv`` -> ``Black Friday``)."""
    for title in titles[:3]:
        t = clean(title).replace("\n", " ")
        t = t.split("//")[-1].strip() if "//" in t else t
        for pattern in _SUBJECT_PATTERNS:
            m = re.search(pattern, t, re.I)
            if m:
                found = _SUBJECT_END.sub("", m.group(1)).strip(" \"'“”‘’")
                if found and not all(w in GENERIC_VALUE_WORDS or w in _STOP for w in words(found)):
                    return found[:80]
    return name_subject(name)


def name_subject(name: str) -> str:
    """``20191123_BlackFriday1.csv`` -> ``Black Friday``; ``20150824_MeiXiang.csv`` -> ``Mei Xiang``."""
    stem = re.sub(r"\.[a-z0-9]+$", "", name.rsplit("/", 1)[-1].split("#")[0], flags=re.I)
    stem = re.sub(r"(?<!\d)\d{4}[-_]?\d{1,2}[-_]?\d{1,2}(?!\d)|(?<!\d)\d{6,8}(?!\d)", " ", stem)
    stem = re.sub(r"(?<=[a-z])by(?=[A-Z])", " by ", stem)
    stem = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", stem)
    parts = [p for p in re.split(r"[\s_\-.,\[\]()]+", stem) if p and not p.isdigit()]
    parts = [re.sub(r"\d+$", "", p) for p in parts]
    return " ".join(p for p in parts if p)[:80]


_NOT_THEME = {"city", "cities", "state", "states", "county", "counties", "country", "countries", "region",
              "regions", "district", "capital", "player", "team", "candidate", "party", "parties", "final", "finals",
              "week", "weekly", "day", "daily", "month", "monthly", "year", "yearly", "sheet", "total", "latest",
              "version", "google", "trend", "trends", "list", "people", "issue", "election", "elections", "news",
              "searches", "interest", "national", "global", "world", "worldwide", "xlsx", "csv", "info"}


def theme_words(*texts: str) -> set[str]:
    """Content words of names and titles, singular, for linking files about the same theme (``Halloween
    costumes`` in ``20151021_HalloweenCostumes_Frightgeist.csv`` and ``halloweencostumes_totalFR``)."""
    out: set[str] = set()
    for text in texts:
        text = re.sub(r"\.(csv|tsv|txt|xlsx|xlsm|zip)$", "", text, flags=re.I)
        text = re.sub(r"(?<=[a-z])by(?=[A-Z])", " by ", text)
        text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
        for w in words(text):
            w = w.rstrip("0123456789") if not w.isdigit() else w
            if w.isdigit() or len(w) < 3 or w in _STOP or w in GENERIC_VALUE_WORDS or w in TITLE_WORDS:
                continue
            if len(w) > 4 and w.endswith("s") and not w.endswith("ss"):
                w = w[:-1]
            if w not in _NOT_THEME and w + "s" not in _NOT_THEME:
                out.add(w)
    return out
