"""VLM backends behind one interface: ``VlmBackend.generate(requests) -> list[str]`` (the raw text out).

The same backends serve text-only requests (``VlmRequest.image`` empty) and, for the local backends, text-only
LLM folders (``is_vision_model`` tells them apart by their ``config.json``): the LLM judge uses them so.

- ``transformers``: a local model folder (Qwen2-VL and other image-text-to-text models), CPU or CUDA, batched
  ``generate`` with the processor's chat template, an optional LoRA adapter folder loaded with peft.
- ``vllm``: vLLM's offline ``LLM`` engine (optional extra ``pip install 'sitegen[vllm]'``).
- ``openai``: any OpenAI-compatible chat-completions server (``vllm serve``, llama.cpp, a hosted API), through
  urllib; images go as base64 data URLs; a thread pool, retries with exponential backoff, a timeout.

A failure that concerns one request (an unreadable image, a server error after every retry) is reported in
that request's :class:`VlmResult` ``error``; the caller falls back for that item. A failure of the whole
backend (model folder missing, vLLM not installed, server unreachable, HTTP 4xx) raises :class:`ModelError`.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sitegen.core.config import VlmSection
from sitegen.core.errors import ModelError
from sitegen.engines.fingerprint import local_model_id
from sitegen.represent.prompt import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, SYSTEM_PROMPT, chat_messages, image_data_url, load_image

if TYPE_CHECKING:  # pragma: no cover
    from sitegen.core.config import Config

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True, slots=True)
class VlmRequest:
    image: str  # path of the image file; "" for a text-only request
    prompt: str  # user text
    system: str = SYSTEM_PROMPT
    key: str = ""  # the caller's id (item id), used in error messages


@dataclass(frozen=True, slots=True)
class VlmResult:
    text: str
    error: str = ""  # non-empty when this request failed


@dataclass(frozen=True)
class Decoding:
    """Paper defaults: temperature 0.1, top-p 0.001, top-k 1, repetition penalty 1.05, 256 new tokens."""

    temperature: float = VlmSection.temperature  # the defaults are the config's (DESIGN: the paper's)
    top_p: float = VlmSection.top_p
    top_k: int = VlmSection.top_k
    repetition_penalty: float = VlmSection.repetition_penalty
    max_new_tokens: int = 256

    @property
    def greedy(self) -> bool:
        """top-k 1 (or temperature 0) always picks the most likely token: sampling is greedy decoding."""
        return self.top_k == 1 or self.temperature <= 0.0


class VlmBackend(ABC):
    name: str = "base"
    model_id: str = ""  # identifies model weights + adapter for cache keys
    vision: bool = True  # the model reads images (False for a local text-only LLM folder)

    def generate(self, requests: list[VlmRequest]) -> list[str]:
        """Raw model text per request ('' for a request that failed)."""
        return [r.text for r in self.generate_detailed(requests)]

    @abstractmethod
    def generate_detailed(self, requests: list[VlmRequest]) -> list[VlmResult]:
        """One result per request, in order; per-request failures in ``VlmResult.error``."""

    def close(self) -> None:
        return None


def _pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelError("vlm.device is 'cuda' but no CUDA device is available")
    return device


# -- transformers ----------------------------------------------------------------------------------------
_VISION_KEYS = ("vision_config", "visual", "vision_tower", "mm_vision_tower", "img_processor")


def is_vision_model(model_dir: str | Path) -> bool:
    """True when a local model folder holds a vision-language model: its ``config.json`` has a vision part
    (``vision_config`` and the like). A folder without a readable config counts as one (loading then reports
    what is wrong)."""
    try:
        config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    return not isinstance(config, dict) or any(k in config for k in _VISION_KEYS)


def load_processor(model_dir: str | Path, *, min_pixels: int | None = None, max_pixels: int | None = None) -> Any:
    """The model folder's processor. Uses ``AutoProcessor``; when that cannot load (transformers 5 needs
    torchvision for the Qwen2-VL *video* processor), builds an image-only Qwen2-VL processor from the folder's
    tokenizer, image processor and chat template. The image processor's pixel range is set when given."""
    from transformers import AutoProcessor

    try:
        processor = AutoProcessor.from_pretrained(str(model_dir))
    except (ImportError, OSError, ValueError, AttributeError, TypeError) as exc:
        processor = _image_only_processor(model_dir, exc)
    if min_pixels is not None and max_pixels is not None:
        ip = getattr(processor, "image_processor", None)
        if ip is not None:
            ip.size = {"shortest_edge": min_pixels, "longest_edge": max_pixels}
            for name, value in (("min_pixels", min_pixels), ("max_pixels", max_pixels)):
                if getattr(ip, name, None) is not None:
                    setattr(ip, name, value)
    return processor


