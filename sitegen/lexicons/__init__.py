"""Packaged lexicons (word lists per language and domain) read by ``sitegen.core.lexicon``."""
