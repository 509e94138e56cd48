"""The relevance loop: judges (teachers) grade topic-item pairs 1-5 on one written guideline, the grades land in
the store (``store.judgments``), and a small student learns from them to score every candidate at build time.

- ``guideline``: the 5-level guideline every judge follows (people in the review app, the LLM judge's prompt).
- ``judge``: the judge interface (registry kind ``judge``, chosen by ``relevance.teacher``).
- ``human``: the ``human`` judge (people's grades from the review app or a CSV; median over raters).
- ``queue``: the review app's queue: candidate pairs of the last build, most uncertain first.
- ``agreement``: inter-rater agreement (quadratic-weighted kappa) and judgment counts.
- ``csvio``: judgments to and from CSV (``sitegen judgments export`` / ``import``).
"""
