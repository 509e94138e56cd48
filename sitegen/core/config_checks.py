"""The checks of a loaded configuration that look across keys or at a value's form (URLs, locales, language tags,
redirect formats, plugins, the relevance scorer): each problem is one line named by its key, appended to
``errors``. ``config.load_config`` runs them after every section has been read."""

from __future__ import annotations

import re

from sitegen.core.config import CatalogSection, CollectSection, Config, SiteSection, _plain_url_problem, _url


def cross_checks(cfg: Config, errors: list[str]) -> None:
    base = cfg.site.base_url
    if isinstance(base, str) and _url(base) and not any(e.startswith("site.base_url:") for e in errors):
        problem = _plain_url_problem(base)
        if problem:
            errors.append(f"site.base_url: {problem} (got {base.rstrip('/')!r})")
    _check_site(cfg.site, errors)
    r = cfg.represent
    if r.min_queries > r.max_queries:
        errors.append(f"represent.min_queries: must be <= represent.max_queries ({r.max_queries})")
    unknown = set(r.mix) - {"description", "style", "use_case"}
    if unknown:
        errors.append(f"represent.mix: unknown categories {sorted(unknown)} (use description, style, use_case)")
    elif r.mix and abs(sum(r.mix.values()) - 1.0) > 1e-6:
        errors.append(f"represent.mix: shares must add up to 1 (got {sum(r.mix.values()):.3f})")
    if isinstance(r.lexicons, list) and all(isinstance(e, str) for e in r.lexicons):
        from sitegen.core.lexicon import check as check_lexicons

        errors.extend(check_lexicons(r.lexicons, cfg.root))
    c = cfg.collect
    if c.min_items > c.max_items:
        errors.append(f"collect.min_items: must be <= collect.max_items ({c.max_items})")
    _check_scorer(c, errors)
    lk = cfg.link
    if lk.annotations_min > lk.annotations_max:
        errors.append("link.annotations_min: must be <= link.annotations_max")
    if lk.related_min > lk.related_max:
        errors.append("link.related_min: must be <= link.related_max")
    for i, w in enumerate(cfg.build.thumbnail_widths):
        if isinstance(w, int) and w <= 0:
            errors.append(f"build.thumbnail_widths[{i}]: must be > 0 (got {w})")
    for name in cfg.catalog.columns:
        if name not in CatalogSection.FIELDS:
            errors.append(f"catalog.columns.{name}: unknown field (use {', '.join(CatalogSection.FIELDS)})")
    _check_plugins(cfg, errors)
    if cfg.runner.kind == "ray":
        from importlib.util import find_spec

        if find_spec("ray") is None:
            errors.append("runner.kind: ray needs Ray Data: pip install 'sitegen[ray]' (or 'ray[data]')")
    e = cfg.embed
    needs = {"bf16": "openvino", "int8": "onnx"}.get(e.precision)
    if needs and e.backend not in ("auto", needs):
        errors.append(f"embed.precision: {e.precision} runs on embed.backend = {needs} (or auto), not {e.backend}")
    if isinstance(cfg.embed.image_encoder, str):
        from sitegen.engines.image import encoder_problem

        problem = encoder_problem(cfg.embed.image_encoder, cfg.root)
        if problem:
            errors.append(f"embed.image_encoder: {problem}")
    _check_redirects(cfg.lifecycle.redirects, errors)
    from sitegen.demand.trends.settings import settings_problems as trends_problems

    errors.extend(trends_problems(cfg))
    if cfg.relevance.teacher == "llm":
        from sitegen.learn.relevance.llm import settings_problems

        errors.extend(settings_problems(cfg))
    if cfg.represent.generator == "vlm" and not cfg.vlm.model:
        errors.append("vlm.model: required when represent.generator = 'vlm'")
    if cfg.vlm.backend == "openai" and cfg.represent.generator == "vlm" and not cfg.vlm.base_url:
        errors.append("vlm.base_url: required when vlm.backend = 'openai'")


_LOCALE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
_TWITTER = re.compile(r"@[A-Za-z0-9_]{1,15}")
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z]{4})?(-(?:[A-Z]{2}|[0-9]{3}))?|x-default")  # hreflang values


def _url_or_site_path(v: str) -> bool:
    return _url(v) or (v.startswith("/") and not v.startswith("//"))


