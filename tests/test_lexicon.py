"""Lexicons: packaged word lists per language and domain, a site's own file, merging, validation, and their use
by the retrieval generator; the one normaliser / stemmer and colour accessor of core/text.py."""

from __future__ import annotations

import pytest

from sitegen.core.config import RepresentSection, load_config
from sitegen.core.errors import ConfigError
from sitegen.core.lexicon import auto_names, english, load_lexicon, packaged_names
from sitegen.core.models import Item
from sitegen.core.text import colour_values, match_words, normalise, stem, topic_key

from .conftest import ROOT


def test_packaged_lexicons_and_auto():
    assert packaged_names() == ["clipart", "en", "fashion"]
    assert auto_names() == ["clipart", "fashion", "en"]
    everything = load_lexicon(["auto"])
    assert everything.names == ("clipart", "fashion", "en") and "diwali" in everything.occasions["ethnic"]
    assert everything.kind_words["cliparts"] == "clipart" and everything.audiences["ladies"] == "women"
    clip = load_lexicon(["en", "clipart"])
    assert clip.names == ("en", "clipart") and clip.occasions == {} and clip.kind_intents
    assert "{s} outfit ideas" not in clip.generic_intents and "{s} ideas" in clip.generic_intents
    assert load_lexicon(["en", "clipart"]) is clip  # cached
    en = english()
    assert "the" in en.stopwords and "clipart" in en.generic_words and en.genders["gents"] == "men"


def test_a_site_lexicon_adds_words_and_overrides_entries(tmp_path):
    (tmp_path / "garden.toml").write_text('use_case_words = ["planting", "ideas"]\n'
                                          '[occasions]\nformal = ["board meetings"]\nparty = []\n')
    lex = load_lexicon(["auto", "garden.toml"], tmp_path)
    assert lex.use_case_words.count("ideas") == 1 and lex.use_case_words[-1] == "planting"
    assert lex.occasions["formal"] == ("board meetings",) and lex.occasions["party"] == ()
    assert lex.occasions["ethnic"] == ("festivals", "weddings", "diwali")  # the packaged entries stay


def test_lexicons_validated_at_load_naming_file_and_key(tmp_path):
    bad = tmp_path / "mine.toml"
    bad.write_text('stopwords = "the"\nkind_words = ["x"]\n[occasions]\nformal = "office"\n[colours]\nred = 1\n')
    (tmp_path / "site.toml").write_text('[represent]\nlexicons = ["en", "klingon", "mine.toml", "gone.toml"]\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "site.toml")
    assert err.value.errors == [
        "represent.lexicons[1]: unknown lexicon 'klingon' (packaged: clipart, en, fashion; or 'auto', or a path "
        "to a .toml file)",
        f"represent.lexicons[2]: {bad}: stopwords: must be a list of strings",
        f"represent.lexicons[2]: {bad}: kind_words: must be a table of word = \"word\"",
        f"represent.lexicons[2]: {bad}: occasions.formal: must be a list of strings",
        f"represent.lexicons[2]: {bad}: colours: unknown key (use stopwords, generic_words, relevance_stopwords, "
        "intent_markers, use_case_words, use_case_phrases, style_words, style_phrases, generic_intents, "
        "kind_intents, domain_words, audiences, genders, kind_words, occasions, implies)",
        f"represent.lexicons[3]: lexicon file not found: {tmp_path / 'gone.toml'}"]
    bad.write_text("stopwords = [\n")
    (tmp_path / "site.toml").write_text('[represent]\nlexicons = ["mine.toml"]\n')
    with pytest.raises(ConfigError, match=r"represent\.lexicons\[0\]: .*mine\.toml: not valid TOML"):
        load_config(tmp_path / "site.toml")


def test_the_example_site_chooses_its_domain():
    assert load_config(ROOT / "site.toml").represent.lexicons == ["en", "clipart"]
    assert RepresentSection().lexicons == ["auto"]


def test_retrieval_occasions_come_from_the_chosen_lexicons(tmp_path):
    from sitegen.engines.embed import Embedder
    from sitegen.represent.retrieval import RetrievalGenerator

    items = [Item(id="1", title="Zeta Women Red Kurta", image="", image_sha="", width=1, height=1,
                  category="Apparel", attributes=(("article_type", "Kurtas"), ("base_colour", "Red"),
                                                  ("usage", "Ethnic"), ("gender", "Women")))]
    embedder = Embedder(device="cpu")
    cfg = RepresentSection(brands=["Zeta"])
    (tmp_path / "shop.toml").write_text('[occasions]\nethnic = ["temple visits"]\n')

    def texts(lexicons):
        gen = RetrievalGenerator(cfg, embedder, corpus=items, lexicon=load_lexicon(lexicons, tmp_path))
        return {c.text for c in gen.generate(items)[0]}

    assert "kurta for diwali" in texts(["en", "fashion"])
    assert not any("diwali" in t or "festivals" in t for t in texts(["en"]))
    assert "kurta for temple visits" in texts(["en", "fashion", "shop.toml"])


def test_one_normaliser_and_stemmer():
    assert normalise("  Men\u2019s T-Shirt, BLACK & white!! ") == "men's t-shirt black & white"
    assert match_words("Men's T-shirts for Ladies") == ["men", "tshirt", "for", "women"]
    assert [stem(w) for w in ("puppies", "boxes", "glasses", "dress", "gents")] == ["puppy", "box", "glass",
                                                                                    "dress", "men"]
    assert topic_key("Café  Menus!") == topic_key("cafe menus") == "cafe menus"


def test_one_colour_accessor():
    item = Item(id="1", title="t", image="", image_sha="", width=1, height=1,
                attributes=(("Base Colour", "Navy Blue, White"), ("usage", "casual"), ("color", "red/ white"),
                            ("colour", "Navy Blue")))
    assert colour_values(item) == ["Navy Blue", "White", "red", "white"]
    assert colour_values(item, first_attribute=True) == ["Navy Blue", "White"]
    assert colour_values(Item(id="2", title="t", image="", image_sha="", width=1, height=1)) == []


def test_editing_a_site_lexicon_invalidates_the_geo_cache(tmp_path):
    from sitegen.core.models import Site
    from sitegen.pipeline.geo import geo_key

    (tmp_path / "shop.toml").write_text('[occasions]\nethnic = ["temple visits"]\n')
    (tmp_path / "site.toml").write_text('[represent]\nlexicons = ["en", "fashion", "shop.toml"]\n')
    cfg = load_config(tmp_path / "site.toml")
    key = geo_key(cfg, Site(items=[], hubs=[], pages=[]))
    (tmp_path / "shop.toml").write_text('[occasions]\nethnic = ["poojas"]\n')
    assert geo_key(cfg, Site(items=[], hubs=[], pages=[])) != key
