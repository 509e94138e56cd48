"""Lexicons: the word lists of a language and a domain, as data files (``sitegen/lexicons/*.toml``).

A site chooses them with ``represent.lexicons``: packaged names (``en``, ``fashion``, ``clipart``), paths to its
own ``.toml`` files (relative to ``site.toml``), or ``auto``. They are merged in order: word lists add up (order
kept, repeats dropped), tables are merged (a later entry wins). Loading is cached per file (and its modification
time); every key is validated, each error naming the file and the key.

``auto`` stands for the domain lexicons the catalog's own text speaks (``detect_domains``): each packaged domain
lexicon is scored by the share of items whose text uses one of its ``domain_words`` or ``kind_words``; those
with at least ``DOMAIN_MIN_SHARE`` come (alphabetically), then ``en``. When no domain reaches it, ``auto`` is
``en`` alone, so a catalog never gets another domain's templates ("outfit ideas" on clipart). Without a catalog
at hand (``load_lexicon`` called with no ``texts``) ``auto`` is every packaged lexicon.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

from sitegen.core.errors import ConfigError

AUTO = "auto"
DOMAIN_MIN_SHARE = 0.2  # a domain lexicon is detected when this share of the catalog's items use its words


@dataclass(frozen=True, eq=False)  # hashed by identity: loading is cached, so equal means the same
class Lexicon:
    """The merged word lists (see ``sitegen/lexicons/en.toml`` for what each is for)."""

    names: tuple[str, ...] = ()
    stopwords: tuple[str, ...] = ()
    generic_words: tuple[str, ...] = ()
    relevance_stopwords: tuple[str, ...] = ()
    intent_markers: tuple[str, ...] = ()
    use_case_words: tuple[str, ...] = ()
    use_case_phrases: tuple[str, ...] = ()
    style_words: tuple[str, ...] = ()
    style_phrases: tuple[str, ...] = ()
    generic_intents: tuple[str, ...] = ()
    kind_intents: tuple[str, ...] = ()
    domain_words: tuple[str, ...] = ()
    audiences: dict[str, str] = field(default_factory=dict)
    genders: dict[str, str] = field(default_factory=dict)
    kind_words: dict[str, str] = field(default_factory=dict)
    occasions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    implies: dict[str, tuple[str, ...]] = field(default_factory=dict)


_LISTS = ("stopwords", "generic_words", "relevance_stopwords", "intent_markers", "use_case_words",
          "use_case_phrases", "style_words", "style_phrases", "generic_intents", "kind_intents", "domain_words")
_TABLES = ("audiences", "genders", "kind_words")  # word -> word
_LIST_TABLES = ("occasions", "implies")  # word -> list of phrases
KEYS = _LISTS + _TABLES + _LIST_TABLES


def packaged_names() -> list[str]:
    """The packaged lexicons, alphabetically."""
    return sorted(p.name[:-5] for p in resources.files("sitegen.lexicons").iterdir() if p.name.endswith(".toml"))


def auto_names() -> list[str]:
    """What ``auto`` stands for: every packaged domain lexicon (alphabetically), then ``en``."""
    return [n for n in packaged_names() if n != "en"] + ["en"]


def _strings(value: Any, where: str, errors: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(f"{where}: must be a list of strings")
        return ()
    return tuple(value)


def parse_lexicon(data: dict, source: str) -> tuple[dict[str, Any], list[str]]:
    """One file's validated content (key -> tuple / dict) and its errors (``<source>: <key>: <message>``)."""
    errors: list[str] = []
    out: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{source}: {key}"
        if key in _LISTS:
            out[key] = _strings(value, where, errors)
        elif key in _TABLES:
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                errors.append(f"{where}: must be a table of word = \"word\"")
            else:
                out[key] = dict(value)
        elif key in _LIST_TABLES:
            if not isinstance(value, dict):
                errors.append(f"{where}: must be a table of word = [\"phrase\", ...]")
            else:
                out[key] = {k: _strings(v, f"{where}.{k}", errors) for k, v in value.items()}
        else:
            errors.append(f"{where}: unknown key (use {', '.join(KEYS)})")
    return out, errors


