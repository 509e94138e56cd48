"""The trend-mining agent: Google Trends files -> lifecycle stages -> proposed topic pages (README, "Trend agent")."""
