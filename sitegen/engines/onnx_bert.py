"""A BERT sentence encoder as an ONNX graph, written from the model folder's own weights (no export tool, no
torch, no download), and its int8 variant.

``build_graph`` reads ``config.json`` and ``model.safetensors`` of a BERT-family encoder (all-MiniLM-L6-v2 and
its kin) and writes the forward pass with standard ONNX operators: embeddings, ``num_hidden_layers`` of
self-attention and feed-forward blocks, and the sentence-transformers mean pooling over the attention mask. Its
output equals the sentence-transformers model's to float rounding (tests/test_onnx_embed.py). ``quantize``
makes the dynamic int8 variant (ONNX Runtime's per-channel weight quantisation of the dense layers; the
attention products stay float). ``supported`` says whether a folder can take this path at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

OPSET = 17  # LayerNormalization
_MS = "com.microsoft"  # ONNX Runtime's fused transformer operators
_WEIGHTS = "model.safetensors"


class UnsupportedModel(Exception):
    """The folder's model is not a BERT encoder with mean pooling; use the sentence-transformers path."""


def supported(folder: Path) -> str | None:
    """None when ``folder`` can be written as an ONNX graph here, else why not (one line)."""
    try:
        _read_layout(folder)
    except UnsupportedModel as exc:
        return str(exc)
    return None


def _read_layout(folder: Path) -> tuple[dict, int]:
    """(the encoder's config, max_seq_length) of a sentence-transformers folder this module can write."""
    def read(name: str) -> dict | list:
        try:
            return json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UnsupportedModel(f"{folder / name} is missing or unreadable") from exc

    modules = read("modules.json")
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        raise UnsupportedModel(f"modules {kinds}: only Transformer + Pooling (+ Normalize) is written as ONNX")
    pooling = read(f"{modules[1].get('path') or '1_Pooling'}/config.json")
    mode = pooling.get("pooling_mode")  # sentence-transformers >= 6: "mean" or ["mean"]; before: flags
    modes = [mode] if isinstance(mode, str) else mode if isinstance(mode, list) else [
        k[len("pooling_mode_"):] for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True]
    if modes not in (["mean_tokens"], ["mean"]) or pooling.get("include_prompt", True) is not True:
        raise UnsupportedModel(f"pooling {modes}: only mean pooling is written as ONNX")
    config = read("config.json")
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu" \
            or config.get("position_embedding_type", "absolute") != "absolute":
        raise UnsupportedModel("only BERT encoders with gelu and absolute positions are written as ONNX")
    if not (folder / _WEIGHTS).is_file():
        raise UnsupportedModel(f"{folder / _WEIGHTS} is missing")
    st = folder / "sentence_bert_config.json"
    max_len = int(json.loads(st.read_text(encoding="utf-8")).get("max_seq_length", 512)) if st.is_file() else 512
    return config, min(max_len, int(config.get("max_position_embeddings", 512)))


def max_length(folder: Path) -> int:
    return _read_layout(folder)[1]


def _weights(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    raw = load_file(str(folder / _WEIGHTS))
    # BertModel checkpoints name tensors "embeddings.…", BertFor…-style ones "bert.embeddings.…"
    return {k[len("bert."):] if k.startswith("bert.") else k: v.astype(np.float32) for k, v in raw.items()}


class _Graph:
    """A tiny builder over onnx.helper: nodes, initialisers and fresh names."""

    def __init__(self):
        self.nodes: list = []
        self.inits: list = []
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, value, hint: str = "c") -> str:
        from onnx import numpy_helper

        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, kind: str, *inputs: str, hint: str | None = None, domain: str = "", **attrs) -> str:
        from onnx import helper

        out = self.name(hint or kind.lower())
        self.nodes.append(helper.make_node(kind, list(inputs), [out], name=out, domain=domain or None, **attrs))
        return out

    def dense(self, x: str, w: np.ndarray, b: np.ndarray, hint: str) -> str:
        """x @ w.T + b (a torch Linear's layout)."""
        return self.op("Add", self.op("MatMul", x, self.const(np.ascontiguousarray(w.T), f"{hint}.weight"),
                                      hint=f"{hint}.matmul"), self.const(b, f"{hint}.bias"))

    def skip_norm(self, x: str, skip: str, w: dict, prefix: str, eps: float) -> str:
        """LayerNorm(x + dense bias + skip), ONNX Runtime's fused SkipLayerNormalization."""
        return self.op("SkipLayerNormalization", x, skip, self.const(w[f"{prefix}.LayerNorm.weight"]),
                       self.const(w[f"{prefix}.LayerNorm.bias"]), self.const(w[f"{prefix}.dense.bias"]),
                       domain=_MS, epsilon=eps)

    def layer_norm(self, x: str, w: dict, prefix: str, eps: float) -> str:
        return self.op("LayerNormalization", x, self.const(w[f"{prefix}.weight"]), self.const(w[f"{prefix}.bias"]),
                       axis=-1, epsilon=eps)