def _image_only_processor(model_dir: str | Path, cause: Exception) -> Any:
    from transformers import AutoImageProcessor, AutoTokenizer, Qwen2VLProcessor
    from transformers.processing_utils import ProcessorMixin

    class ImageOnlyQwen2VLProcessor(Qwen2VLProcessor):
        """Qwen2VLProcessor without the video processor (which needs torchvision)."""

        def __init__(self, image_processor: Any = None, tokenizer: Any = None, chat_template: Any = None, **kw: Any):
            self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
            self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        image_processor = AutoImageProcessor.from_pretrained(str(model_dir))
    except Exception as exc:
        raise ModelError(f"cannot load the processor of {model_dir}: {cause}; {exc}") from exc
    template = getattr(tokenizer, "chat_template", None)
    for name in ("chat_template.jinja", "chat_template.json"):
        f = Path(model_dir) / name
        if f.is_file():
            text = f.read_text(encoding="utf-8")
            template = json.loads(text)["chat_template"] if name.endswith(".json") else text
            break
    return ImageOnlyQwen2VLProcessor(image_processor=image_processor, tokenizer=tokenizer, chat_template=template)


def load_model(model_dir: str | Path, *, device: str = "auto", adapter: str | Path | None = None,
               dtype: str = "auto", vision: bool = True) -> tuple[Any, str]:
    """(model in eval mode, device). bfloat16 on a CUDA device that supports it, float32 otherwise. A
    text-only folder (``vision=False``) loads as a causal LM."""
    import torch

    dev = _pick_device(device)
    if dtype == "auto":
        torch_dtype = torch.bfloat16 if dev == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    else:
        torch_dtype = getattr(torch, dtype)
    try:
        from transformers import AutoModelForCausalLM, AutoModelForImageTextToText

        auto = AutoModelForImageTextToText if vision else AutoModelForCausalLM
        model = auto.from_pretrained(str(model_dir), dtype=torch_dtype)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the {'VLM' if vision else 'LLM'} from {model_dir}: {exc}") from exc
    if adapter:
        if not Path(adapter).is_dir():
            raise ModelError(f"vlm.adapter: LoRA adapter folder not found: {adapter}")
        import warnings

        from peft import PeftModel

        with warnings.catch_warnings():  # a transformers deprecation notice peft triggers
            warnings.simplefilter("ignore", FutureWarning)
            model = PeftModel.from_pretrained(model, str(adapter))
        model = model.merge_and_unload()
    model.to(dev)
    model.eval()
    return model, dev


