"""LoRA supervised fine-tuning of a Qwen2-VL model folder on chat-format JSONL (from ``traindata.py``).

The paper's recipe is the default: batch 2 per device, gradient accumulation 8, learning rate 2e-5 with a
cosine schedule after a short warmup, 1-3 epochs (default 2), images at most 602,112 pixels, 1,024 tokens, and
the loss only on the response: every label is -100 except the assistant's answer and its ``<|im_end|>``
(the system prompt, the user prompt, the image tokens and padding are all masked).

A plain torch loop (no ``Trainer``); CPU (float32) or CUDA (bfloat16 where supported). The adapter is saved
with peft's ``save_pretrained`` in ``out_dir``, which the transformers backend loads as ``vlm.adapter``.
"""

from __future__ import annotations

import json
import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sitegen.core.errors import ModelError
from sitegen.represent.prompt import DEFAULT_MIN_PIXELS, load_image

TrainProgress = Callable[[int, int, float], None]  # (optimizer step, total steps, loss of that step)


@dataclass
class TrainResult:
    losses: list[float]  # mean training loss of every optimizer step
    initial_loss: float  # mean loss over (up to eval_examples) training examples before training
    final_loss: float  # the same examples after training
    adapter_dir: str
    steps: int = 0
    examples: int = 0
    skipped: int = 0  # examples longer than max_length before the answer, or with an unreadable image
    seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)


def read_jsonl(path: str | Path) -> list[dict]:
    records = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except ValueError as exc:
                    raise ModelError(f"{path}:{n}: not valid JSON: {exc}") from exc
    return records


def _answer_text(record: dict) -> str:
    messages = record.get("messages") or []
    if not messages or messages[-1].get("role") != "assistant":
        raise ValueError("the last message must be the assistant's answer")
    content = messages[-1]["content"]
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def encode_example(processor: Any, record: dict, *, max_length: int = 1024, min_pixels: int = DEFAULT_MIN_PIXELS,
                   max_pixels: int = 602_112, base_dir: str | Path | None = None) -> dict[str, Any] | None:
    """Token ids, labels and image tensors of one chat record; None when the prompt alone does not fit in
    ``max_length``. The prompt (everything up to and including ``<|im_start|>assistant\\n``) comes from the
    processor's chat template with the image tokens expanded; the answer is tokenized separately and ends with
    ``<|im_end|>``, so the label mask is exact: -100 on the prompt, the ids on the answer."""
    import torch

    tokenizer = processor.tokenizer
    image_path = Path(record["image"])
    if not image_path.is_absolute() and base_dir is not None:
        image_path = Path(base_dir) / image_path
    image = load_image(image_path, min_pixels=min_pixels, max_pixels=max_pixels)
    messages = record["messages"][:-1]
    prompt = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    enc = processor(text=[prompt], images=[image], return_tensors="pt")
    prompt_ids = enc["input_ids"][0]
    end_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if end_id is None or end_id == tokenizer.unk_token_id:
        end_id = tokenizer.eos_token_id
    answer_ids = torch.tensor(tokenizer(_answer_text(record), add_special_tokens=False)["input_ids"] + [end_id],
                              dtype=prompt_ids.dtype)
    if len(prompt_ids) >= max_length:
        return None
    answer_ids = answer_ids[: max_length - len(prompt_ids)]
    input_ids = torch.cat([prompt_ids, answer_ids])
    labels = torch.cat([torch.full_like(prompt_ids, -100), answer_ids])
    out: dict[str, Any] = {"input_ids": input_ids, "labels": labels,
                           "attention_mask": torch.ones_like(input_ids)}
    if "mm_token_type_ids" in enc:
        out["mm_token_type_ids"] = torch.cat([enc["mm_token_type_ids"][0], torch.zeros_like(answer_ids)])
    for key in ("pixel_values", "image_grid_thw"):
        if key in enc:
            out[key] = enc[key]
    return out


def collate(examples: Sequence[dict[str, Any]], pad_id: int) -> dict[str, Any]:
    """Right-pad token tensors (labels with -100, masks with 0); concatenate image tensors."""
    import torch

    width = max(len(e["input_ids"]) for e in examples)

    def pad(key: str, value: int) -> Any:
        rows = []
        for e in examples:
            t = e[key]
            rows.append(torch.cat([t, torch.full((width - len(t),), value, dtype=t.dtype)]))
        return torch.stack(rows)

    batch: dict[str, Any] = {"input_ids": pad("input_ids", pad_id), "labels": pad("labels", -100),
                             "attention_mask": pad("attention_mask", 0)}
    if all("mm_token_type_ids" in e for e in examples):
        batch["mm_token_type_ids"] = pad("mm_token_type_ids", 0)
    for key in ("pixel_values", "image_grid_thw"):
        if all(key in e for e in examples):
            batch[key] = torch.cat([e[key] for e in examples])
    return batch


