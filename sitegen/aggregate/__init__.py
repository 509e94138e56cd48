"""Topics become collections: candidates from the ANN index, relevance scoring, quality gates, summaries."""
