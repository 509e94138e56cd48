"""The transformers backend, the generator's fallback and LoRA SFT on a tiny random Qwen2-VL (built once per
session from a config; no download). Torch runs on one thread here: on a shared 2-core machine a tiny model is
many times faster single-threaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from PIL import Image

from sitegen.core.config import Config
from sitegen.core.models import Item
from sitegen.represent.base import Candidate, QueryGenerator
from sitegen.engines.vlm import Decoding, TransformersBackend, VlmRequest, load_processor
from sitegen.represent.vlm import VlmGenerator, make_vlm_generator
from sitegen.represent.parse import parse_queries
from sitegen.represent.prompt import chat_messages, format_target
from sitegen.engines.tiny import make_tiny_qwen2vl
from sitegen.learn.vlm_train import TrainResult, encode_example, train_lora

PIXELS = 28 * 28 * 4  # 56 x 56: four image tokens per image keep the sequences short
SYSTEM = "You answer with JSON only."
PROMPT = "Search queries for this image?"
ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (200, 30, 200), (30, 200, 200),
           (120, 60, 20), (250, 250, 250), (10, 10, 10), (128, 128, 128)]
NAMES = ["red apple", "green pear", "blue vase", "yellow sunflower", "pink flower", "teal bowl", "brown dog",
         "white cloud", "black cat", "grey stone"]


class TitleGenerator(QueryGenerator):
    name = "title"

    def generate(self, items):
        return [[Candidate(i.title.lower(), "description", "title", 1.0)] for i in items]


@pytest.fixture(scope="module", autouse=True)
def vlm_one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def vlm_tiny_model(tmp_path_factory) -> Path:
    return make_tiny_qwen2vl(tmp_path_factory.mktemp("vlm-tiny") / "model", seed=0)


def _targets(name: str) -> list[tuple[str, str]]:
    colour, thing = name.split()
    return [(name, "description"), (f"{colour} aesthetic", "style"), (f"{thing} ideas for kids", "use_case"),
            (f"{name} decor", "use_case")]


@pytest.fixture(scope="module")
def vlm_train_set(tmp_path_factory) -> tuple[Path, list[dict]]:
    folder = tmp_path_factory.mktemp("vlm-train")
    records = []
    for n, (colour, name) in enumerate(zip(COLOURS, NAMES)):
        path = folder / f"img{n}.png"
        Image.new("RGB", (64, 48), colour).save(path)
        records.append({"image": str(path), "item_id": f"i{n}",
                        "messages": chat_messages(PROMPT, system=SYSTEM, answer=format_target(_targets(name)))})
    jsonl = folder / "train.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return jsonl, records


@pytest.fixture(scope="module")
def vlm_trained(vlm_tiny_model, vlm_train_set, tmp_path_factory) -> TrainResult:
    jsonl, _ = vlm_train_set
    return train_lora(vlm_tiny_model, jsonl, tmp_path_factory.mktemp("vlm-adapter") / "adapter", epochs=30, lr=5e-3,
                      batch_size=2, grad_accum=1, min_pixels=PIXELS, max_pixels=PIXELS, target_modules=ALL_LINEAR,
                      warmup_ratio=0.05, device="cpu")


def _items(folder: Path, n: int) -> list[Item]:
    items = []
    for k in range(n):
        p = folder / f"x{k}.png"
        Image.new("RGB", (80 + 20 * k, 60), COLOURS[k]).save(p)
        items.append(Item(id=f"x{k}", title=NAMES[k], image=str(p), image_sha=f"sha{k}", width=80 + 20 * k, height=60))
    return items


def test_vlm_tiny_model_folder_loads_offline(vlm_tiny_model):
    from transformers import Qwen2VLForConditionalGeneration

    model = Qwen2VLForConditionalGeneration.from_pretrained(vlm_tiny_model)
    assert model.config.text_config.hidden_size == 64 and model.config.text_config.num_hidden_layers == 2
    processor = load_processor(vlm_tiny_model, min_pixels=PIXELS, max_pixels=PIXELS * 4)
    tok = processor.tokenizer
    for special in ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|vision_start|>", "<|image_pad|>"):
        assert tok.convert_tokens_to_ids(special) is not None
    assert model.config.image_token_id == tok.convert_tokens_to_ids("<|image_pad|>")
    text = processor.apply_chat_template(chat_messages("hi"), tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n") and "<|vision_start|><|image_pad|><|vision_end|>" in text
    assert tok.decode(tok("red apple ideas")["input_ids"]) == "red apple ideas"


def test_vlm_tiny_model_auto_processor(vlm_tiny_model):
    pytest.importorskip("torchvision", reason="transformers 5 loads the Qwen2-VL video processor via torchvision")
    from transformers import AutoProcessor

    assert AutoProcessor.from_pretrained(vlm_tiny_model).tokenizer is not None


def test_vlm_transformers_backend_generates_text(vlm_tiny_model, tmp_path):
    items = _items(tmp_path, 3)
    backend = TransformersBackend(vlm_tiny_model, device="cpu", batch_size=2, min_pixels=PIXELS, max_pixels=PIXELS * 4,
                                  decoding=Decoding(max_new_tokens=12))
    assert backend.generation_kwargs.__name__  # loads lazily
    reqs = [VlmRequest(it.image, PROMPT, key=it.id) for it in items] + [VlmRequest(str(tmp_path / "nope.png"), "p")]
    results = backend.generate_detailed(reqs)
    assert [bool(r.error) for r in results] == [False, False, False, True]
    assert all(isinstance(r.text, str) and r.text for r in results[:3])
    assert backend.generation_kwargs()["do_sample"] is False  # top-k 1: greedy
    again = backend.generate(reqs[:2])
    assert again == [r.text for r in results[:2]]  # deterministic


def test_vlm_generator_random_model_falls_back(vlm_tiny_model, tmp_path):
    cfg = Config(root=tmp_path)
    cfg.vlm.backend, cfg.vlm.model, cfg.vlm.device = "transformers", str(vlm_tiny_model), "cpu"
    cfg.vlm.min_pixels, cfg.vlm.max_pixels, cfg.vlm.max_new_tokens = PIXELS, PIXELS * 4, 24
    items = _items(tmp_path, 3)
    gen = make_vlm_generator(cfg, store=None, fallback=TitleGenerator())
    assert isinstance(gen, VlmGenerator)
    out = gen.generate(items)
    assert gen.stats["generated"] == 3 and gen.stats["fallback"] == 3  # random weights: garbage, nothing parsed
    assert [[c.source for c in cands] for cands in out] == [["title"]] * 3
    assert len(gen.raw) == 3


def test_vlm_labels_only_on_assistant_reply(vlm_tiny_model, vlm_train_set):
    _, records = vlm_train_set
    processor = load_processor(vlm_tiny_model, min_pixels=PIXELS, max_pixels=PIXELS)
    ex = encode_example(processor, records[0], min_pixels=PIXELS, max_pixels=PIXELS)
    ids, labels = ex["input_ids"], ex["labels"]
    tok = processor.tokenizer
    kept = labels != -100
    answer = records[0]["messages"][2]["content"]
    assert tok.decode(labels[kept]) == answer + "<|im_end|>"
    assert tok.decode(ids[kept], skip_special_tokens=True) == answer
    first = int(kept.nonzero()[0])
    assert bool(kept[first:].all()) and not bool(kept[:first].any())  # one contiguous answer span at the end
    prompt = tok.decode(ids[:first])
    assert prompt.endswith("<|im_start|>assistant\n") and SYSTEM in prompt and PROMPT in prompt
    image_positions = ids == tok.convert_tokens_to_ids("<|image_pad|>")
    n_image = int(ex["image_grid_thw"].prod()) // 4  # 2 x 2 merge
    assert int(image_positions.sum()) == n_image == 4 and bool((labels[image_positions] == -100).all())
    assert ex["mm_token_type_ids"].shape == ids.shape and int(ex["mm_token_type_ids"].sum()) == n_image
    assert encode_example(processor, records[0], max_length=10, min_pixels=PIXELS, max_pixels=PIXELS) is None


def test_vlm_lora_loss_drops(vlm_trained):
    r = vlm_trained
    assert r.steps == 150 and len(r.losses) == 150 and r.examples == 10 and r.skipped == 0
    assert r.final_loss < 0.25 * r.initial_loss, (r.initial_loss, r.final_loss)
    adapter = Path(r.adapter_dir)
    assert (adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file()
    meta = json.loads((adapter / "sitegen_train.json").read_text())
    assert meta["final_loss"] == r.final_loss and meta["settings"]["lr"] == 5e-3


def test_vlm_adapter_reproduces_training_targets(vlm_tiny_model, vlm_train_set, vlm_trained):
    """The classic overfit check: after training, greedy generation through the transformers backend with the
    adapter reproduces each training target closely enough that parse.py returns its queries."""
    _, records = vlm_train_set
    backend = TransformersBackend(vlm_tiny_model, adapter=vlm_trained.adapter_dir, device="cpu", batch_size=5,
                                  min_pixels=PIXELS, max_pixels=PIXELS, decoding=Decoding(max_new_tokens=96))
    assert "+lora:" in backend.model_id
    outputs = backend.generate([VlmRequest(r["image"], PROMPT, system=SYSTEM) for r in records])
    matches = 0
    for out, name in zip(outputs, NAMES):
        matches += [(q.text, q.category) for q in parse_queries(out)] == _targets(name)
    assert matches >= 8, outputs


@pytest.mark.slow
def test_vlm_end_to_end_console_data_to_adapter_to_generator(vlm_tiny_model, tmp_path):
    """Search data -> train-data JSONL (the real prompt) -> LoRA -> the vlm generator with the adapter from
    site config reproduces the training targets as candidates (overfit check on the full prompt)."""
    from sitegen.store.db import Store
    from sitegen.ingest.console import ConsoleRow
    from sitegen.learn.traindata import build_training_data, index_items, write_jsonl

    items = []
    rows = []
    for k, (colour, name) in enumerate(zip(COLOURS[:6], NAMES[:6])):
        p = tmp_path / f"e{k}.png"
        Image.new("RGB", (64, 48), colour).save(p)
        items.append(Item(id=f"e{k}", title=name, image=str(p), image_sha=f"e{k}", width=64, height=48,
                          slug=name.replace(" ", "-")))
        for n, (text, _) in enumerate(_targets(name)):
            rows.append(ConsoleRow(text, f"https://example.org/item/{items[-1].slug}/", 10, 2000 - n, 0.1, 3.0))
    train, held, stats = build_training_data(rows, index_items(items), holdout=0.0, sample_size=7)
    assert stats["images"] == 6 and not held
    write_jsonl(train, tmp_path / "train.jsonl")
    result = train_lora(vlm_tiny_model, tmp_path / "train.jsonl", tmp_path / "adapter", epochs=40, lr=5e-3,
                        batch_size=2, grad_accum=1, min_pixels=PIXELS, max_pixels=PIXELS,
                        target_modules=ALL_LINEAR, device="cpu")
    assert result.final_loss < 0.1 * result.initial_loss

    cfg = Config(root=tmp_path)
    cfg.vlm.backend, cfg.vlm.model, cfg.vlm.adapter, cfg.vlm.device = "transformers", str(vlm_tiny_model), "adapter", "cpu"
    cfg.vlm.min_pixels = cfg.vlm.max_pixels = PIXELS
    cfg.vlm.max_new_tokens = 96
    store = Store(tmp_path / "s.duckdb")
    try:
        gen = make_vlm_generator(cfg, store=store, fallback=TitleGenerator())
        out = gen.generate(items)
        expected = {r["item_id"]: json.loads(r["messages"][2]["content"]) for r in train}
        matches = sum([(c.text, c.category) for c in cands if c.source == "vlm"]
                      == [(t["query"], t["category"]) for t in expected[item.id]] for item, cands in zip(items, out))
        assert matches >= 5, gen.raw
        again = make_vlm_generator(cfg, store=store, fallback=TitleGenerator())
        assert again.generate(items) == out and again.stats["cached"] == 6
    finally:
        store.close()
