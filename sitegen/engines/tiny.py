"""A tiny random Qwen2-VL model folder for tests and demos (no download, a few seconds on a CPU).

``make_tiny_qwen2vl(folder)`` writes a complete Hugging Face model folder: ``config.json`` and
``model.safetensors`` of a ``Qwen2VLForConditionalGeneration`` with very small dimensions and seeded random
weights, a byte-level BPE tokenizer trained with the ``tokenizers`` library on a few dozen query-like
sentences (plus the prompt and JSON punctuation) with Qwen's chat special tokens, the Qwen2-VL chat template,
and the processor configuration (Qwen2-VL image processor with a pixel range). It loads offline with
``Qwen2VLForConditionalGeneration.from_pretrained(folder)`` and ``AutoProcessor.from_pretrained(folder)``
(the latter needs torchvision in transformers 5; ``backends.load_processor`` works without it).

``make_tiny_qwen2_lm(folder)`` writes the text-only counterpart: a ``Qwen2ForCausalLM`` with the same tokenizer
and chat template (the shape of a text LLM folder, e.g. for the LLM judge).
"""

from __future__ import annotations

import json
from pathlib import Path

from sitegen.represent.prompt import SYSTEM_PROMPT, build_prompt

SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
    "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>",
)

# Qwen2-VL's chat template (as shipped with Qwen/Qwen2-VL-*-Instruct)
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: "
    "{% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: "
    "{% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_CORPUS = [
    "red apple on a wooden table", "fresh fruit photography", "healthy snack ideas for kids",
    "sage green monochrome look", "soft green knit dress", "modern office outfits for women",
    "capsule wardrobe must-haves", "minimalist kitchen decor ideas", "vintage botanical poster",
    "watercolor flower clipart", "black and white line art", "cute cartoon cat drawing",
    "classroom decoration ideas", "birthday party decorations", "wedding table centerpiece",
    "cozy living room inspiration", "blue ceramic vase", "rustic farmhouse style", "boho bedroom aesthetic",
    "printable worksheet for kindergarten", "how to draw a dog", "diy gift ideas", "christmas wallpaper",
    "yellow sunflower field", "mountain landscape at sunset", "golden retriever puppy",
    "pastel color palette", "geometric pattern background", "coloring pages for adults",
    "outline of a house", "summer outfit inspiration", "gift for teacher",
    ('[{"query": "red apple", "category": "description"}, {"query": "glossy red look", "category": "style"}, '
     '{"query": "teacher gift ideas", "category": "use_case"}]'),
    '{"queries": ["a", "b"]}, [], {}, "", :, ,',
    "Title: Category: Keywords: Context from the catalog (hints only):",
]


def _corpus() -> list[str]:
    return _CORPUS * 3 + [SYSTEM_PROMPT, build_prompt(None)]


def make_tokenizer(vocab_size: int = 1024):
    """A Qwen2Tokenizer (byte-level BPE trained on the corpus above) with the Qwen chat special tokens."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    pattern = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
               r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_corpus(), trainer)
    return Qwen2Tokenizer(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None,
                          additional_special_tokens=list(SPECIAL_TOKENS[1:]))


def tiny_config(tokenizer, *, hidden: int = 64, layers: int = 2, heads: int = 4, vision_depth: int = 1,
                vision_dim: int = 32):
    from transformers import Qwen2VLConfig

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    head_dim = hidden // heads
    half = head_dim // 2  # M-RoPE sections (temporal, height, width) split half the head dim
    section = [half - 2 * (half // 3), half // 3, half // 3]
    return Qwen2VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
            num_attention_heads=heads, num_key_value_heads=max(1, heads // 2), max_position_embeddings=4096,
            rope_parameters={"rope_type": "default", "mrope_section": section, "rope_theta": 10000.0},
            bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"]),
        vision_config=dict(depth=vision_depth, embed_dim=vision_dim, hidden_size=hidden, num_heads=2, mlp_ratio=2,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, in_channels=3),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )


def make_tiny_qwen2vl(folder: Path, *, seed: int = 0, min_pixels: int = 56 * 56,
                      max_pixels: int = 28 * 28 * 256) -> Path:
    """Write the tiny model folder (created if needed) and return it."""
    import torch
    from transformers import Qwen2VLForConditionalGeneration, Qwen2VLImageProcessorPil

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = make_tokenizer()
    config = tiny_config(tokenizer)
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration(config)
    with torch.no_grad():
        # a wider output layer (std 0.25 instead of 0.02): with the default, logits stay within about +-1 and
        # no adapter on the attention layers can make the random model confident enough to overfit a target
        model.lm_head.weight.normal_(0.0, 0.25, generator=torch.Generator().manual_seed(seed + 1))
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = config.text_config.pad_token_id
    model.save_pretrained(folder)

    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    image_processor = Qwen2VLImageProcessorPil(min_pixels=min_pixels, max_pixels=max_pixels)
    image_processor.save_pretrained(folder)  # preprocessor_config.json (what AutoImageProcessor reads)
    (folder / "chat_template.jinja").write_text(CHAT_TEMPLATE, encoding="utf-8")
    image_cfg = json.loads((folder / "preprocessor_config.json").read_text(encoding="utf-8"))
    image_cfg["processor_class"] = "Qwen2VLProcessor"
    (folder / "preprocessor_config.json").write_text(json.dumps(image_cfg, indent=2), encoding="utf-8")
    video_cfg = {k: image_cfg[k] for k in ("do_convert_rgb", "do_normalize", "do_rescale", "do_resize", "image_mean",
                                           "image_std", "merge_size", "patch_size", "resample", "rescale_factor",
                                           "size", "temporal_patch_size") if k in image_cfg}
    video_cfg.update(video_processor_type="Qwen2VLVideoProcessor", processor_class="Qwen2VLProcessor")
    (folder / "video_preprocessor_config.json").write_text(json.dumps(video_cfg, indent=2), encoding="utf-8")
    (folder / "processor_config.json").write_text(json.dumps({"processor_class": "Qwen2VLProcessor"}, indent=2),
                                                  encoding="utf-8")
    tok_cfg_path = folder / "tokenizer_config.json"
    tok_cfg = json.loads(tok_cfg_path.read_text(encoding="utf-8"))
    tok_cfg["processor_class"] = "Qwen2VLProcessor"
    tok_cfg_path.write_text(json.dumps(tok_cfg, indent=2), encoding="utf-8")
    return folder


def make_tiny_qwen2_lm(folder: Path, *, seed: int = 0, hidden: int = 64, layers: int = 2, heads: int = 4) -> Path:
    """Write a tiny random text-only Qwen2 causal LM folder (created if needed) and return it."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = make_tokenizer()
    eos, pad = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
                         max_position_embeddings=4096, bos_token_id=pad, eos_token_id=eos, pad_token_id=pad,
                         tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    with torch.no_grad():  # the same wider output layer as the VLM's
        model.lm_head.weight.normal_(0.0, 0.25, generator=torch.Generator().manual_seed(seed + 1))
    model.generation_config.eos_token_id = eos
    model.generation_config.pad_token_id = pad
    model.save_pretrained(folder)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    return folder
