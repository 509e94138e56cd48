"""site.toml: typed sections, validated at load.

Every error is collected (not just the first) and named by its key, e.g.
``site.base_url: must be an absolute http(s) URL``. Unknown keys are warnings (errors under --strict).
Command-line overrides use the same dotted keys (``--set index.backend=hnsw``) and the same validation.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from sitegen.core.errors import ConfigError


def _check(fn, message):
    return {"check": fn, "message": message}


def _positive(v):
    return v > 0


def _non_negative(v):
    return v >= 0


def _unit(v):
    return 0.0 <= v <= 1.0


POSITIVE = _check(_positive, "must be > 0")
NON_NEGATIVE = _check(_non_negative, "must be >= 0")


def _url(v):
    return v.startswith(("http://", "https://")) and "://" in v and len(v.split("://", 1)[1].strip("/")) > 0


_URL_UNSAFE = re.compile(r"[^A-Za-z0-9._~:/@!$&*+,;=%-]")  # anything but the characters of a plain URL


def _plain_url_problem(v: str) -> str:
    """Why ``v`` (an absolute http(s) URL) cannot be written as is into robots.txt, sitemaps and pages."""
    m = _URL_UNSAFE.search(v)
    if m:
        c = m.group()
        what = "whitespace" if c.isspace() else "a control character" if not c.isprintable() else repr(c)
        return f"must be a plain absolute http(s) URL: it contains {what} (U+{ord(c):04X})"
    parts = urlsplit(v)
    if not parts.hostname:
        return "must be a plain absolute http(s) URL: it names no host"
    if parts.username is not None or parts.password is not None:
        return "must be a plain absolute http(s) URL: no user name or password"
    try:
        parts.port
    except ValueError:
        return "must be a plain absolute http(s) URL: the port is not a number (0-65535)"
    return ""


@dataclass
class SiteSection:
    title: str = "sitegen site"
    base_url: str = field(default="https://example.org/", metadata=_check(_url, "must be an absolute http(s) URL"))
    description: str = ""
    language: str = "en"
    organization: str = ""  # publisher name in JSON-LD; defaults to the site title
    logo: str = ""  # path under content/ to a logo image, optional
    locales: list[str] = field(default_factory=list)  # extra hreflang locales served at /<locale>/, optional
    # the default rights of every image (a catalog column of the same name wins, see CatalogSection.RIGHTS)
    license: str = ""  # URL of the licence: JSON-LD ImageObject.license
    license_page: str = ""  # URL or site path ("/licence/") of how to use / license an image: acquireLicensePage
    credit: str = ""  # creditText
    copyright: str = ""  # copyrightNotice
    locale: str = ""  # og:locale, e.g. "en_US"; "" = from language ("en-GB" -> "en_GB")
    twitter_site: str = ""  # twitter:site, the site's @handle
    translations: dict[str, str] = field(default_factory=dict)  # language -> base URL of the translated site

    def __post_init__(self):
        if isinstance(self.base_url, str) and not self.base_url.endswith("/"):
            self.base_url += "/"
        if isinstance(self.translations, dict):
            self.translations = {k: v + "/" if isinstance(v, str) and v and not v.endswith("/") else v
                                 for k, v in self.translations.items()}


@dataclass
class CatalogSection:
    path: str = "content/catalog.csv"
    format: Literal["auto", "csv", "jsonl", "parquet"] = "auto"
    images_dir: str = "content"  # relative image paths resolve against this folder
    columns: dict[str, str] = field(default_factory=dict)  # field -> column name
    keywords_separator: str = ";"
    slug: Literal["title-id", "title", "id"] = "title-id"
    max_image_bytes: int = field(default=20_000_000, metadata=_check(_positive, "must be > 0"))
    max_image_pixels: int = field(default=40_000_000, metadata=_check(_positive, "must be > 0"))
    max_field_chars: int = field(default=5_000, metadata=_check(_positive, "must be > 0"))
    markup: Literal["reject", "keep"] = "reject"  # rows whose text contains HTML markup; "keep" publishes it as text
    limit: int = field(default=0, metadata=NON_NEGATIVE)  # read only the first N rows (0 = all)

    RIGHTS = ("license", "license_page", "credit", "copyright")  # per-item rights, else the [site] defaults
    FIELDS = ("id", "title", "description", "keywords", "category", "image", "date") + RIGHTS

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


@dataclass
class BuildSection:
    output: str = "build"
    store: str = ".sitegen/site.duckdb"
    templates: str = "templates"  # a site's own template folder, searched before the packaged one
    pages: str = "content/pages"  # markdown pages
    thumbnail_widths: list[int] = field(default_factory=lambda: [160, 320, 640])
    large_width: int = field(default=1200, metadata=NON_NEGATIVE)  # item pages and og:image; 0 = none
    originals: bool = True  # publish each source image at /media/original/, linked from its item page
    hub_page_size: int = field(default=120, metadata=_check(_positive, "must be > 0"))
    check: bool = True  # run the audit at the end of the build
    progress: bool = True


@dataclass
class ServeSection:
    host: str = "127.0.0.1"
    port: int = field(default=8000, metadata=_check(lambda p: 0 <= p <= 65535, "must be a port number (0-65535)"))


@dataclass
class RepresentSection:
    generator: str = "retrieval"  # a registered query generator: retrieval, vlm, or a plugin's
    min_queries: int = field(default=5, metadata=_check(_positive, "must be > 0"))
    max_queries: int = field(default=7, metadata=_check(_positive, "must be > 0"))
    mix: dict[str, float] = field(default_factory=lambda: {"description": 0.3, "style": 0.3, "use_case": 0.4})
    blocklist: list[str] = field(default_factory=list)  # added to the default safety list
    brands: list[str] = field(default_factory=list)  # brand / trademark terms that a query may not contain
    max_words: int = field(default=8, metadata=_check(_positive, "must be > 0"))
    max_chars: int = field(default=80, metadata=_check(_positive, "must be > 0"))
    dedup_cosine: float = field(default=0.92, metadata=_check(_unit, "must be between 0 and 1"))
    use_cases: dict[str, list[str]] = field(default_factory=dict)  # category or keyword -> intents
    console_export: str = ""  # a Search Console Queries.csv, optional
    lexicons: list[str] = field(default_factory=lambda: ["auto"])  # packaged names, .toml paths, or "auto"


@dataclass
class EmbedSection:
    model: str = "all-MiniLM-L6-v2"  # the packaged default, or a local sentence-transformers folder
    batch_size: int = field(default=128, metadata=_check(_positive, "must be > 0"))
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # who runs the text model: "onnx" (ONNX Runtime) or "openvino" (both run the folder's BERT encoder as an ONNX
    # graph on the CPU, no torch), "torch" (sentence-transformers), or "auto" (a graph path on a CPU when the folder
    # allows it: openvino where the CPU has native bfloat16, else onnx; torch on a GPU or for other folders)
    backend: Literal["auto", "onnx", "openvino", "torch"] = "auto"
    # "fp32"; "bf16" (openvino) or "int8" (onnx), each kept only if it passes a neighbour-overlap guard; "auto" =
    # bf16 where the CPU has it natively, else fp32
    precision: Literal["auto", "fp32", "bf16", "int8"] = "auto"
    # images in the text space (sitegen.engines.image): "none", "catalog" (an encoder trained on the catalog's own
    # image-text pairs, `sitegen train image`), or a local CLIP-style folder (open_clip or transformers)
    image_encoder: str = "none"
    image_weight: float = field(default=0.3, metadata=_check(_unit, "must be between 0 and 1"))  # fusion weight


@dataclass
class IndexSection:
    backend: Literal["annoy", "hnsw", "exact"] = "hnsw"
    trees: int = field(default=64, metadata=_check(_positive, "must be > 0"))  # annoy
    search_k: int = field(default=0, metadata=NON_NEGATIVE)  # annoy, 0 = trees * k * 20
    m: int = field(default=32, metadata=_check(_positive, "must be > 0"))  # hnsw
    ef_construction: int = field(default=200, metadata=_check(_positive, "must be > 0"))  # hnsw
    ef_search: int = field(default=256, metadata=_check(_positive, "must be > 0"))  # hnsw
    exact_below: int = field(default=2000, metadata=NON_NEGATIVE)  # use exact search below this many vectors
    seed: int = 42


@dataclass
class CollectSection:
    min_items: int = field(default=6, metadata=_check(_positive, "must be > 0"))  # tau, content sufficiency
    max_items: int = field(default=48, metadata=_check(_positive, "must be > 0"))
    threshold: float = field(default=0.5, metadata=_check(_unit, "must be between 0 and 1"))
    duplicate_jaccard: float = field(default=0.5, metadata=_check(_unit, "must be between 0 and 1"))
    candidates: int = field(default=200, metadata=_check(_positive, "must be > 0"))
    max_collections: int = field(default=0, metadata=NON_NEGATIVE)  # 0 = no cap
    topic_sources: list[str] = field(default_factory=lambda: ["queries", "console", "trends"])  # in order
    scorer: str = "auto"  # a registered relevance scorer (kind "scorer"), or auto: student if trained, else heuristic
    weights: dict[str, float] = field(default_factory=dict)  # the scorer's parameters; empty = its defaults


@dataclass
class RelevanceSection:
    teacher: str = "catalog"  # the registered judge that grades pairs for the student (kind "judge")
    model: str = ".sitegen/models/relevance"  # the trained student (sitegen train relevance)
    teacher_model: str = ".sitegen/models/teacher"  # the fine-tuned cross-encoder (sitegen train teacher)
    sample: int = field(default=20000, metadata=_check(_positive, "must be > 0"))  # pairs the teacher grades
    seed: int = 0
    # the llm judge (sitegen.learn.relevance.llm): its own model, or the [vlm] one when these are empty
    llm_backend: Literal["", "transformers", "vllm", "openai"] = ""  # "" = vlm.backend
    llm_model: str = ""  # "" = vlm.model (when the backend is vlm.backend's)
    llm_base_url: str = field(default="", metadata=_check(lambda v: v == "" or _url(v),
                                                          "must be an absolute http(s) URL"))  # "" = vlm.base_url
    llm_image: Literal["auto", "yes", "no"] = "auto"  # show the model the item's image
    llm_max_new_tokens: int = field(default=32, metadata=POSITIVE)


@dataclass
class LinkSection:
    annotations_min: int = field(default=3, metadata=NON_NEGATIVE)
    annotations_max: int = field(default=5, metadata=POSITIVE)
    related_min: int = field(default=6, metadata=NON_NEGATIVE)
    related_max: int = field(default=8, metadata=POSITIVE)
    home_collections: int = field(default=24, metadata=NON_NEGATIVE)
    max_depth: int = field(default=3, metadata=POSITIVE)
    annotator: str = "similarity"  # a registered annotator


@dataclass
class TwoTowerSection:
    """The VASE two-tower annotation ranker (``sitegen train two-tower``; sitegen.learn.twotower)."""

    epochs: int = field(default=12, metadata=POSITIVE)
    lr: float = field(default=3e-4, metadata=POSITIVE)
    batch_size: int = field(default=256, metadata=POSITIVE)
    dropout: float = field(default=0.0, metadata=_check(lambda v: 0.0 <= v < 1.0, "must be >= 0 and < 1"))
    margin: float = field(default=0.95, metadata=_check(lambda v: 0.0 < v <= 2.0, "must be > 0 and <= 2"))
    hard_negatives: float = field(default=0.5, metadata=_check(_unit, "must be between 0 and 1"))  # their share
    holdout: float = field(default=0.1, metadata=_check(lambda v: 0.0 <= v < 1.0, "must be >= 0 and < 1"))
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    model: str = ".sitegen/models/two-tower"  # the trained model's folder


@dataclass
class VlmSection:
    backend: Literal["transformers", "vllm", "openai"] = "transformers"
    model: str = ""  # local model folder (transformers / vllm) or model name (openai)
    adapter: str = ""  # LoRA adapter folder, optional
    base_url: str = ""  # openai-compatible endpoint, e.g. http://127.0.0.1:8001/v1
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = field(default=0.1, metadata=NON_NEGATIVE)
    top_p: float = field(default=0.001, metadata=_check(lambda v: 0 < v <= 1, "must be > 0 and <= 1"))
    top_k: int = field(default=1, metadata=POSITIVE)
    repetition_penalty: float = field(default=1.05, metadata=POSITIVE)
    max_new_tokens: int = field(default=256, metadata=_check(_positive, "must be > 0"))
    min_pixels: int = field(default=175_616, metadata=POSITIVE)
    max_pixels: int = field(default=602_112, metadata=POSITIVE)
    batch_size: int = field(default=8, metadata=_check(_positive, "must be > 0"))
    concurrency: int = field(default=4, metadata=_check(_positive, "must be > 0"))
    retries: int = field(default=2, metadata=NON_NEGATIVE)
    timeout: float = field(default=60.0, metadata=POSITIVE)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    context: bool = True  # include title / category in the prompt


@dataclass
class RunnerSection:
    kind: str = "local"  # a registered runner of the GEO stages: "local", "ray", or a plugin's
    # ray: the cluster ("" = $RAY_ADDRESS, else a local cluster for the build)
    address: str = ""
    cpus: int = field(default=0, metadata=NON_NEGATIVE)  # ray, local cluster: its CPUs (0 = all of this machine)
    actors: int = field(default=0, metadata=NON_NEGATIVE)  # ray: model actors (0 = the cluster's CPUs / threads)
    threads: int = field(default=1, metadata=POSITIVE)  # ray: threads (CPUs) per actor
    rows_per_batch: int = field(default=1024, metadata=POSITIVE)  # ray: texts per map_batches batch
    scratch: str = ""  # ray: where the Parquet batches go ("" = a folder beside the store)


@dataclass
class SignalsSection:
    """Search Console / GA4 exports (``sitegen signals import``; sitegen.demand.signals)."""

    paths: list[str] = field(default_factory=list)  # export files or folders imported before each build
    hosts: list[str] = field(default_factory=list)  # other host names of this site (www., an old domain)
    redirects: str = ""  # a file of "old-path new-path" lines, for pages moved outside sitegen
    topic_min_impressions: float = field(default=10.0, metadata=NON_NEGATIVE)  # decayed, for a console topic


@dataclass
class RewardSection:
    """Query reward: engagement rate per topic page from the signals (sitegen.demand.reward)."""

    window_days: int = field(default=28, metadata=POSITIVE)  # signals older than this are not read
    half_life_days: float = field(default=7.0, metadata=POSITIVE)  # exponential decay of older days
    measure: Literal["auto", "ctr", "engagement"] = "auto"  # auto: engaged sessions / sessions where GA4 has them
    prior: float = field(default=50.0, metadata=NON_NEGATIVE)  # impressions (or sessions) of the average reward
    steer: bool = True  # rewards order topics within the page budget, hub slots and related links


@dataclass
class TrendsSection:
    """The trend-mining agent (sitegen.demand.trends): runs in ``sitegen build`` when ``source`` is set."""

    source: str = ""  # a folder of Google Trends files
    region: str = ""  # e.g. "US"; "" = every region
    timespan: str = ""  # "YYYY-MM-DD YYYY-MM-DD", "today 12-m", "today 5-y" or "" = all
    today: str = ""  # the date the agent plans for (ISO); "" = today
    threshold: float = field(default=0.45, metadata=_check(_unit, "must be between 0 and 1"))  # semantic fit
    max_proposals: int = field(default=20, metadata=POSITIVE)
    auto_approve: bool = False  # else proposals wait for approval in the review app
    llm_backend: Literal["", "transformers", "vllm", "openai"] = ""  # "" = no LLM: deterministic policies
    llm_model: str = ""
    llm_base_url: str = field(default="", metadata=_check(lambda v: v == "" or _url(v),
                                                          "must be an absolute http(s) URL"))
    llm_max_new_tokens: int = field(default=192, metadata=POSITIVE)  # per LLM answer (plan, filter, expansions)
    lead_days: int = field(default=60, metadata=POSITIVE)  # seasonal: pages are proposed this many days before a peak
    max_expansions: int = field(default=5, metadata=POSITIVE)  # topics per proposed trend at most


@dataclass
class LifecycleSection:
    """Retiring pages whose topic lost its support (sitegen.demand.lifecycle)."""

    reward_floor: float = field(default=0.0, metadata=NON_NEGATIVE)  # share of the average reward; 0 = off
    floor_builds: int = field(default=3, metadata=POSITIVE)  # builds in a row below the floor before retiring
    min_impressions: int = field(default=100, metadata=NON_NEGATIVE)  # data needed before the floor applies
    redirects: list[str] = field(default_factory=lambda: ["netlify", "nginx", "html"])  # formats written
    redirect_similarity: float = field(default=0.5, metadata=_check(_unit, "must be between 0 and 1"))  # 301 vs 410


@dataclass
class Config:
    site: SiteSection = field(default_factory=SiteSection)
    catalog: CatalogSection = field(default_factory=CatalogSection)
    build: BuildSection = field(default_factory=BuildSection)
    serve: ServeSection = field(default_factory=ServeSection)
    represent: RepresentSection = field(default_factory=RepresentSection)
    embed: EmbedSection = field(default_factory=EmbedSection)
    index: IndexSection = field(default_factory=IndexSection)
    collect: CollectSection = field(default_factory=CollectSection)
    relevance: RelevanceSection = field(default_factory=RelevanceSection)
    link: LinkSection = field(default_factory=LinkSection)
    two_tower: TwoTowerSection = field(default_factory=TwoTowerSection)
    vlm: VlmSection = field(default_factory=VlmSection)
    runner: RunnerSection = field(default_factory=RunnerSection)
    signals: SignalsSection = field(default_factory=SignalsSection)
    reward: RewardSection = field(default_factory=RewardSection)
    trends: TrendsSection = field(default_factory=TrendsSection)
    lifecycle: LifecycleSection = field(default_factory=LifecycleSection)
    root: Path = field(default_factory=Path.cwd)  # folder of site.toml; relative paths resolve against it
    warnings: list[str] = field(default_factory=list)

    def path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else (self.root / p)

    @property
    def output_dir(self) -> Path:
        return self.path(self.build.output)

    @property
    def store_path(self) -> Path:
        return self.path(self.build.store)


SECTIONS = [f.name for f in dataclasses.fields(Config) if f.name not in ("root", "warnings")]


def _convert(value: Any, tp: Any, key: str, errors: list[str]) -> Any:
    origin = get_origin(tp)
    if origin is Literal:
        options = get_args(tp)
        if value not in options:
            errors.append(f"{key}: must be one of {', '.join(repr(o) for o in options)} (got {value!r})")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            errors.append(f"{key}: must be true or false (got {value!r})")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{key}: must be an integer (got {value!r})")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{key}: must be a number (got {value!r})")
            return value
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            errors.append(f"{key}: must be a string (got {value!r})")
        return value
    if origin is list:
        (inner,) = get_args(tp)
        if not isinstance(value, list):
            errors.append(f"{key}: must be a list (got {value!r})")
            return value
        return [_convert(v, inner, f"{key}[{i}]", errors) for i, v in enumerate(value)]
    if origin is dict:
        _, inner = get_args(tp)
        if not isinstance(value, dict):
            errors.append(f"{key}: must be a table (got {value!r})")
            return value
        return {str(k): _convert(v, inner, f"{key}.{k}", errors) for k, v in value.items()}
    return value


def _section(cls, data: dict, name: str, errors: list[str], warnings: list[str]):
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in known:
            warnings.append(f"{name}.{key}: unknown key, ignored")
            continue
        before = len(errors)
        converted = _convert(value, hints[key], f"{name}.{key}", errors)
        check = known[key].metadata.get("check")
        if len(errors) == before and check is not None and not check(converted):
            errors.append(f"{name}.{key}: {known[key].metadata['message']} (got {value!r})")
        kwargs[key] = converted
    return cls(**kwargs)


def config_hash(cfg: Config) -> str:
    """A short hash of every setting (not the folder or the warnings): part of every build-state key."""
    import hashlib
    import json

    data = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("root", "warnings")}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def parse_override(text: str) -> tuple[str, Any]:
    """``index.backend=hnsw`` -> ("index.backend", "hnsw"); the value is read as TOML when it parses."""
    if "=" not in text:
        raise ConfigError([f"{text}: an override must look like section.key=value"], path="--set")
    key, raw = text.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip(), value


def load_config(path: str | Path = "site.toml", overrides: dict[str, Any] | None = None, *,
                strict: bool = False) -> Config:
    """Read and validate ``site.toml``. A missing file gives the defaults (rooted at the current folder)."""
    path = Path(path)
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{path.name}: not valid TOML: {exc}"], path=str(path)) from exc
    elif path.name != "site.toml" or path.parent != Path("."):
        raise ConfigError([f"{path}: file not found"], path=str(path))
    for dotted, value in (overrides or {}).items():
        parts = dotted.split(".")
        node = data
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError([f"{dotted}: {part} is not a table"], path="--set")
        node[parts[-1]] = value

    errors: list[str] = []
    warnings: list[str] = []
    hints = typing.get_type_hints(Config)
    sections = {}
    for name, value in data.items():
        if name not in SECTIONS:
            warnings.append(f"{name}: unknown section, ignored")
            continue
        if not isinstance(value, dict):
            errors.append(f"{name}: must be a table")
            continue
        sections[name] = _section(hints[name], value, name, errors, warnings)
    cfg = Config(**sections, root=path.resolve().parent, warnings=warnings)
    from sitegen.core.config_checks import cross_checks

    cross_checks(cfg, errors)
    if strict and warnings:
        errors.extend(f"{w} (--strict)" for w in warnings)
    if errors:
        raise ConfigError(errors, path=str(path))
    return cfg
