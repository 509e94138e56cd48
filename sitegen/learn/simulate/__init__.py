"""The closed-loop simulator (``sitegen simulate``): a local search engine over the built HTML, a hidden
population of searchers, a position-based click model and exports in the real Search Console format.

- ``engine``: reads ``build/`` as a crawler does and ranks its pages for a query (BM25 + MiniLM, fused);
- ``demand``: the searchers' hidden intents (the catalog's attribute combinations), their phrasings and Zipf
  volumes;
- ``seasons``: weekly multipliers from real Google Trends series, matched to intents by embedding similarity;
- ``clicks``: impressions and clicks of one simulated week (page-one viewing, a published position-CTR curve
  times the page's satisfaction of the intent);
- ``export``: that week as a Search Console API export (and optionally a GA4 landing-page export);
- ``loop``: build -> simulate a week -> import the export -> build again; ``curve``: the clicks-per-round plot.

The loop sees only the exports; everything else here is the simulated world.
"""
