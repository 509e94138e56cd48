"""The built-in implementations of every extension point, registered exactly as a plugin would register its
own (lazily: naming one here imports nothing until a site chooses it). See EXTENDING.md."""

from sitegen.core.registry import register

BUILTINS: dict[str, dict[str, str]] = {
    "generator": {
        "retrieval": "sitegen.represent.run:make_retrieval_generator",
        "vlm": "sitegen.represent.run:make_vlm_generator",
    },
    "topic_source": {
        "queries": "sitegen.aggregate.topics:query_topics",
        "console": "sitegen.demand.console:console_source",
        "trends": "sitegen.demand.trends.topics:trend_topic_source",
    },
    "annotator": {
        "similarity": "sitegen.distribute.stage:similarity_annotator",
        "two_tower": "sitegen.distribute.twotower:two_tower_annotator",
    },
    "runner": {
        "local": "sitegen.pipeline.runner:LocalRunner",
        "ray": "sitegen.pipeline.ray_runner:RayRunner",
    },
    "scorer": {
        "heuristic": "sitegen.aggregate.relevance:HeuristicScorer",
        "bm25": "sitegen.learn.relevance.bm25:Bm25Scorer",
        "student": "sitegen.learn.relevance.student:StudentScorer",
    },
    "judge": {
        "catalog": "sitegen.learn.relevance.catalog:CatalogJudge",
        "cross-encoder": "sitegen.learn.relevance.cross_encoder:CrossEncoderJudge",
        "human": "sitegen.learn.relevance.human:HumanJudge",
        "llm": "sitegen.learn.relevance.llm:LlmJudge",
    },
}

for _kind, _entries in BUILTINS.items():
    for _name, _ref in _entries.items():
        register(_kind, _name, _ref)