@lru_cache(maxsize=64)
def _read(path: str, _mtime_ns: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return {}, (f"{path}: cannot read: {exc}",)
    except tomllib.TOMLDecodeError as exc:
        return {}, (f"{path}: not valid TOML: {exc}",)
    content, errors = parse_lexicon(data, path)
    return content, tuple(errors)


def _resolve(entry: str, root: Path) -> Path | None:
    """A packaged name or a path to a .toml file; None when it is neither."""
    if entry in packaged_names():
        return Path(str(resources.files("sitegen.lexicons").joinpath(f"{entry}.toml")))
    if entry.endswith(".toml"):
        p = Path(entry)
        return p if p.is_absolute() else root / p
    return None


def expand(entries: Iterable[str], domains: Sequence[str] | None = None) -> list[str]:
    """The entries with ``auto`` replaced by ``domains`` (the detected domain lexicons) and ``en``, or by every
    packaged lexicon when ``domains`` is None; repeats dropped."""
    auto = auto_names() if domains is None else [*domains, "en"]
    out: list[str] = []
    for e in entries:
        for name in (auto if e == AUTO else [e]):
            if name not in out:
                out.append(name)
    return out


_WORD = re.compile(r"[a-z0-9]+")


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def domain_scores(texts: Sequence[str]) -> dict[str, float]:
    """For each packaged domain lexicon, the share of ``texts`` (one per item) using one of its ``domain_words``
    or ``kind_words`` (whole words, plurals folded; a phrase as a whole)."""
    vocab: dict[str, tuple[set[str], list[str]]] = {}
    for name in auto_names()[:-1]:
        path = _resolve(name, Path.cwd())
        content, _ = _read(str(path), path.stat().st_mtime_ns)
        words = [*content.get("domain_words", ()), *content.get("kind_words", {})]
        toks = [" ".join(_singular(w) for w in _WORD.findall(word.lower())) for word in words]
        vocab[name] = ({t for t in toks if t and " " not in t}, [t for t in toks if " " in t])
    hits = dict.fromkeys(vocab, 0)
    for text in texts:
        ws = [_singular(w) for w in _WORD.findall(text.lower())]
        present, joined = set(ws), f" {' '.join(ws)} "
        for name, (single, phrases) in vocab.items():
            if not present.isdisjoint(single) or any(f" {p} " in joined for p in phrases):
                hits[name] += 1
    n = max(1, len(texts))
    return {name: round(h / n, 4) for name, h in hits.items()}


def detect_domains(texts: Sequence[str]) -> list[str]:
    """The packaged domain lexicons the catalog speaks: those whose score (``domain_scores``) reaches
    ``DOMAIN_MIN_SHARE``, alphabetically; none when the catalog is empty or speaks none of them."""
    return [name for name, share in domain_scores(texts).items() if texts and share >= DOMAIN_MIN_SHARE]


def check(entries: Iterable[str], root: Path, key: str = "represent.lexicons") -> list[str]:
    """Every error of a ``represent.lexicons`` value, each prefixed with its key and entry."""
    errors: list[str] = []
    for i, entry in enumerate(entries):
        if entry == AUTO:
            continue
        path = _resolve(entry, root)
        if path is None:
            errors.append(f"{key}[{i}]: unknown lexicon {entry!r} (packaged: {', '.join(packaged_names())}; "
                          f"or 'auto', or a path to a .toml file)")
        elif not path.is_file():
            errors.append(f"{key}[{i}]: lexicon file not found: {path}")
        else:
            errors.extend(f"{key}[{i}]: {e}" for e in _read(str(path), path.stat().st_mtime_ns)[1])
    return errors


def lexicon_paths(entries: Iterable[str], root: Path) -> list[Path]:
    """The files ``entries`` read (``auto`` expanded), those that exist: what a cache of their use must hash."""
    paths = (_resolve(name, root) for name in expand(entries))
    return [p for p in paths if p is not None and p.is_file()]


def load_lexicon(entries: Iterable[str] = (AUTO,), root: Path | None = None,
                 texts: Sequence[str] | None = None) -> Lexicon:
    """The merged lexicon of ``entries`` (see the module docstring); ``texts``, one per catalog item, resolve
    ``auto`` to the detected domains. Raises ``ConfigError`` naming the key, the file and its key for anything
    invalid."""
    entries = tuple(entries)
    root = root or Path.cwd()
    errors = check(entries, root)
    if errors:
        raise ConfigError(errors)
    names = expand(entries, detect_domains(texts) if texts is not None and AUTO in entries else None)
    stamps = []
    for name in names:
        path = _resolve(name, root)
        stamps.append((str(path), path.stat().st_mtime_ns))
    return _merge(tuple(names), tuple(stamps))


def site_lexicon(cfg, texts: Sequence[str]) -> Lexicon:
    """The lexicon of a site under ``cfg`` (``represent.lexicons``) for a catalog whose item texts are ``texts``:
    what every stage of a build uses, so all of them resolve ``auto`` the same way."""
    return load_lexicon(cfg.represent.lexicons, cfg.root, texts)


@lru_cache(maxsize=16)
def _merge(names: tuple[str, ...], stamps: tuple[tuple[str, int], ...]) -> Lexicon:
    merged: dict[str, Any] = {f.name: ({} if f.name in _TABLES + _LIST_TABLES else ()) for f in fields(Lexicon)
                              if f.name != "names"}
    for path, mtime in stamps:
        content, _ = _read(path, mtime)
        for key, value in content.items():
            if key in _LISTS:
                merged[key] = tuple(dict.fromkeys(merged[key] + value))
            else:
                merged[key] = {**merged[key], **value}
    return Lexicon(names=names, **merged)


def english() -> Lexicon:
    """The packaged ``en`` lexicon alone: the words every site shares."""
    return load_lexicon(("en",))


def lexicon_files(cfg) -> list[Path]:
    """Every word-list file a stage under ``cfg`` reads: the packaged ``en`` lexicon (shared stopwords and
    intents) and the files ``represent.lexicons`` chooses. Stages declare these as data files."""
    return list(dict.fromkeys([*lexicon_paths(("en",), cfg.root), *lexicon_paths(cfg.represent.lexicons, cfg.root)]))
