"""The data model, config machinery, errors, URLs and the one text normaliser: no I/O beyond reading site.toml."""
