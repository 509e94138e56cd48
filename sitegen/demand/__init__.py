"""Demand: what people search for flows back into the site.

- ``signals``: Search Console / GA4 exports imported into the store, their pages matched to the site's URLs;
- ``reward``: the engagement-rate reward per topic page (Query Reward), average where there is no data;
- ``steer``: how the rewards steer a build: the page budget, hub order, home slots and related links;
- ``trends``: the trend-mining agent (LangGraph) over Google Trends files, with a lifecycle stage per trend;
- ``lifecycle``: pages whose topic lost its support are retired (301 to the closest live collection, or 410).
"""
