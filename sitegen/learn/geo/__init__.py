"""The offline GEO visibility check (``sitegen eval geo``): a local answer engine over the built site.

- ``passages``: the built pages' ``<main>`` cut into quotable passages, each carrying its page's URL;
- ``answers``: extractive answers from the top five retrieved passages, and the GEO paper's position-adjusted
  word count (PAWC) of each cited page;
- ``evaluate``: the site's passages and a plain category-listing baseline of the same items in the simulator's
  search engine, held-out queries from the simulator's hidden demand, the shares per page group.
"""
