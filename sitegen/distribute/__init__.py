"""Slugs, annotations, the page plan and the link graph with PageRank."""
