"""Pages, JSON-LD, media, sitemaps, robots.txt and llms.txt."""
