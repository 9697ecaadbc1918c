"""ctransformers (LEGACY): GGUF files of 2023, e.g. TheBloke's Mistral-7B-Instruct-v0.2 conversions.

ctransformers has been unmaintained since 2023. Its llama.cpp is of that year, so it refuses
newer files (tied embeddings, BPE vocabularies: SmolLM2, Llama 3, Qwen); use the llama_cpp
backend for those. It has no chat-template engine, so prompts come from `llm.chat_formats`.
"""

from __future__ import annotations

import codecs
import ctypes
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import ctransformers  # type: ignore[import-untyped]  # the library ships no type hints
import ctransformers.lib  # type: ignore[import-untyped]  # the library ships no type hints
from pydantic import BaseModel, ConfigDict, Field

from llm.base import BaseLLM
from llm.chat_formats import ChatFormat, chat_format
from llm.config import ModelConfig, parse_backend_options
from llm.errors import (
    BackendUnavailable,
    ContextWindowExceeded,
    GenerationFailed,
    ModelNotFound,
)
from llm.types import ChatMessage, Finish, JsonSchema, Options, Usage

DEFAULT_CHAT_FORMAT = "mistral"
# The architectures ctransformers knows for old GGML files ("mistral" files are GGUF only).
ModelType = Literal[
    "llama",
    "mistral",
    "falcon",
    "mpt",
    "gpt2",
    "gptj",
    "gpt_neox",
    "dolly-v2",
    "replit",
    "starcoder",
    "gpt_bigcode",
]
# ctransformers leaves its llama.cpp context at the default n_batch (512), for which that
# llama.cpp sizes the compute buffers: larger prompt batches are not safe.
_MAX_BATCH = 512
# ctransformers offloads layers only for a positive count; "all" is any count above the depth.
_ALL_LAYERS = 10_000
_LIMITATION = (
    "ctransformers (unmaintained since 2023) loads only GGUF files of that era, such as "
    "TheBloke's Mistral-7B-Instruct-v0.2 Q4_K_M; newer files (tied embeddings, BPE "
    "vocabularies: SmolLM2, Llama 3, Qwen) are refused — use LLM_BACKEND=llama_cpp for them"
)


class CTransformersOptions(BaseModel):
    """What `ModelConfig.backend_options` may hold for this backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_type: ModelType | None = Field(
        None,
        description="Architecture of an old GGML file; GGUF files need none (ctransformers "
        "reads every GGUF with its llama.cpp loader).",
    )
    last_n_tokens: int = Field(
        64, ge=1, le=8192, description="Recent tokens the repetition penalty looks at."
    )


def _backend_options(raw: Mapping[str, Any]) -> CTransformersOptions:
    return parse_backend_options("ctransformers", raw, CTransformersOptions)


def _check_file(model_path: Path, model_type: str | None) -> None:
    if not model_path.is_file():
        raise ModelNotFound(
            f"model file not found: {model_path} — set LLM_MODEL_PATH to a GGUF file; "
            f"note that {_LIMITATION}"
        )
    with model_path.open("rb") as file:
        magic = file.read(4)
    if magic != b"GGUF" and model_type is None:
        raise BackendUnavailable(
            f"{model_path} is not a GGUF file; ctransformers reads GGUF files, or old GGML "
            "files when backend_options.model_type names their architecture"
        )


def _check_gpu(n_gpu_layers: int) -> None:
    """Load ctransformers' CUDA library, which needs CUDA 12 runtime libraries to be present.

    This finds a missing `ctransformers[cuda]` install; a machine without an NVIDIA driver or
    GPU only shows when the model loads.
    """
    if n_gpu_layers == 0:
        return
    try:
        path = ctransformers.lib.find_library(gpu=True)
        ctransformers.lib.load_cuda()  # the nvidia-* wheels that ctransformers[cuda] installs
        ctypes.CDLL(path)
    except OSError as exc:
        raise BackendUnavailable(
            f"n_gpu_layers={n_gpu_layers} asks for GPU offload, but ctransformers' CUDA build "
            f"cannot load here ({exc}); pip install 'ctransformers[cuda]' for the CUDA 12 "
            "runtime, or set LLM_GPU_LAYERS=0"
        ) from exc


class _StopScanner:
    """Cuts streamed text at the first stop string, holding back what may begin one."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._pending = ""
        self.stopped = False

    def push(self, text: str) -> str:
        """The text that is safe to show now; sets `stopped` once a stop string appears."""
        self._pending += text
        hits = [i for i in (self._pending.find(s) for s in self._stops) if i >= 0]
        if hits:
            self.stopped = True
            safe, self._pending = self._pending[: min(hits)], ""
            return safe
        held = max((_overlap(self._pending, s) for s in self._stops), default=0)
        cut = len(self._pending) - held
        safe, self._pending = self._pending[:cut], self._pending[cut:]
        return safe

    def flush(self) -> str:
        """What was held back, once no more text will come."""
        rest, self._pending = self._pending, ""
        return rest


def _overlap(text: str, stop: str) -> int:
    """Length of the longest end of `text` that is the start of `stop`."""
    for n in range(min(len(text), len(stop) - 1), 0, -1):
        if text.endswith(stop[:n]):
            return n
    return 0


