"""A third-party topic source: the topics listed in ``seasonal-topics.toml`` beside ``site.toml``.

    [[topic]]
    text = "christmas decorations for a holiday card"
    hub = "Holidays"
"""

import tomllib

from sitegen.core.models import Topic


def seasonal_topics(request):
    path = request.cfg.root / "seasonal-topics.toml"
    if not path.is_file():
        return []
    rows = tomllib.loads(path.read_text(encoding="utf-8")).get("topic", [])
    return [Topic(text=row["text"], category="use_case", hub=row["hub"], weight=float(row.get("weight", 1.0)))
            for row in rows]


def register(registry):
    registry.register("topic_source", "seasonal", seasonal_topics)
