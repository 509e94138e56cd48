"""``sitegen judge``: the configured teacher grades a sample of the site's candidate pairs into the store."""

from __future__ import annotations

from collections import Counter

import click

from sitegen.cli.main import CONFIG_OPTION, SET_OPTION, _load, _progress, main


@main.command(name="judge")
@CONFIG_OPTION
@SET_OPTION
@click.option("--teacher", default=None, help="The judge that grades (relevance.teacher): catalog, cross-encoder, "
              "llm, human, or a plugin's.")
@click.option("--sample", type=click.IntRange(min=1), default=None,
              help="Topic-item pairs to grade (relevance.sample).")
def judge(config_path, overrides, teacher, sample) -> None:
    """Grade a sample of topic-item pairs, spread over every topic's candidates from best to worst, with the
    teacher, into the store (`sitegen train relevance` learns from them)."""
    from sitegen.learn.relevance.pairs import candidate_pass, grade_pairs, sample_pairs
    from sitegen.store.db import Store

    cfg = _load(config_path, overrides, {"relevance.teacher": teacher, "relevance.sample": sample})
    with Store(cfg.store_path) as store, _progress(enabled=cfg.build.progress) as factory:
        cands = candidate_pass(cfg, store, progress=factory)
        pairs = sample_pairs(cands, cfg.relevance.sample)
        grades = grade_pairs(cfg, store, pairs, cands=cands, progress=factory("judge"))
    tally = Counter(g.grade for g in grades)
    click.echo(f"{cfg.relevance.teacher}: graded {len(grades)} of {len(pairs)} pair(s) over {len(cands.topics)} "
               f"topic(s); grades " + ", ".join(f"{g}: {tally.get(g, 0)}" for g in range(5, 0, -1)))