class CTransformersLLM(BaseLLM):
    """A 2023-era GGUF loaded once through ctransformers; generation is serialised."""

    backend = "ctransformers"
    can_continue = True  # the prompt is our own text: a begun reply is left open at its end

    def __init__(
        self,
        *,
        model_path: Path,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_batch: int = 512,
        n_gpu_layers: int = 0,
        chat_format: str | None = None,
        backend_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", model_path.stem)
        super().__init__(context_window=n_ctx, **kwargs)
        self._format = _chat_format(chat_format)
        self._options = _backend_options(backend_options or {})
        _check_file(model_path, self._options.model_type)
        _check_gpu(n_gpu_layers)
        self.model_path = model_path
        self._batch_size = min(n_batch, _MAX_BATCH)
        self._threads = n_threads or -1  # ctransformers then uses half the cores (physical)
        self._lock = threading.Lock()
        try:
            self._llm: Any = ctransformers.AutoModelForCausalLM.from_pretrained(
                str(model_path),
                model_type=self._options.model_type,
                local_files_only=True,
                context_length=n_ctx,
                gpu_layers=_ALL_LAYERS if n_gpu_layers < 0 else n_gpu_layers,
                threads=self._threads,
                batch_size=self._batch_size,
                last_n_tokens=self._options.last_n_tokens,
            )
        except OSError as exc:  # its shared library, CPU or CUDA build
            raise BackendUnavailable(f"ctransformers cannot run here: {exc}") from exc
        except (RuntimeError, ValueError) as exc:
            raise BackendUnavailable(
                f"ctransformers could not load {model_path}: {_LIMITATION}"
            ) from exc

    @classmethod
    def preflight(cls, config: ModelConfig) -> None:
        _chat_format(config.chat_format)
        options = _backend_options(config.backend_options)
        _check_file(config.resolved_model_path(), options.model_type)
        _check_gpu(config.n_gpu_layers)

    @classmethod
    def from_config(cls, config: ModelConfig) -> CTransformersLLM:
        return cls(**_settings(config))

    def count_tokens(self, text: str) -> int:
        # No lock: tokenizing reads only the vocabulary, and callers may count mid-stream.
        return len(self._tokenize(text, bos=False))

    def _tokenize(self, text: str, *, bos: bool) -> list[int]:
        data = text.encode("utf-8")
        # Not LLM.tokenize: it sizes its buffer by characters, and the byte-fallback tokens of
        # non-ASCII text overflow it. Spaces become "▁" (3 bytes), each byte at most one token.
        buffer = (ctypes.c_int * (3 * len(data) + 8))()
        count = self._model().ctransformers_llm_tokenize(data, bos, buffer)
        return list(buffer[:count])

    def _model(self) -> Any:
        if self._llm is None:
            raise BackendUnavailable(f"{self.name} was closed")
        return self._llm

    def _sampling(self, options: Options) -> dict[str, Any]:
        # The library divides by the temperature: greedy is "keep only the top token" instead.
        greedy = options.greedy or options.temperature == 0
        return {
            "top_k": 1 if greedy else options.top_k or self._model().vocab_size,
            "top_p": 1.0 if greedy else options.top_p,
            "temperature": 1.0 if greedy else options.temperature,
            "repetition_penalty": options.repeat_penalty,
            "seed": -1 if options.seed is None else options.seed % 2**31,
            "reset": True,  # reuse the cached prefix, drop the rest
        }

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        with self._lock:
            llm = self._model()
            prompt = self._tokenize(self._format.prompt(messages), bos=True)
            room = (self.context_window or llm.context_length) - len(prompt)
            if room < 1:
                raise ContextWindowExceeded(
                    f"the prompt is {len(prompt)} tokens, but {self.name} has a context window "
                    f"of {self.context_window}; shorten the message or the system prompt, or "
                    "raise LLM_N_CTX"
                )
            budget = min(options.max_tokens, room)
            scanner = _StopScanner(self._format.stop + options.stop)
            decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
            produced = 0
            reason = "stop"  # the end-of-text token, unless the budget runs out first
            started = False
            tokens = llm.generate(prompt, **self._sampling(options))
            try:
                for token in tokens:
                    produced += 1
                    text = decoder.decode(llm.detokenize([token], decode=False))
                    if not started:  # SentencePiece marks the first word with a space
                        text = text.lstrip()
                        started = bool(text)
                    yield scanner.push(text)
                    if scanner.stopped:
                        break
                    if produced >= budget:
                        reason = "length"
                        break
            except RuntimeError as exc:
                raise GenerationFailed(f"ctransformers failed: {exc}") from exc
            finally:
                tokens.close()
            if not scanner.stopped:
                yield scanner.push(decoder.decode(b"", final=True)) + scanner.flush()
            yield Finish(reason=reason, usage=Usage(len(prompt), produced))

    def close(self) -> None:
        with self._lock:
            self._llm = None  # ctransformers frees the weights when its LLM is collected


class MistralLLM(CTransformersLLM):
    """The original design's entry point: a Mistral Instruct GGUF, prompted in its [INST] format."""

    def __init__(self, model_path: str | Path, gpu_layers: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("chat_format", "mistral")
        super().__init__(model_path=Path(model_path), n_gpu_layers=gpu_layers, **kwargs)

    @classmethod
    def from_config(cls, config: ModelConfig) -> MistralLLM:
        settings = _settings(config)
        return cls(settings.pop("model_path"), settings.pop("n_gpu_layers"), **settings)


def _chat_format(name: str | None) -> ChatFormat:
    return chat_format(name or DEFAULT_CHAT_FORMAT)


def _settings(config: ModelConfig) -> dict[str, Any]:
    return {
        **CTransformersLLM.base_kwargs(config),
        "model_path": config.resolved_model_path(),
        "n_ctx": config.n_ctx,
        "n_threads": config.n_threads,
        "n_batch": config.n_batch,
        "n_gpu_layers": config.n_gpu_layers,
        "chat_format": config.chat_format,
        "backend_options": config.backend_options,
    }
