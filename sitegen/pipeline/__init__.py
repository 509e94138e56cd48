"""The build: the orchestrator, the GEO stage runner, build-state caching and the atomic swap."""
