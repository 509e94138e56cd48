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

    def op(self, kind: str, *inputs: str, hint: str | None = None, **attrs) -> str:
        """A node of ``kind``; returns its one output's name."""
        from onnx import helper

        out = self.name(hint or kind.lower())
        self.nodes.append(helper.make_node(kind, list(inputs), [out], name=out, **attrs))
        return out

    def dense(self, x: str, w: np.ndarray, b: np.ndarray, hint: str) -> str:
        """x @ w.T + b (a torch Linear's layout)."""
        return self.op("Add", self.op("MatMul", x, self.const(np.ascontiguousarray(w.T), f"{hint}.weight"),
                                      hint=f"{hint}.matmul"), self.const(b, f"{hint}.bias"))

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
    # additive attention bias: 0 where attended, a large negative number on padding; [B, 1, 1, T]
    bias = g.op("Unsqueeze", g.op("Mul", g.op("Sub", g.const(np.float32(1.0)), mask), g.const(np.float32(-1e4))),
                g.const(np.array([1, 2], np.int64)))
    split = g.const(np.array([0, 0, heads, head_dim], np.int64), "split_heads")
    merge = g.const(np.array([0, 0, hidden], np.int64), "merge_heads")
    scale = g.const(np.float32(1.0 / np.sqrt(head_dim)), "scale")
    for layer in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{layer}"

        def heads_of(name: str, perm: list[int]) -> str:
            proj = g.dense(x, w[f"{p}.attention.self.{name}.weight"], w[f"{p}.attention.self.{name}.bias"],
                           f"{p}.{name}")
            return g.op("Transpose", g.op("Reshape", proj, split), perm=perm)

        q, k, v = heads_of("query", [0, 2, 1, 3]), heads_of("key", [0, 2, 3, 1]), heads_of("value", [0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge)
        attended = g.dense(context, w[f"{p}.attention.output.dense.weight"], w[f"{p}.attention.output.dense.bias"],
                           f"{p}.attention_out")
        x = g.layer_norm(g.op("Add", attended, x), w, f"{p}.attention.output.LayerNorm", eps)
        inner = g.dense(x, w[f"{p}.intermediate.dense.weight"], w[f"{p}.intermediate.dense.bias"], f"{p}.inner")
        # exact gelu: 0.5 x (1 + erf(x / sqrt 2))
        gelu = g.op("Mul", g.op("Mul", inner, g.const(np.float32(0.5))),
                    g.op("Add", g.op("Erf", g.op("Div", inner, g.const(np.float32(np.sqrt(2.0))))),
                         g.const(np.float32(1.0))))
        ff = g.dense(gelu, w[f"{p}.output.dense.weight"], w[f"{p}.output.dense.bias"], f"{p}.ff_out")
        x = g.layer_norm(g.op("Add", ff, x), w, f"{p}.output.LayerNorm", eps)

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
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="sitegen")
    model.ir_version = 8
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(out)


def quantize(fp32: Path, out: Path) -> None:
    """Dynamic int8: each dense layer's weights quantised per output channel, its input per batch at run time
    (so an int8 vector depends a little on its batch); the attention products and the embeddings stay float."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(fp32))
    dense = [n.name for n in model.graph.node if n.op_type == "MatMul" and ".matmul_" in n.name]
    tmp = out.with_name(out.name + ".tmp")
    quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                     nodes_to_quantize=dense, op_types_to_quantize=["MatMul"],
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    tmp.replace(out)