def build_graph(folder: Path, out: Path) -> None:
    """Write ``folder``'s encoder + mean pooling as ONNX to ``out`` (inputs input_ids, attention_mask: int64
    [batch, tokens]; output sentence_embedding: float32 [batch, hidden], not normalised)."""
    import onnx
    from onnx import TensorProto, helper

    config, _ = _read_layout(folder)
    w = _weights(folder)
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    head_dim, eps = hidden // heads, float(config.get("layer_norm_eps", 1e-12))
    g = _Graph()

    # embeddings: word + position + token type 0, then LayerNorm
    words = g.op("Gather", g.const(w["embeddings.word_embeddings.weight"], "word_embeddings"), "input_ids")
    tokens = g.op("Gather", g.op("Shape", "input_ids"), g.const(np.int64(1)))
    positions = g.op("Range", g.const(np.int64(0)), tokens, g.const(np.int64(1)))
    pos = g.op("Gather", g.const(w["embeddings.position_embeddings.weight"], "position_embeddings"), positions)
    kind = g.const(w["embeddings.token_type_embeddings.weight"][0], "token_type_embedding")
    x = g.layer_norm(g.op("Add", g.op("Add", words, pos), kind), w, "embeddings.LayerNorm", eps)

    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)  # [B, T]
    mask_index = g.op("Cast", "attention_mask", to=TensorProto.INT32)
    for layer in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{layer}"
        a = f"{p}.attention.self"
        qkv_w = np.concatenate([w[f"{a}.{n}.weight"].T for n in ("query", "key", "value")], axis=1)
        qkv_b = np.concatenate([w[f"{a}.{n}.bias"] for n in ("query", "key", "value")])
        attended = g.op("Attention", x, g.const(np.ascontiguousarray(qkv_w), f"{p}.qkv.weight"),
                        g.const(qkv_b, f"{p}.qkv.bias"), mask_index, domain=_MS, num_heads=heads,
                        hint=f"{p}.attention")
        attended = g.op("MatMul", attended, g.const(np.ascontiguousarray(w[f"{p}.attention.output.dense.weight"].T)),
                        hint=f"{p}.attention_out.matmul")
        x = g.skip_norm(attended, x, w, f"{p}.attention.output", eps)
        inner = g.op("MatMul", x, g.const(np.ascontiguousarray(w[f"{p}.intermediate.dense.weight"].T)),
                     hint=f"{p}.inner.matmul")
        gelu = g.op("BiasGelu", inner, g.const(w[f"{p}.intermediate.dense.bias"]), domain=_MS)
        ff = g.op("MatMul", gelu, g.const(np.ascontiguousarray(w[f"{p}.output.dense.weight"].T)),
                  hint=f"{p}.ff_out.matmul")
        x = g.skip_norm(ff, x, w, f"{p}.output", eps)

    # mean pooling over attended tokens
    weights = g.op("Unsqueeze", mask, g.const(np.array([2], np.int64)))  # [B, T, 1]
    summed = g.op("ReduceSum", g.op("Mul", x, weights), g.const(np.array([1], np.int64)), keepdims=0)
    count = g.op("Max", g.op("ReduceSum", weights, g.const(np.array([1], np.int64)), keepdims=0),
                 g.const(np.float32(1e-9)))
    g.nodes.append(helper.make_node("Div", [summed, count], ["sentence_embedding"], name="pool"))

    graph = helper.make_graph(
        g.nodes, "sentence_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                          helper.make_opsetid(_MS, 1)], producer_name="sitegen")
    model.ir_version = 8
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(out)


def quantize(fp32: Path, out: Path) -> None:
    """Dynamic int8: each dense layer's weights quantised per output channel, activations at run time; the
    attention products (two activations) and the embeddings stay float."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(fp32))
    dense = [n.name for n in model.graph.node if n.op_type == "MatMul" and ".matmul_" in n.name]
    tmp = out.with_name(out.name + ".tmp")
    quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                     nodes_to_quantize=dense, op_types_to_quantize=["MatMul"],
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    tmp.replace(out)
