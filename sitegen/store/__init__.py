"""The site's state: one DuckDB file, its migrations, and one repository per owner."""
