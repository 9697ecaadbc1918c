"""Any OpenAI-compatible `/v1/chat/completions` server: vLLM, llama.cpp's servers, Mistral, OpenAI.

Replies are streamed as Server-Sent Events. Token counts come from the server's final usage
chunk when it sends one (`stream_options.include_usage`, honoured by OpenAI and vLLM); otherwise
`completion_tokens` is the number of content chunks received (one token each on llama.cpp and
vLLM) and `prompt_tokens` is 0, meaning "not reported", rather than a guess.

Background work (`llm.background`) is also stopped while no chunk comes: a watcher shuts the
connection as soon as work that goes first wants the model, and llama.cpp's server drops a
request whose client is gone between two batches, even while it is still reading the prompt.

A reply stopped early (`Options.max_sentences`) closes the stream before that final chunk. With
`timings_per_token`, llama.cpp's server puts its counts on every chunk, so such a reply still
reports its prompt, cached and generated tokens.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from llm.backends.openai_stream import (
    EchoCut,
    PreemptWatch,
    cached_tokens,
    sse_data,
    timings_usage,
)
from llm.base import BaseLLM, background_interrupt
from llm.chats import begun_reply
from llm.config import ModelConfig, parse_backend_options
from llm.errors import (
    BackendTimeout,
    BackendUnavailable,
    ContextWindowExceeded,
    GenerationFailed,
    InvalidOptions,
    LLMError,
    Preempted,
    ServerFailed,
    ServerUnreachable,
)
from llm.types import ChatMessage, Finish, JsonSchema, Options, StopGenerating, Usage

DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # where vLLM and llama_cpp.server listen by default
# How servers word "the prompt is too long" in a 400: OpenAI and llama-cpp-python
# ("maximum context length", code context_length_exceeded), vLLM ("maximum context length"),
# llama.cpp's C++ server ("exceeds the available context size"), Mistral ("too large for model").
_CONTEXT_ERROR = re.compile(
    r"context[ _](length|window|size)|maximum context|too large for model|prompt is too long"
    r"|too many tokens",
    re.IGNORECASE,
)
_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")

logger = logging.getLogger(__name__)


class OpenAICompatOptions(BaseModel):
    """`backend_options` of the openai_compat backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extra_sampling: Literal["none", "llama_cpp", "vllm"] = Field(
        "none",
        description="Send top_k and the repeat penalty, which OpenAI lacks: as llama.cpp's "
        "`top_k`/`repeat_penalty` or vLLM's `top_k`/`repetition_penalty`; none sends neither.",
    )
    response_format: Literal["json_schema", "json_object"] = Field(
        "json_schema",
        description="Structured output as OpenAI's json_schema (OpenAI, vLLM, llama.cpp's C++ "
        "server) or as {type: json_object, schema} (llama-cpp-python's server).",
    )
    strict_schema: bool = Field(
        True, description="json_schema only: ask for strict schema adherence."
    )
    include_usage: bool = Field(
        True, description="Ask for a final usage chunk (stream_options.include_usage)."
    )
    background_slot: int | None = Field(
        None,
        ge=0,
        description="llama.cpp's C++ server: the slot background work (`llm.background`, the "
        "extraction) runs in, so that it never takes a conversation's slot.",
    )
    continue_final_message: Literal["none", "prefill", "vllm"] = Field(
        "none",
        description="How the server continues a reply another model began (a failover "
        "chain's next model taking over mid-reply): prefill, it continues a final assistant "
        "message by itself (llama.cpp's C++ server); vllm, asked with continue_final_message "
        "(vLLM, SGLang); none, it cannot (OpenAI), and a chain passes it over for that.",
    )
    timings_per_token: bool = Field(
        False,
        description="llama.cpp's C++ server: its timings (prompt, cached and generated tokens) "
        "on every chunk, so a reply stopped early still has its counts.",
    )


@dataclass(frozen=True)
class _Settings:
    """What `from_config` and `preflight` both derive, and check, from a ModelConfig."""

    url: str
    model: str
    api_key: str | None
    backend_options: OpenAICompatOptions


def _settings(config: ModelConfig) -> _Settings:
    if not config.model:
        raise InvalidOptions(
            "the openai_compat backend needs a model name: set LLM_MODEL (or `model`) to the "
            "name the server knows the model by, e.g. mistralai/Mistral-7B-Instruct-v0.2"
        )
    base = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise InvalidOptions(f"LLM_BASE_URL must start with http:// or https://, not {base!r}")
    base = base.removesuffix("/v1")
    api_key = None
    if config.api_key_env:
        api_key = os.environ.get(config.api_key_env)
        if not api_key:
            raise BackendUnavailable(
                f"LLM_API_KEY_ENV names {config.api_key_env}, but that environment variable is "
                "unset or empty; export the API key in it"
            )
    backend_options = parse_backend_options(
        "openai_compat", config.backend_options, OpenAICompatOptions
    )
    return _Settings(f"{base}/v1/chat/completions", config.model, api_key, backend_options)


