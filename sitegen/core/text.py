"""Text shared by every phase: normalising, tokenising and stemming, what represents an item, its colours.

- ``normalise``: the form every query is kept in (NFKC, lowercase, punctuation to spaces, "t-shirt" and
  "men's" kept whole);
- ``match_words`` / ``stem`` / ``topic_key``: the tokens relevance matches topics and items by (accents
  dropped, "t-shirt" -> "tshirt", "men's" -> "mens" -> "men", plurals to the singular, every way of naming a
  gender to one form by the ``genders`` table of ``sitegen/lexicons/en.toml``);
- ``item_text``: the one text an item is embedded and lexically checked by;
- ``colour_values``: the one way to read an item's colours (every attribute whose name contains "colour" or
  "color", including the pixel colours the build adds as ``colour`` attributes when the catalog names none).

The word lists (stop-words, generic words, genders ...) are data: ``sitegen/lexicons/*.toml``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from sitegen.core.lexicon import english
from sitegen.core.models import Item

COLOUR_KEYS = ("colour", "color")
_LIST_SEPARATORS = re.compile(r"[,;|/]")


def item_text(item: Item) -> str:
    """The text that represents an item for embeddings and lexical relevance."""
    parts = [item.title, item.category, " ".join(item.keywords), " ".join(v for _, v in item.attributes),
             item.description[:300]]
    return " . ".join(p for p in parts if p)


# A title that is a camera's or a scanner's file name, not words: "IMG_1234", "DSC_0001.jpg", "PXL_20230101_1",
# "Screenshot 2024-01-02 at 10.15.00", "scan0003", "P1010001", "1234.png", "image (3)", "untitled-2".
_FILE_NAME_TITLE = re.compile(
    r"^(?:(?:img|image|dsc[nf]?|dcim|pxl|photo|pic|picture|screenshot|scan|untitled|gopr|mvimg|vid|p)"
    r"[\s_\-]*[\(\[]?[\d][\d\s_\-.:at]*[\)\]]?|[\d][\d\s_\-.]*)"
    r"(?:\.(?:jpe?g|png|gif|webp|heic|tiff?|bmp|raw|cr2|nef|dng))?$", re.IGNORECASE)
_EXTENSION = re.compile(r"\.(?:jpe?g|png|gif|webp|heic|tiff?|bmp|raw|cr2|nef|dng)$", re.IGNORECASE)


def file_name_title(title: str) -> bool:
    """True for an empty title or one that looks like a file name ("IMG_1234", "DSC_0001.jpg", "1234.png")."""
    t = " ".join(title.split())
    return not t or bool(_FILE_NAME_TITLE.match(t)) or (bool(_EXTENSION.search(t)) and " " not in t)


def weak_text(item: Item) -> bool:
    """True when an item has no text worth embedding: its title is empty or a file name, and it has no
    description, keywords, category or attribute other than a colour (the pixel colours the build adds to
    items whose catalog names none are not text about the item). Such items are placed by their image when
    an image encoder is on (``embed.image_encoder``)."""
    if not file_name_title(item.title) or item.description.strip() or item.keywords or item.category.strip():
        return False
    return all(is_colour_key(k) or not v.strip() for k, v in item.attributes)


def is_colour_key(name: str) -> bool:
    """True for an attribute that names a colour: "colour", "Color", "base_colour", "colours" ..."""
    low = name.lower()
    return any(c in low for c in COLOUR_KEYS)


def colour_values(item: Item, *, first_attribute: bool = False) -> list[str]:
    """The item's colours in catalog order, de-duplicated: the values of every colour attribute, a value
    listing several ("Black, White", "red/blue") split into each, spacing tidied, case kept. With
    ``first_attribute`` only the first colour attribute's: the catalog's own colour column, or the dominant
    pixel colour (the build adds one ``colour`` attribute per pixel colour, dominant first)."""
    out: dict[str, None] = {}
    for name, value in item.attributes:
        if is_colour_key(name):
            for part in _LIST_SEPARATORS.split(value):
                part = " ".join(part.split())
                if part:
                    out.setdefault(part, None)
            if first_attribute and out:
                break
    return list(out)


# -- the query form -------------------------------------------------------------------------------------
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-"})
_ASCII_PUNCT = re.compile(r"[^a-z0-9'&-]+")
_ASCII_EDGE = re.compile(r"(?<![a-z0-9])['-]+|['-]+(?![a-z0-9])")


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """NFKC, lowercase, one space between words; punctuation becomes a space except a hyphen or apostrophe
    between two letters/digits ("t-shirt", "men's") and the ampersand ("black & white")."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    if text.isascii():  # fast path, same rules
        text = _ASCII_EDGE.sub(" ", _ASCII_PUNCT.sub(" ", text)).replace("&", " & ")
        return " ".join(text.split())
    out: list[str] = []
    n = len(text)
    for i, ch in enumerate(text):
        cat = unicodedata.category(ch)
        if cat[0] in "LNM" or ch in "-'" and 0 < i < n - 1 and text[i - 1].isalnum() and text[i + 1].isalnum():
            out.append(ch)
        elif ch == "&":
            out.append(" & ")
        else:
            out.append(" ")
    return " ".join("".join(out).split())


# -- the matching form ----------------------------------------------------------------------------------
GENDERS: dict[str, str] = english().genders
_APOSTROPHE_S = re.compile(r"['\u2019]s\b")
_TSHIRT = re.compile(r"\bt[\s-]*shirt")
_WORD = re.compile(r"[a-z0-9]+")


def _clean(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    text = _APOSTROPHE_S.sub("s", text.lower())
    return _TSHIRT.sub("tshirt", text) if "shirt" in text else text


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """Gender words to one form ("mens" -> "men", "ladies" -> "women"), plurals to the singular."""
    if word in GENDERS:
        return GENDERS[word]
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ie") and len(word) > 4:
        return word[:-2] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def match_words(text: str) -> list[str]:
    """Normalised, stemmed words in order (stop-words kept: phrases such as "perfume and body mist" need them)."""
    return [stem(w) for w in _WORD.findall(_clean(text))]


def topic_key(text: str) -> str:
    """Topics are the same when their keys are: case, accents, punctuation and spacing do not count."""
    return " ".join(_WORD.findall(_clean(text)))


def query_key(text: str) -> str:
    """The key a search query is counted under (rewards, console topics): its ``topic_key``, so that it meets the
    topic it names; a query with no Latin letters or digits ("マルイカ 釣果") keeps its ``normalise``d form."""
    return topic_key(text) or normalise(text)
