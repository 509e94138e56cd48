"""The VASE two-tower annotation ranker: an item tower and a query tower whose cosine ranks which queries
annotate each image.

- ``model``: the inputs, numpy inference, the saved folder and its fingerprint.
- ``pairs``: the training pairs from the site (memberships, human grades, Search Console clicks; hard and random
  negatives; items held out).
- ``train``: the margin-ranking training loop (torch, imported only there).
- ``evaluate``: correct rank, recall@k and annotation precision of ``similarity`` vs ``two_tower``.
"""
