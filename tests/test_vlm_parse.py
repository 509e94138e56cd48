"""parse.py: imperfect VLM output -> (query, category); category normalisation and the heuristic."""

from __future__ import annotations

import pytest

from sitegen.represent.parse import classify_query, normalize_category, parse_queries


def pairs(raw: str) -> list[tuple[str, str]]:
    return [(q.text, q.category) for q in parse_queries(raw)]


STRICT = ('[{"query": "red apple", "category": "description"}, {"query": "sage green look", "category": "style"}, '
          '{"query": "teacher gift ideas", "category": "use_case"}]')
EXPECTED = [("red apple", "description"), ("sage green look", "style"), ("teacher gift ideas", "use_case")]


@pytest.mark.parametrize("raw", [
    STRICT,
    "```json\n" + STRICT + "\n```",
    "Sure! Here are the queries:\n```\n" + STRICT + "\n```\nHope this helps.",
    "Here you go: " + STRICT,
    STRICT[:-1] + ",]",  # trailing comma
    STRICT.replace('"', "'"),  # single quotes
    '{"queries": ' + STRICT + "}",
    '{"description": ["red apple"], "style": ["sage green look"], "use case": ["teacher gift ideas"]}',
])
def test_vlm_parse_json_variants(raw):
    assert pairs(raw) == EXPECTED


def test_vlm_parse_truncated_array_recovers_complete_objects():
    raw = STRICT[: STRICT.index('{"query": "teacher')] + '{"query": "teacher gi'
    assert pairs(raw) == EXPECTED[:2]
    # truncated inside an object wrapper, with a trailing comma before the cut
    raw2 = '{"queries": [{"query": "red apple", "category": "description"},{"query": "sage green look", ' \
           '"category": "style"}, {"query"'
    assert pairs(raw2) == EXPECTED[:2]


def test_vlm_parse_truncated_string_list():
    assert [q.text for q in parse_queries('["red apple", "green pear", "unfinis')] == ["red apple", "green pear"]


def test_vlm_parse_single_quotes_keep_apostrophes():
    raw = "[{'query': \"women's red dress\", 'category': 'use case'}, {'query': 'vintage poster', 'category': 'Detail'}]"
    assert pairs(raw) == [("women's red dress", "use_case"), ("vintage poster", "style")]


def test_vlm_parse_plain_lists():
    raw = """Here are some search queries:
1. red apple (description)
2. [style] sage green look
3) style: glossy red finish
4. teacher gift ideas - use case
- fruit bowl (intent)
* **kitchen still life** [use-case]"""
    assert pairs(raw) == [("red apple", "description"), ("sage green look", "style"), ("glossy red finish", "style"),
                          ("teacher gift ideas", "use_case"), ("fruit bowl", "use_case"),
                          ("kitchen still life", "use_case")]


def test_vlm_parse_headings_apply_to_following_lines():
    raw = "**Description queries:**\n- red apple\n- fresh fruit\n\nStyle / detail:\n- glossy red look\n" \
          "Use cases:\n1. healthy snack\n"
    assert pairs(raw) == [("red apple", "description"), ("fresh fruit", "description"), ("glossy red look", "style"),
                          ("healthy snack", "use_case")]


def test_vlm_parse_missing_category_is_inferred():
    got = parse_queries('["minimalist kitchen decor ideas", "black and white line art", "eiffel tower"]')
    assert [(q.category, q.inferred) for q in got] == [("use_case", True), ("style", True), ("description", True)]
    unknown = parse_queries('[{"query": "apple pie", "category": "banana"}]')
    assert unknown[0].category == "description" and unknown[0].inferred


def test_vlm_parse_dedupes_and_cleans():
    raw = '[{"query": " Red  Apple. ", "category": "description"}, {"query": "red apple", "category": "style"}]'
    assert pairs(raw) == [("Red Apple", "description")]


@pytest.mark.parametrize("raw", ["", "   ", "O\ufffd\x1c\ufffdl deco\x19at deco", "{}", "[]", "I cannot help with that.",
                                 '[{"category": "style"}]'])
def test_vlm_parse_garbage_gives_nothing(raw):
    assert parse_queries(raw) == []


@pytest.mark.parametrize("label,expected", [
    ("description", "description"), ("Descriptions", "description"), ("entity", "description"),
    ("style", "style"), ("detail", "style"), ("Attribute", "style"), ("style/detail", "style"),
    ("use case", "use_case"), ("use-case", "use_case"), ("use_case", "use_case"), ("USE CASES", "use_case"),
    ("intent", "use_case"), ("use case / intent", "use_case"), ("usecase", "use_case"),
    ("banana", None), ("", None), (None, None),
])
def test_vlm_normalize_category(label, expected):
    assert normalize_category(label) == expected


@pytest.mark.parametrize("text,expected", [
    ("modern office outfits for women", "use_case"), ("capsule wardrobe must-haves", "use_case"),
    ("kitchen decor ideas", "use_case"), ("how to draw a cat", "use_case"), ("diy wedding centerpiece", "use_case"),
    ("math worksheet", "use_case"), ("christmas wallpaper", "use_case"), ("classroom poster", "use_case"),
    ("sage green monochrome look", "style"), ("vintage botanical print", "style"), ("black and white line art", "style"),
    ("watercolor flowers", "style"), ("cartoon cat outline", "style"), ("minimalist aesthetic", "style"),
    ("golden retriever puppy", "style"),  # a colour word wins
    ("red apple", "style"), ("apple", "description"), ("eiffel tower at night", "description"),
])
def test_vlm_classify_query(text, expected):
    assert classify_query(text) == expected