def _error_message(response: httpx.Response) -> str:
    """The server's own error text, from OpenAI's, vLLM's or FastAPI's error shapes."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            detail = error.get("message") or error.get("detail")
            if detail:
                return str(detail)
        elif isinstance(error, str):
            return error
    return json.dumps(body)[:500]


class OpenAICompatLLM(BaseLLM):
    """A model behind an OpenAI-compatible chat completions endpoint, streamed over SSE."""

    backend = "openai_compat"
    supports_schema = True  # response_format with the JSON Schema

    def __init__(
        self,
        *,
        url: str,
        model: str,
        api_key: str | None = None,
        api_key_env: str | None = None,
        timeout: float = 120.0,
        backend_options: OpenAICompatOptions | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", model)
        super().__init__(**kwargs)
        self.url = url
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.backend_options = backend_options or OpenAICompatOptions()
        self.can_continue = self.backend_options.continue_final_message != "none"
        headers = {"Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout))

    @classmethod
    def preflight(cls, config: ModelConfig) -> None:
        _settings(config)

    @classmethod
    def from_config(cls, config: ModelConfig) -> OpenAICompatLLM:
        settings = _settings(config)
        # `name` defaults to the bundled model's; an unset one should name the served model.
        name = config.name if "name" in config.model_fields_set else settings.model
        return cls(
            **(cls.base_kwargs(config) | {"name": name}),
            context_window=config.n_ctx,
            url=settings.url,
            model=settings.model,
            api_key=settings.api_key,
            api_key_env=config.api_key_env,
            timeout=config.timeout,
            backend_options=settings.backend_options,
        )

    def request_body(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> dict[str, Any]:
        """The JSON body posted for one generation."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "max_tokens": options.max_tokens,
            "temperature": 0.0 if options.greedy else options.temperature,
            "top_p": options.top_p,
        }
        extra = self.backend_options
        if extra.include_usage:
            body["stream_options"] = {"include_usage": True}
        if extra.timings_per_token:
            body["timings_per_token"] = True
        if begun_reply(messages) is not None and extra.continue_final_message == "vllm":
            body |= {"continue_final_message": True, "add_generation_prompt": False}
        slot = options.cache_slot
        if slot is None and background_interrupt() is not None:
            slot = extra.background_slot
        if slot is not None:
            body["id_slot"] = slot
        if options.stop:
            body["stop"] = list(options.stop)
        if options.seed is not None:
            body["seed"] = options.seed
        if extra.extra_sampling != "none":
            body["top_k"] = options.top_k
            penalty = (
                "repeat_penalty" if extra.extra_sampling == "llama_cpp" else "repetition_penalty"
            )
            body[penalty] = options.repeat_penalty
        if schema is not None:
            if extra.response_format == "json_object":
                body["response_format"] = {"type": "json_object", "schema": schema}
            else:
                name = _SCHEMA_NAME.sub("_", str(schema.get("title") or "response"))[:64]
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": name, "schema": schema, "strict": extra.strict_schema},
                }
        return body

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        body = self.request_body(messages, options, schema)
        try:
            with self._client.stream("POST", self.url, json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._http_error(response)
                with PreemptWatch(response, background_interrupt()) as watch:
                    try:
                        yield from self._read_events(response, EchoCut(begun_reply(messages) or ""))
                    except (httpx.HTTPError, GenerationFailed) as exc:
                        if watch.fired:
                            raise Preempted(
                                f"{self.name} was wanted by work that goes first"
                            ) from exc
                        raise
        except httpx.TimeoutException as exc:
            raise BackendTimeout(
                f"{self.url} did not answer within {self.timeout:g} s ({type(exc).__name__}); "
                "raise LLM_TIMEOUT or check the server's load"
            ) from exc
        except httpx.ConnectError as exc:
            raise ServerUnreachable(
                f"cannot reach {self.url}: {exc} — check that the server is running and that "
                "LLM_BASE_URL points at it"
            ) from exc
        except httpx.HTTPError as exc:
            raise ServerFailed(f"{self.url} failed mid-reply: {exc!r}") from exc

    def _read_events(self, response: httpx.Response, echo: EchoCut) -> Iterator[str | Finish]:
        reason: str | None = None
        usage: Usage | None = None
        timings: Usage | None = None  # llama.cpp's counts so far, with timings_per_token
        produced = 0
        done = False
        for payload in sse_data(response):
            if payload == "[DONE]":
                done = True
                break
            chunk = self._decode(payload)
            if isinstance(reported := chunk.get("usage"), dict):
                usage = Usage(
                    int(reported.get("prompt_tokens") or 0),
                    int(reported.get("completion_tokens") or 0),
                    cached_tokens(reported, chunk.get("timings")),
                )
            timings = timings_usage(chunk.get("timings")) or timings
            for choice in chunk.get("choices") or []:
                if choice.get("index", 0) != 0:
                    continue
                text = echo.feed((choice.get("delta") or {}).get("content") or "")
                if text:
                    produced += 1
                    try:
                        yield text
                    except StopGenerating:
                        # Closing the stream (the caller closes this generator) cancels the
                        # server's generation; the counts are what it had reported so far.
                        yield Finish(reason="sentences", usage=timings or Usage(0, produced))
                        return
                if choice.get("finish_reason"):
                    reason = choice["finish_reason"]
        if not done and reason is None:
            # llama-cpp-python's server, for one, ends the stream silently when generation
            # fails after the 200 (a prompt beyond its own n_ctx, which is then in its log).
            raise GenerationFailed(
                f"{self.url} ended the stream before the reply finished; see the server's "
                "log (a prompt beyond the server's context window does this on some servers)"
            )
        if text := echo.rest():
            produced += 1
            yield text
        yield Finish(reason=reason or "stop", usage=usage or Usage(0, produced))

    def _decode(self, payload: str) -> dict[str, Any]:
        try:
            chunk = json.loads(payload)
        except ValueError as exc:
            raise GenerationFailed(
                f"{self.url} sent an event that is not JSON: {payload[:200]!r}"
            ) from exc
        if not isinstance(chunk, dict):
            raise GenerationFailed(f"{self.url} sent an unexpected event: {payload[:200]!r}")
        if "error" in chunk:  # OpenAI and vLLM report failures after the 200 as an error event
            error = chunk["error"]
            message = str(error.get("message") if isinstance(error, dict) else error)
            if _CONTEXT_ERROR.search(message):
                raise ContextWindowExceeded(f"{self.url}: {message}")
            raise GenerationFailed(f"{self.url} failed: {message}")
        return chunk

    def _http_error(self, response: httpx.Response) -> LLMError:
        status = response.status_code
        message = _error_message(response)
        if status in (401, 403):
            fix = (
                f"check the API key in {self.api_key_env}"
                if self.api_key_env
                else "set LLM_API_KEY_ENV to the name of the environment variable holding the key"
            )
            return BackendUnavailable(
                f"{self.url} refused the request (HTTP {status}: {message}); {fix}"
            )
        if status in (400, 413) and _CONTEXT_ERROR.search(message):
            return ContextWindowExceeded(
                f"{self.url}: {message} — shorten the conversation, or set LLM_N_CTX to the "
                "server's context window so older turns are dropped first"
            )
        if status == 404:
            return BackendUnavailable(
                f"{self.url} answered 404 ({message}); check LLM_BASE_URL and that the server "
                f"serves a model named {self.model!r} (LLM_MODEL)"
            )
        if status == 503:
            return ServerUnreachable(f"{self.url} is not ready (HTTP 503: {message})")
        if status == 429 or status >= 500:
            return ServerFailed(f"{self.url} failed with HTTP {status}: {message}")
        return GenerationFailed(f"{self.url} failed with HTTP {status}: {message}")

    def _holds_nothing(self, slot: int | None) -> bool:
        # Only a slot the server shows empty: without one, the prompt could land anywhere (and
        # an API that bills would bill it).
        return slot is not None and self._slot_holds_prompt(slot) is False

    def _slot_holds_prompt(self, slot: int) -> bool | None:
        """Whether llama.cpp's server holds a prompt in `slot` (its `GET /slots`); None when
        the server does not tell (another server, or one started with `--no-slots`)."""
        url = self.url.removesuffix("/v1/chat/completions") + "/slots"
        try:
            response = self._client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            slots = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            logger.info("%s does not list its slots (%s); none is warmed", url, exc)
            return None
        for entry in slots if isinstance(slots, list) else []:
            if isinstance(entry, dict) and entry.get("id") == slot:
                return bool(entry.get("n_prompt_tokens") or entry.get("is_processing"))
        return None

    def close(self) -> None:
        self._client.close()
