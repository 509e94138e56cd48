"""The relevance loop: judges (teachers) grade topic-item pairs 1-5 on one written guideline, the grades land in
the store (``store.judgments``), and a small student learns from them to score every candidate at build time.

- ``guideline``: the 5-level guideline every judge follows (people in the review app, the LLM judge's prompt).
- ``judge``: the judge interface (registry kind ``judge``, chosen by ``relevance.teacher``).
"""
