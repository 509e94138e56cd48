"""A tiny random BERT folder for tests and demos (no download; well under a second on a CPU).

``make_tiny_bert(folder)`` writes what the packaged all-MiniLM-L6-v2 folder holds for transformers: a
``config.json`` and ``model.safetensors`` of a ``BertModel`` with very small dimensions and seeded random
weights, and a lowercasing WordPiece tokenizer trained with the ``tokenizers`` library on a few dozen
query-like sentences, with BERT's special tokens and its pair template (``[CLS] a [SEP] b [SEP]``). It loads
offline with ``AutoModel`` / ``AutoModelForSequenceClassification`` and ``AutoTokenizer``.
"""

from __future__ import annotations

from pathlib import Path

_CORPUS = [
    "red apple on a wooden table", "fresh fruit photography", "healthy snack ideas for kids",
    "green knit dress for women", "black leather shoes for men", "modern office outfits", "blue denim jacket",
    "watercolor flower clipart", "black and white line art", "cute cartoon cat drawing", "golden retriever puppy",
    "birthday party decorations", "wedding table centerpiece", "blue ceramic vase", "rustic farmhouse kitchen",
    "printable worksheet for kindergarten", "how to draw a dog", "christmas tree ornaments", "hot dog with mustard",
    "yellow sunflower field", "mountain landscape at sunset", "coloring pages for adults", "running shoes",
    "stainless steel water bottle", "wireless headphones with microphone", "polarized sunglasses", "leather wallet",
    "apple", "dog", "cat", "shoes", "dress", "flower", "party", "clipart", "bottle", "headphones", "sunglasses",
    "0 1 2 3 4 5 6 7 8 9 . , - ' & ( ) ! ? : ; / \" #",
]
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def make_tokenizer(vocab_size: int = 400):
    """A BertTokenizerFast (lowercasing WordPiece trained on the corpus above)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                        show_progress=False)
    tok.train_from_iterator(_CORPUS * 3, trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    return BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                             cls_token="[CLS]", mask_token="[MASK]", do_lower_case=True)


def make_tiny_bert(folder: Path, *, seed: int = 0, hidden: int = 32, layers: int = 2, heads: int = 2,
                   max_positions: int = 128) -> Path:
    """Write the tiny BERT folder (created if needed) and return it."""
    import torch
    from transformers import BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = make_tokenizer()
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=hidden * 2,
                        max_position_embeddings=max_positions, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        BertModel(config).save_pretrained(folder)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    tokenizer.save_pretrained(folder)
    return folder
