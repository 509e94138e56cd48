"""Vision-language model representation: the ``vlm`` query generator, its backends, training data, LoRA
fine-tuning and query evaluation. Heavy libraries (torch, transformers, peft, vllm) load inside functions."""
