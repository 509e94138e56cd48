"""The 5-level relevance guideline, the one text every judge follows: the review app shows it, the LLM judge
reads it in its prompt, the catalog's silver grades and the cross-encoder teacher are mapped onto its levels.
README.md ("Relevance guideline") carries the same levels; a test keeps them equal."""

from __future__ import annotations

GRADES: dict[int, tuple[str, str]] = {
    5: ("highly relevant",
        "exactly what the search asks for: every stated constraint (kind, colour, audience, material, style, "
        "occasion) holds, and the image is a good example of it"),
    4: ("relevant",
        "satisfies the search; a minor detail is unstated or slightly off (a shade, a small style detail), and "
        "a searcher would be glad to see it"),
    3: ("somewhat relevant",
        "the right kind of thing, but one stated constraint fails or cannot be told (wrong colour, another "
        "occasion, another audience), so it is only a fallback"),
    2: ("marginally relevant",
        "shares a word or a theme with the search but is another kind of thing (a shoe for a bag search, a hot "
        "dog for a dog search); a searcher would skip it"),
    1: ("irrelevant", "nothing to do with the search"),
}

RELEVANT = 4  # the lowest grade that counts as relevant (precision, AUROC@4, review agreement)


def guideline_text() -> str:
    """The guideline as plain text, highest grade first (the LLM judge's prompt, the review app's help)."""
    lines = ["Grade how well the item satisfies the search, from 1 to 5:"]
    lines += [f"{grade} = {name}: {meaning}." for grade, (name, meaning) in sorted(GRADES.items(), reverse=True)]
    return "\n".join(lines)
