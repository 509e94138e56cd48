"""The trend-mining side of the demand loop: trend lifecycle stages (``series``)."""
