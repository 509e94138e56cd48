"""Trainers and evaluations: VLM fine-tuning data and LoRA, query evaluation, the fashion evaluation."""
