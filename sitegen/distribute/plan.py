"""The page plan: every page the site will have and every internal link on it, decided before anything is
rendered. Render draws exactly these links, the link stage computes PageRank over them, publish lists these
pages in the sitemaps, so the three can never disagree. No I/O here.

Structure (all paths from ``urls.py``):
- home ``/``: every hub, the featured collections, the text pages;
- hub ``/category/<slug>/`` (+ ``page/N/``): its collections, a page of its items, links to every page number;
- collection ``/topic/<slug>/``: its items, related collections, its hub;
- item ``/item/<slug>/``: its collections (annotations: a collection, or an alias line on one, linked at its
  anchor), its hub (breadcrumb and facts), a few sibling items;
- text page ``/<slug>/``: home.
Every page also carries the header (home, the largest hubs as links, every other hub under "More") and the
footer (text pages).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sitegen.core import urls
from sitegen.core.errors import SlugCollisionError
from sitegen.core.models import Alias, Collection, Hub, Item, PageKind, Site, TextPage

NAV_HUBS = 8  # at most this many hubs as header links; every other hub goes under the header's "More" menu
NAV_CHARS = 64  # ... and only as many as fit this many characters of hub names (one header row at 1280 px)
SIBLINGS = 6


@dataclass(frozen=True, slots=True)
class PagePlan:
    path: str
    kind: PageKind
    title: str  # the page's H1
    key: str  # item id, hub slug, collection slug or text page slug ("" for home)
    source: str  # where it came from, for collision messages
    breadcrumbs: tuple[tuple[str, str], ...] = ()  # (name, path), home first, current page excluded
    hubs: tuple[str, ...] = ()  # hub slugs listed in the body
    collections: tuple[str, ...] = ()  # collection slugs listed in the body (on an item page also alias keys)
    items: tuple[str, ...] = ()  # item ids listed in the body
    siblings: tuple[str, ...] = ()  # item ids ("more in this category")
    pagination: tuple[tuple[int, str], ...] = ()  # (number, path) of every page of a paginated hub
    page_number: int = 1
    text_pages: tuple[str, ...] = ()  # text page slugs listed in the body (home)


@dataclass
class SitePlan:
    pages: list[PagePlan]
    nav_hubs: tuple[str, ...]  # header links on every page
    footer: tuple[str, ...]  # text page slugs, footer of every page
    hubs: dict[str, Hub] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    collections: dict[str, Collection] = field(default_factory=dict)
    text_pages: dict[str, TextPage] = field(default_factory=dict)
    aliases: dict[str, tuple[Collection, Alias]] = field(default_factory=dict)  # alias key -> (its page, alias)
    nav_more: tuple[str, ...] = ()  # the other hubs, by name: the header's "More" menu on every page

    def topic(self, key: str) -> str:
        """The topic of a collection slug or an alias key."""
        return self.aliases[key][1].topic if key in self.aliases else self.collections[key].topic

    def by_path(self) -> dict[str, PagePlan]:
        return {p.path: p for p in self.pages}

    def links(self, page: PagePlan) -> list[tuple[str, str]]:
        """Every internal link on ``page`` as (target path, role), in page order, duplicates kept."""
        out: list[tuple[str, str]] = [(urls.home_url(), "nav")]
        out += [(urls.hub_url(h), "nav") for h in self.nav_hubs + self.nav_more]
        out += [(path, "breadcrumb") for _, path in page.breadcrumbs]
        out += [(urls.hub_url(h), "hub") for h in page.hubs]
        out += [(urls.collection_url(c), "collection") for c in page.collections]  # an alias: at its anchor
        out += [(urls.item_url(self.items[i].slug), "item") for i in page.items]
        out += [(urls.item_url(self.items[i].slug), "sibling") for i in page.siblings]
        out += [(path, "pagination") for n, path in page.pagination if n != page.page_number]
        out += [(urls.text_page_url(s), "page") for s in page.text_pages]
        out += [(urls.text_page_url(s), "footer") for s in self.footer]
        return [(target, role) for target, role in out if target != page.path]


def hub_slug_of(item: Item, hubs_by_name: dict[str, Hub]) -> str:
    return hubs_by_name[item.category or OTHER].slug


OTHER = "Other"


def _claim(seen: dict[str, str], path: str, source: str) -> None:
    if path in seen:
        raise SlugCollisionError(path, seen[path], source)
    seen[path] = source


def header_hubs(hubs: list[Hub]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every hub is in the header: the largest as links, as many as fit ``NAV_CHARS`` characters of names (at
    most ``NAV_HUBS``, at least one), and the rest, sorted by name, under "More"."""
    by_size = sorted(hubs, key=lambda h: (-len(h.item_ids), h.slug))
    shown: list[Hub] = []
    for hub in by_size:
        if shown and (len(shown) == NAV_HUBS or sum(len(h.name) for h in shown) + len(hub.name) > NAV_CHARS):
            break
        shown.append(hub)
    rest = sorted(by_size[len(shown):], key=lambda h: (h.name.casefold(), h.slug))
    return tuple(h.slug for h in shown), tuple(h.slug for h in rest)