def cosine_with_warmup(step: int, total: int, warmup: int) -> float:
    """Learning-rate multiplier of optimizer step ``step`` (0-based): linear warmup, then cosine to zero."""
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def train_lora(model_dir: str | Path, train_jsonl: str | Path, out_dir: str | Path, *, epochs: int = 2,
               lr: float = 2e-5, batch_size: int = 2, grad_accum: int = 8, max_length: int = 1024,
               max_pixels: int = 602_112, min_pixels: int = DEFAULT_MIN_PIXELS, lora_r: int = 16,
               lora_alpha: int = 32, lora_dropout: float = 0.05,
               target_modules: Sequence[str] = ("q_proj", "k_proj", "v_proj", "o_proj"),
               warmup_ratio: float = 0.05, weight_decay: float = 0.0, max_grad_norm: float = 1.0, seed: int = 0,
               device: str = "auto", gradient_checkpointing: bool = False, eval_examples: int = 64,
               progress: TrainProgress | None = None) -> TrainResult:
    """Fine-tune a LoRA adapter on ``train_jsonl`` and save it in ``out_dir``. The paper trains 1-3 epochs;
    any ``epochs >= 1`` is accepted (small overfitting runs need more)."""
    import torch
    from peft import LoraConfig, get_peft_model

    from sitegen.engines.vlm import load_model, load_processor

    started = time.monotonic()
    if epochs < 1 or batch_size < 1 or grad_accum < 1:
        raise ValueError("epochs, batch_size and grad_accum must be >= 1")
    train_jsonl = Path(train_jsonl)
    records = read_jsonl(train_jsonl)
    if not records:
        raise ModelError(f"{train_jsonl}: no training examples")
    base_dir = train_jsonl.parent
    settings = dict(epochs=epochs, lr=lr, batch_size=batch_size, grad_accum=grad_accum, max_length=max_length,
                    min_pixels=min_pixels, max_pixels=max_pixels, lora_r=lora_r, lora_alpha=lora_alpha,
                    lora_dropout=lora_dropout, target_modules=list(target_modules), warmup_ratio=warmup_ratio,
                    seed=seed, base_model=str(model_dir))

    random.seed(seed)
    torch.manual_seed(seed)
    processor = load_processor(model_dir, min_pixels=min_pixels, max_pixels=max_pixels)
    model, dev = load_model(model_dir, device=device)
    use_bf16 = dev == "cuda" and next(model.parameters()).dtype == torch.bfloat16
    lora_cfg = LoraConfig(r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout,
                          target_modules=list(target_modules), bias="none", task_type="CAUSAL_LM")
    with warnings.catch_warnings():  # a transformers deprecation notice peft triggers
        warnings.simplefilter("ignore", FutureWarning)
        model = get_peft_model(model, lora_cfg)
    if gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    pad_id = processor.tokenizer.pad_token_id
    pad_id = pad_id if pad_id is not None else processor.tokenizer.eos_token_id

    skipped: set[int] = set()

    def encode(i: int) -> dict[str, Any] | None:
        if i in skipped:
            return None
        try:
            ex = encode_example(processor, records[i], max_length=max_length, min_pixels=min_pixels,
                                max_pixels=max_pixels, base_dir=base_dir)
        except (OSError, ValueError, KeyError):  # unreadable image or malformed record: skip it
            ex = None
        if ex is None:
            skipped.add(i)
        return ex

    def run(batch: dict[str, Any]) -> Any:
        batch = {k: v.to(dev) for k, v in batch.items()}
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_bf16):
            return model(**batch).loss

    def eval_loss(indices: list[int]) -> float:
        model.eval()
        total, weight = 0.0, 0
        with torch.no_grad():
            for i in indices:
                ex = encode(i)
                if ex is None:
                    continue
                n = int((ex["labels"] != -100).sum())
                total += float(run(collate([ex], pad_id))) * n
                weight += n
        model.train()
        return total / weight if weight else float("nan")

    order = list(range(len(records)))
    eval_indices = order[: max(1, eval_examples)]
    initial = eval_loss(eval_indices)

    micro_per_epoch = math.ceil(len(records) / batch_size)
    steps_per_epoch = math.ceil(micro_per_epoch / grad_accum)
    total_steps = steps_per_epoch * epochs
    warmup = round(warmup_ratio * total_steps)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: cosine_with_warmup(s, total_steps, warmup))
    rng = random.Random(seed)
    losses: list[float] = []
    model.train()
    step = 0
    for _epoch in range(epochs):
        rng.shuffle(order)
        micro = [order[k: k + batch_size] for k in range(0, len(order), batch_size)]
        for g in range(0, len(micro), grad_accum):
            group = micro[g: g + grad_accum]
            batches = []
            for idx in group:
                exs = [e for e in (encode(i) for i in idx) if e is not None]
                if exs:
                    batches.append(collate(exs, pad_id))
            optimizer.zero_grad(set_to_none=True)
            step_loss = 0.0
            for batch in batches:
                loss = run(batch) / len(batches)
                loss.backward()
                step_loss += float(loss.detach())
            if batches:
                torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
                optimizer.step()
            scheduler.step()
            step += 1
            losses.append(step_loss)
            if progress:
                progress(step, total_steps, step_loss)

    final = eval_loss(eval_indices)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    result = TrainResult(losses=losses, initial_loss=initial, final_loss=final, adapter_dir=str(out), steps=step,
                         examples=len(records) - len(skipped), skipped=len(skipped),
                         seconds=round(time.monotonic() - started, 2), settings=settings)
    (out / "sitegen_train.json").write_text(json.dumps(asdict(result), indent=2), encoding="utf-8")
    return result
