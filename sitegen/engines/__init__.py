"""Models shared by the stages: the text-embedding model, ANN indexes, and the VLM / LLM backends."""
