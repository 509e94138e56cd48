"""The trend-mining agent: Google Trends files -> lifecycle stages (``series``) -> proposed topic pages (README,
"Trend agent")."""
