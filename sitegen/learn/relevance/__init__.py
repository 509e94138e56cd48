"""The relevance loop: judges (teachers) grade topic-item pairs 1-5 on one written guideline, the grades land in
the store (``store.judgments``), and a small student learns from them to score every candidate at build time.

- ``guideline``: the 5-level guideline every judge follows (people in the review app, the LLM judge's prompt).
- ``judge``: the judge interface (registry kind ``judge``, chosen by ``relevance.teacher``).
- ``human``: the ``human`` judge (people's grades from the review app or a CSV; median over raters).
- ``queue``: the review app's queue: candidate pairs of the last build, most uncertain first.
- ``agreement``: inter-rater agreement (quadratic-weighted kappa) and judgment counts.
- ``csvio``: judgments to and from CSV (``sitegen judgments export`` / ``import``).
- ``features``: the student's versioned feature spec and the code computing it from what every scorer gets.
- ``student``: the student (torch training, numpy inference, saved in ``relevance.model``) and its scorer.
- ``bm25``: BM25 over item texts (bm25s) and the ``bm25`` scorer.
- ``metrics``: accuracy, quadratic-weighted kappa, AUROC per threshold, nDCG@k, the score -> grade mapping.
- ``labelled`` / ``offline``: a labelled CSV as a catalog, and ``sitegen eval relevance`` on it.
- ``pairs`` / ``site``: the site's candidate pairs, the teacher's grades of a sample, ``sitegen train relevance`` and
  ``sitegen eval relevance`` without ``--labels``.
"""