def _check_site(s: SiteSection, errors: list[str]) -> None:
    """The rights defaults, og:locale, twitter:site and translations (types are already checked)."""
    def text(name: str) -> str:
        value = getattr(s, name)
        return value if isinstance(value, str) else ""

    if text("license") and not _url(text("license")):
        errors.append(f"site.license: must be the licence's absolute http(s) URL (got {s.license!r})")
    if text("license_page") and not _url_or_site_path(text("license_page")):
        errors.append("site.license_page: must be an absolute http(s) URL or a path on the site starting with / "
                      f"(got {s.license_page!r})")
    for name in ("license", "license_page"):
        value = text(name)
        if value and _url(value) and _plain_url_problem(value):
            errors.append(f"site.{name}: {_plain_url_problem(value)} (got {value!r})")
    if text("locale") and not _LOCALE.fullmatch(text("locale")):
        errors.append(f"site.locale: must be language_TERRITORY such as 'en_US' (got {s.locale!r})")
    if text("twitter_site") and not _TWITTER.fullmatch(text("twitter_site")):
        errors.append(f"site.twitter_site: must be an @handle of 1-15 letters, digits or _ (got {s.twitter_site!r})")
    if not isinstance(s.translations, dict):
        return
    own = s.language.lower() if isinstance(s.language, str) else ""
    for lang, url in s.translations.items():
        key = f"site.translations.{lang}"
        if not LANGUAGE_TAG.fullmatch(lang):
            errors.append(f"{key}: not a language code such as 'de' or 'pt-BR'")
        elif lang.lower() == own:
            errors.append(f"{key}: the site's own language (site.language); list only the translations")
        if not isinstance(url, str):
            continue
        if not _url(url):
            errors.append(f"{key}: must be the translated site's absolute http(s) base URL (got {url!r})")
        elif _plain_url_problem(url):
            errors.append(f"{key}: {_plain_url_problem(url)} (got {url!r})")
        elif isinstance(s.base_url, str) and url.rstrip("/") + "/" == s.base_url:
            errors.append(f"{key}: is this site's own base_url")


REDIRECT_FORMATS = ("netlify", "cloudflare", "nginx", "html")


def _check_redirects(formats: list, errors: list[str]) -> None:
    """``lifecycle.redirects``: known formats; ``netlify`` and ``cloudflare`` both write ``_redirects``."""
    for i, name in enumerate(formats):
        if isinstance(name, str) and name not in REDIRECT_FORMATS:
            errors.append(f"lifecycle.redirects[{i}]: unknown format {name!r} (use {', '.join(REDIRECT_FORMATS)})")
    if "netlify" in formats and "cloudflare" in formats:
        errors.append("lifecycle.redirects: 'netlify' and 'cloudflare' both write _redirects; choose one")


def _check_plugins(cfg: Config, errors: list[str]) -> None:
    """Every implementation chosen by name must be registered (built-in or through a plugin)."""
    from sitegen.core import registry

    chosen = [("represent.generator", "generator", [cfg.represent.generator]),
              ("collect.topic_sources", "topic_source", cfg.collect.topic_sources),
              ("link.annotator", "annotator", [cfg.link.annotator]),
              ("runner.kind", "runner", [cfg.runner.kind]),
              ("relevance.teacher", "judge", [cfg.relevance.teacher])]
    for key, kind, values in chosen:
        known = registry.names(kind)
        for value in values:
            if value not in known:
                errors.append(f"{key}: unknown {kind.replace('_', ' ')} {value!r} (registered: {', '.join(known)})")
    if not cfg.collect.topic_sources:
        errors.append("collect.topic_sources: name at least one topic source")
    elif len(set(cfg.collect.topic_sources)) != len(cfg.collect.topic_sources):
        errors.append("collect.topic_sources: a topic source is named twice")


def _check_scorer(c: CollectSection, errors: list[str]) -> None:
    from sitegen.core import registry

    try:
        known = registry.names("scorer")
    except registry.RegistryError as exc:
        errors.append(f"collect.scorer: {exc}")
        return
    if c.scorer not in known and c.scorer != "auto":
        errors.append(f"collect.scorer: no scorer named {c.scorer!r} (registered: {', '.join(known)}; "
                      "or auto)")
    elif c.scorer in ("heuristic", "auto") and isinstance(c.weights, dict):
        from sitegen.aggregate.relevance import DEFAULT_WEIGHTS

        for name, value in c.weights.items():
            if name not in DEFAULT_WEIGHTS:
                errors.append(f"collect.weights.{name}: unknown weight of the heuristic scorer "
                              f"(use {', '.join(DEFAULT_WEIGHTS)})")
            elif isinstance(value, float) and name in ("mid_checked", "mid_free") and not -1.0 <= value <= 1.0:
                errors.append(f"collect.weights.{name}: must be a similarity between -1 and 1 (got {value})")
            elif isinstance(value, float) and name in ("similarity", "evidence_power") and value <= 0:
                errors.append(f"collect.weights.{name}: must be > 0 (got {value})")