def plan_site(site: Site, *, hub_page_size: int = 120) -> SitePlan:
    """Lay out every page. Raises SlugCollisionError naming both sources when two pages share a path."""
    items = site.item_by_id()
    hubs = {h.slug: h for h in site.hubs}
    hubs_by_name = {h.name: h for h in site.hubs}
    collections = site.collection_by_slug()
    texts = {p.slug: p for p in site.pages}
    nav, more = header_hubs(site.hubs)
    aliases = {urls.alias_key(c.slug, a.anchor): (c, a) for c in site.collections for a in c.aliases}
    plan = SitePlan([], nav, tuple(sorted(texts)), hubs, items, collections, texts, aliases, nav_more=more)
    seen: dict[str, str] = {}
    home_crumb = (("Home", urls.home_url()),)

    def add(page: PagePlan) -> None:
        _claim(seen, page.path, page.source)
        plan.pages.append(page)

    add(PagePlan(urls.home_url(), "home", "Home", "", "the home page",
                 hubs=tuple(sorted(hubs)), collections=tuple(site.featured), text_pages=tuple(sorted(texts))))

    for slug, page in sorted(texts.items()):
        add(PagePlan(urls.text_page_url(slug), "page", page.title, slug, page.source, breadcrumbs=home_crumb))

    for slug, hub in sorted(hubs.items()):
        chunks = [hub.item_ids[i:i + hub_page_size] for i in range(0, len(hub.item_ids), hub_page_size)] or [()]
        pagination = tuple((n, urls.hub_url(slug, n)) for n in range(1, len(chunks) + 1)) if len(chunks) > 1 else ()
        for n, chunk in enumerate(chunks, start=1):
            crumbs = home_crumb if n == 1 else home_crumb + ((hub.name, urls.hub_url(slug)),)
            add(PagePlan(urls.hub_url(slug, n), "hub", hub.name, slug, f"category {hub.name!r}",
                         breadcrumbs=crumbs, collections=hub.collection_slugs if n == 1 else (),
                         items=tuple(chunk), pagination=pagination, page_number=n))

    for slug, coll in sorted(collections.items()):
        hub = hubs_by_name[coll.hub]
        add(PagePlan(urls.collection_url(slug), "collection", coll.topic, slug, f"topic {coll.topic!r}",
                     breadcrumbs=home_crumb + ((hub.name, urls.hub_url(hub.slug)),),
                     collections=tuple(coll.related), items=coll.item_ids))

    for hub in site.hubs:
        ids = hub.item_ids
        for pos, item_id in enumerate(ids):
            item = items[item_id]
            # siblings: the next items in hub order (wrapping), so every item is linked from its neighbours
            sib = tuple(ids[(pos + k) % len(ids)] for k in range(1, min(SIBLINGS, len(ids) - 1) + 1))
            add(PagePlan(urls.item_url(item.slug), "item", item.title, item.id, f"item {item.id!r} ({item.source})",
                         breadcrumbs=home_crumb + ((hub.name, urls.hub_url(hub.slug)),), hubs=(hub.slug,),
                         collections=site.annotations.get(item.id, ()), siblings=sib))
    return plan


@dataclass
class LinkGraph:
    """The site's link graph as arrays (edge weight = number of links; a link to an anchor is a link to its page):
    pages in plan order, and per page its targets in first-link order, as a NetworkX DiGraph built from the plan
    would hold them. What the link stage measures at graph speed (``rank.measure``); ``to_networkx`` gives the
    DiGraph for everything else."""

    nodes: list[str]
    kinds: list[str]
    src: list[int]
    dst: list[int]
    weight: list[int]
    _in_degree: list[int] | None = field(default=None, repr=False)
    _index_map: dict[str, int] | None = field(default=None, repr=False)

    def __iter__(self):
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def number_of_nodes(self) -> int:
        return len(self.nodes)

    @property
    def links(self) -> int:
        return sum(self.weight)

    def in_degree(self, path: str) -> int:
        """Pages linking to ``path`` (not counting repeats)."""
        if self._in_degree is None:
            degree = [0] * len(self.nodes)
            for j in self.dst:
                degree[j] += 1
            self._in_degree = degree
        return self._in_degree[self._index()[path]]

    def _index(self) -> dict[str, int]:
        if self._index_map is None:
            self._index_map = {n: i for i, n in enumerate(self.nodes)}
        return self._index_map

    def to_networkx(self):
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from((n, {"kind": k}) for n, k in zip(self.nodes, self.kinds))
        graph.add_weighted_edges_from((self.nodes[u], self.nodes[v], w)
                                      for u, v, w in zip(self.src, self.dst, self.weight))
        return graph


def link_edges(plan: SitePlan) -> LinkGraph:
    """The plan's link graph as arrays (``LinkGraph``)."""
    nodes = [page.path for page in plan.pages]
    index = {path: i for i, path in enumerate(nodes)}
    src: list[int] = []
    dst: list[int] = []
    weight: list[int] = []
    page_path = urls.page_path
    for i, page in enumerate(plan.pages):
        counts: dict[str, int] = {}
        for target, _role in plan.links(page):
            target = page_path(target)
            counts[target] = counts.get(target, 0) + 1
        for target, n in counts.items():
            j = index.get(target)
            if j is None:  # a link to a page outside the plan: a node of its own, as NetworkX would add it
                j = index[target] = len(nodes)
                nodes.append(target)
            src.append(i)
            dst.append(j)
            weight.append(n)
    kinds = [page.kind for page in plan.pages] + [""] * (len(nodes) - len(plan.pages))
    return LinkGraph(nodes, kinds, src, dst, weight)


def link_graph(plan: SitePlan):
    """The site as a NetworkX DiGraph over page paths (edge weight = number of links; a link to an anchor is a
    link to its page)."""
    return link_edges(plan).to_networkx()