class TransformersBackend(VlmBackend):
    name = "transformers"

    def __init__(self, model_dir: str | Path, *, adapter: str | Path | None = None, device: str = "auto",
                 batch_size: int = 8, decoding: Decoding = Decoding(), min_pixels: int = DEFAULT_MIN_PIXELS,
                 max_pixels: int = DEFAULT_MAX_PIXELS, progress: Progress | None = None):
        self.model_dir = Path(model_dir)
        if not self.model_dir.is_dir():
            raise ModelError(f"vlm.model: model folder not found: {self.model_dir}")
        self.adapter = Path(adapter) if adapter else None
        self.device = device
        self.batch_size = max(1, batch_size)
        self.decoding = decoding
        self.min_pixels, self.max_pixels = min_pixels, max_pixels
        self.progress = progress
        self.model_id = local_model_id("transformers", self.model_dir, self.adapter)
        self.vision = is_vision_model(self.model_dir)
        self._model: Any = None
        self._processor: Any = None  # the processor of a VLM, the tokenizer of a text-only LLM
        self._tokenizer: Any = None
        self._device = "cpu"

    def _load(self) -> None:
        if self._model is None:
            if self.vision:
                self._processor = load_processor(self.model_dir, min_pixels=self.min_pixels,
                                                 max_pixels=self.max_pixels)
                self._tokenizer = self._processor.tokenizer
            else:
                self._processor = self._tokenizer = load_tokenizer(self.model_dir)
            self._tokenizer.padding_side = "left"
            self._model, self._device = load_model(self.model_dir, device=self.device, adapter=self.adapter,
                                                   vision=self.vision)

    def generation_kwargs(self) -> dict[str, Any]:
        d = self.decoding
        tok = self._tokenizer
        kwargs: dict[str, Any] = {"max_new_tokens": d.max_new_tokens, "repetition_penalty": d.repetition_penalty}
        if d.greedy:
            # temperature 0.1 with top-k 1 keeps only the most likely token: that is greedy decoding, and
            # do_sample=False gives the same tokens deterministically (and without sampling warnings).
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=d.temperature, top_p=d.top_p, top_k=d.top_k)
        if tok is not None and tok.pad_token_id is not None:
            kwargs["pad_token_id"] = tok.pad_token_id
        return kwargs

    def generate_detailed(self, requests: list[VlmRequest]) -> list[VlmResult]:
        import torch

        self._load()
        results: list[VlmResult] = [VlmResult("", "not run")] * len(requests)
        done = 0
        for start in range(0, len(requests), self.batch_size):
            chunk = list(enumerate(requests[start: start + self.batch_size], start))
            texts, images, idx = [], [], []
            for i, req in chunk:
                if req.image:
                    if not self.vision:
                        results[i] = VlmResult("", f"{self.model_dir.name} is a text-only model: it cannot read "
                                                   f"the image {req.image}")
                        continue
                    try:
                        images.append(load_image(req.image, min_pixels=self.min_pixels, max_pixels=self.max_pixels))
                    except Exception as exc:  # noqa: BLE001 - a bad image fails only its own request
                        results[i] = VlmResult("", f"image {req.image}: {exc}")
                        continue
                messages = chat_messages(req.prompt, system=req.system, image=bool(req.image))
                texts.append(self._processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
                idx.append(i)
            if idx:
                if self.vision:
                    inputs = self._processor(text=texts, images=images or None, padding=True, return_tensors="pt")
                else:
                    inputs = self._tokenizer(texts, padding=True, return_tensors="pt", add_special_tokens=False)
                inputs = {k: v.to(self._device) if hasattr(v, "to") else v for k, v in inputs.items()}
                with torch.inference_mode():
                    out = self._model.generate(**inputs, **self.generation_kwargs())
                new_tokens = out[:, inputs["input_ids"].shape[1]:]
                decoded = self._tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
                for i, text in zip(idx, decoded):
                    results[i] = VlmResult(text.strip())
            done += len(chunk)
            if self.progress:
                self.progress(done, len(requests))
        return results

    def close(self) -> None:
        self._model = None
        self._processor = self._tokenizer = None


def load_tokenizer(model_dir: str | Path) -> Any:
    """The tokenizer (with its chat template) of a text-only model folder."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(model_dir))
    except Exception as exc:
        raise ModelError(f"cannot load the tokenizer of {model_dir}: {exc}") from exc


# -- vLLM ------------------------------------------------------------------------------------------------
class VllmBackend(VlmBackend):
    name = "vllm"

    def __init__(self, model_dir: str | Path, *, adapter: str | Path | None = None, decoding: Decoding = Decoding(),
                 min_pixels: int = DEFAULT_MIN_PIXELS, max_pixels: int = DEFAULT_MAX_PIXELS,
                 max_model_len: int = 4096, seed: int = 0, progress: Progress | None = None):
        self.model_dir = Path(model_dir)
        self.adapter = Path(adapter) if adapter else None
        self.decoding = decoding
        self.min_pixels, self.max_pixels = min_pixels, max_pixels
        self.max_model_len, self.seed = max_model_len, seed
        self.progress = progress
        self.model_id = local_model_id("vllm", self.model_dir, self.adapter)
        self.vision = is_vision_model(self.model_dir)
        self._llm: Any = None
        self._processor: Any = None
        self._vllm: Any = None

    def _load(self) -> None:
        if self._llm is not None:
            return
        try:
            import vllm
        except ImportError as exc:
            raise ModelError("the vllm backend needs vLLM, which is not installed: pip install 'sitegen[vllm]'") from exc
        if not self.model_dir.is_dir():
            raise ModelError(f"vlm.model: model folder not found: {self.model_dir}")
        self._vllm = vllm
        kwargs: dict[str, Any] = dict(model=str(self.model_dir), max_model_len=self.max_model_len, seed=self.seed)
        if self.vision:
            kwargs.update(limit_mm_per_prompt={"image": 1},
                          mm_processor_kwargs={"min_pixels": self.min_pixels, "max_pixels": self.max_pixels})
        if self.adapter:
            kwargs.update(enable_lora=True, max_lora_rank=_adapter_rank(self.adapter))
        try:
            self._llm = vllm.LLM(**kwargs)
        except Exception as exc:
            raise ModelError(f"vLLM could not load {self.model_dir}: {exc}") from exc
        self._processor = load_processor(self.model_dir) if self.vision else load_tokenizer(self.model_dir)

    def generate_detailed(self, requests: list[VlmRequest]) -> list[VlmResult]:
        self._load()
        vllm = self._vllm
        d = self.decoding
        params = vllm.SamplingParams(
            temperature=0.0 if d.greedy else d.temperature, top_p=1.0 if d.greedy else d.top_p,
            top_k=-1 if d.greedy else d.top_k, repetition_penalty=d.repetition_penalty,
            max_tokens=d.max_new_tokens, seed=self.seed)
        lora = None
        if self.adapter:
            from vllm.lora.request import LoRARequest

            lora = LoRARequest("sitegen-adapter", 1, str(self.adapter))
        results: list[VlmResult] = [VlmResult("", "not run")] * len(requests)
        prompts, idx = [], []
        for i, req in enumerate(requests):
            prompt: dict[str, Any] = {}
            if req.image:
                if not self.vision:
                    results[i] = VlmResult("", f"{self.model_dir.name} is a text-only model: it cannot read the "
                                               f"image {req.image}")
                    continue
                try:
                    image = load_image(req.image, min_pixels=self.min_pixels, max_pixels=self.max_pixels)
                except Exception as exc:  # noqa: BLE001
                    results[i] = VlmResult("", f"image {req.image}: {exc}")
                    continue
                prompt["multi_modal_data"] = {"image": image}
            prompt["prompt"] = self._processor.apply_chat_template(
                chat_messages(req.prompt, system=req.system, image=bool(req.image)), tokenize=False,
                add_generation_prompt=True)
            prompts.append(prompt)
            idx.append(i)
        if prompts:
            outputs = self._llm.generate(prompts, params, lora_request=lora, use_tqdm=False)
            for i, out in zip(idx, outputs):
                results[i] = VlmResult(out.outputs[0].text.strip() if out.outputs else "")
        if self.progress:
            self.progress(len(requests), len(requests))
        return results

    def close(self) -> None:
        self._llm = None


def _adapter_rank(adapter: Path) -> int:
    try:
        return int(json.loads((adapter / "adapter_config.json").read_text())["r"])
    except (OSError, ValueError, KeyError):
        return 16


# -- OpenAI-compatible -----------------------------------------------------------------------------------
class OpenAIBackend(VlmBackend):
    name = "openai"

    def __init__(self, base_url: str, model: str, *, api_key_env: str = "OPENAI_API_KEY", concurrency: int = 4,
                 retries: int = 2, timeout: float = 60.0, decoding: Decoding = Decoding(),
                 min_pixels: int = DEFAULT_MIN_PIXELS, max_pixels: int = DEFAULT_MAX_PIXELS,
                 image_format: Literal["auto", "png", "jpeg"] = "auto", backoff: float = 0.5,
                 extra_sampling: bool | None = None, progress: Progress | None = None):
        if not base_url:
            raise ModelError("vlm.base_url: the openai backend needs the server URL, e.g. http://127.0.0.1:8001/v1")
        base = base_url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model
        self.api_key = os.environ.get(api_key_env, "") if api_key_env else ""
        self.concurrency = max(1, concurrency)
        self.retries = max(0, retries)
        self.timeout = timeout
        self.decoding = decoding
        self.min_pixels, self.max_pixels = min_pixels, max_pixels
        self.image_format = image_format
        self.backoff = backoff
        host = urllib.parse.urlparse(self.url).hostname or ""
        # top_k / repetition_penalty are vLLM (and most open servers') extensions; api.openai.com rejects them
        self.extra_sampling = extra_sampling if extra_sampling is not None else not host.endswith("openai.com")
        self.progress = progress
        self.model_id = f"openai:{model}@{base}"
        self.calls = 0  # HTTP requests sent (retries included)

    def payload(self, req: VlmRequest) -> dict[str, Any]:
        """The chat-completions body; a text-only request sends the user turn as a plain string (what every
        server, text-only ones included, accepts)."""
        user: str | list[dict[str, Any]] = req.prompt
        if req.image:
            image = load_image(req.image, min_pixels=self.min_pixels, max_pixels=self.max_pixels)
            user = [{"type": "image_url", "image_url": {"url": image_data_url(image, self.image_format)}},
                    {"type": "text", "text": req.prompt}]
        d = self.decoding
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": req.system}, {"role": "user", "content": user}],
            "temperature": d.temperature, "top_p": d.top_p, "max_tokens": d.max_new_tokens,
        }
        if self.extra_sampling:
            body.update(top_k=d.top_k, repetition_penalty=d.repetition_penalty)
        return body

    def _post(self, body: dict[str, Any]) -> str:
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            self.calls += 1
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                    reply = json.loads(resp.read().decode("utf-8"))
                return _message_text(reply)
            except urllib.error.HTTPError as exc:
                detail = _http_detail(exc)
                if exc.code in (408, 409, 425, 429) or exc.code >= 500:
                    last = f"HTTP {exc.code} {detail}"
                    continue
                raise ModelError(f"the VLM server at {self.url} refused the request: HTTP {exc.code} {detail}") from exc
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError) or "timed out" in str(exc.reason):
                    last = f"timed out after {self.timeout:g}s"
                    continue
                last = f"unreachable: {exc.reason}"
                if attempt == self.retries:
                    raise ModelError(f"cannot reach the VLM server at {self.url}: {exc.reason}") from exc
            except (TimeoutError, ConnectionError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                last = f"malformed reply: {exc}"
        raise _RequestFailed(last)

    def _one(self, req: VlmRequest) -> VlmResult:
        try:
            body = self.payload(req)
        except Exception as exc:  # noqa: BLE001
            return VlmResult("", f"image {req.image}: {exc}")
        try:
            return VlmResult(self._post(body).strip())
        except _RequestFailed as exc:
            return VlmResult("", f"{req.key or req.image}: {exc}")

    def generate_detailed(self, requests: list[VlmRequest]) -> list[VlmResult]:
        from concurrent.futures import ThreadPoolExecutor

        results: list[VlmResult] = []
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for i, res in enumerate(pool.map(self._one, requests), 1):
                results.append(res)
                if self.progress:
                    self.progress(i, len(requests))
        return results


class _RequestFailed(Exception):
    pass


def _message_text(reply: dict[str, Any]) -> str:
    content = reply["choices"][0]["message"]["content"]
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise ValueError("choices[0].message.content is not text")
    return content


def _http_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read().decode("utf-8", "replace")[:300]
    except Exception:  # noqa: BLE001
        body = ""
    return (exc.reason or "") + (f": {body}" if body else "")


# -- factory ---------------------------------------------------------------------------------------------
def make_backend(cfg: Config, *, progress: Progress | None = None) -> VlmBackend:
    """The backend ``cfg.vlm`` selects, with the paper's decoding settings from the config."""
    v = cfg.vlm
    decoding = Decoding(temperature=v.temperature, top_p=v.top_p, top_k=v.top_k,
                        repetition_penalty=v.repetition_penalty, max_new_tokens=v.max_new_tokens)
    adapter = cfg.path(v.adapter) if v.adapter else None
    if v.backend == "openai":
        return OpenAIBackend(v.base_url, v.model, api_key_env=v.api_key_env, concurrency=v.concurrency,
                             retries=v.retries, timeout=v.timeout, decoding=decoding, min_pixels=v.min_pixels,
                             max_pixels=v.max_pixels, progress=progress)
    if not v.model:
        raise ModelError(f"vlm.model: the {v.backend} backend needs a local model folder")
    model_dir = cfg.path(v.model)
    if v.backend == "vllm":
        return VllmBackend(model_dir, adapter=adapter, decoding=decoding, min_pixels=v.min_pixels,
                           max_pixels=v.max_pixels, progress=progress)
    return TransformersBackend(model_dir, adapter=adapter, device=v.device, batch_size=v.batch_size,
                               decoding=decoding, min_pixels=v.min_pixels, max_pixels=v.max_pixels, progress=progress)
