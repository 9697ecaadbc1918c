"""Ollama over its HTTP API: POST /api/chat, answers streamed as newline-delimited JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from llm.base import BaseLLM
from llm.config import ModelConfig, parse_backend_options
from llm.errors import (
    BackendTimeout,
    BackendUnavailable,
    GenerationFailed,
    InvalidOptions,
    ServerFailed,
    ServerUnreachable,
)
from llm.types import ChatMessage, Finish, JsonSchema, Options, Usage

DEFAULT_BASE_URL = "http://127.0.0.1:11434"

# Ollama reads keep_alive as seconds (negative: forever) or a Go duration such as "10m" or "1h30m".
_GoDuration = Annotated[str, Field(pattern=r"^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")]


class OllamaOptions(BaseModel):
    """The `backend_options` the ollama backend understands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_alive: int | _GoDuration | None = Field(
        None,
        description="How long Ollama keeps the model loaded after a request: seconds or a "
        "duration such as '10m' (negative: forever); None leaves the server's default (5m).",
    )


def _backend_options(config: ModelConfig) -> OllamaOptions:
    return parse_backend_options("ollama", config.backend_options, OllamaOptions)


def _model_name(config: ModelConfig) -> str:
    if not config.model:
        raise InvalidOptions(
            "the ollama backend needs a model name: set LLM_MODEL to a model the server has "
            "pulled, e.g. LLM_MODEL=mistral"
        )
    return config.model


def _base_url(config: ModelConfig) -> str:
    url = config.base_url or DEFAULT_BASE_URL
    if not url.startswith(("http://", "https://")):
        raise InvalidOptions(
            f"the ollama base_url {url!r} needs a scheme: "
            f"set LLM_BASE_URL to e.g. {DEFAULT_BASE_URL}"
        )
    return url


def _error_message(response: httpx.Response) -> str:
    """Ollama's own words from an error body: `{"error": "..."}`, or the raw text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return response.text.strip()


def _parse_line(line: str) -> tuple[str, Finish | None]:
    """The text in one NDJSON line of a /api/chat stream, and the `Finish` if it is the last."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise GenerationFailed(f"Ollama sent a line that is not JSON: {line[:200]!r}") from exc
    if not isinstance(data, dict):
        raise GenerationFailed(f"Ollama sent a line that is not an object: {line[:200]!r}")
    if "error" in data:
        # Once streaming has begun Ollama cannot change the status code; it sends this instead.
        raise GenerationFailed(f"Ollama failed while generating: {data['error']}")
    text = (data.get("message") or {}).get("content") or ""
    if not data.get("done"):
        return text, None
    return text, Finish(
        reason="length" if data.get("done_reason") == "length" else "stop",
        # Ollama leaves prompt_eval_count out when the whole prompt came from its cache.
        usage=Usage(data.get("prompt_eval_count", 0), data.get("eval_count", 0)),
    )


class OllamaLLM(BaseLLM):
    """A model served by an Ollama server; the server loads, schedules and unloads it."""

    backend = "ollama"
    supports_schema = True  # Ollama's `format` takes a JSON Schema
    # /api/chat continues a final assistant message rather than answer after it.
    can_continue = True

    def __init__(
        self,
        *,
        model: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 120.0,
        n_ctx: int = 4096,
        keep_alive: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", model)
        super().__init__(context_window=n_ctx, **kwargs)
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.keep_alive = keep_alive
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout)

    @classmethod
    def preflight(cls, config: ModelConfig) -> None:
        # Deliberately offline: the server may start after us, and a call reports it if not.
        _model_name(config)
        _base_url(config)
        _backend_options(config)

    @classmethod
    def from_config(cls, config: ModelConfig) -> OllamaLLM:
        return cls(
            **cls.base_kwargs(config),
            model=_model_name(config),
            base_url=_base_url(config),
            timeout=config.timeout,
            n_ctx=config.n_ctx,
            keep_alive=_backend_options(config).keep_alive,
        )

    def _request_body(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> dict[str, Any]:
        """The JSON body of the /api/chat request for this prompt and these options."""
        ollama_options: dict[str, Any] = {
            "num_predict": options.max_tokens,
            "temperature": 0.0 if options.greedy else options.temperature,
            "top_p": options.top_p,
            "top_k": options.top_k,
            "repeat_penalty": options.repeat_penalty,
            "num_ctx": self.context_window,
        }
        if options.stop:
            ollama_options["stop"] = list(options.stop)
        if options.seed is not None:
            ollama_options["seed"] = options.seed
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "options": ollama_options,
        }
        if schema is not None:
            body["format"] = schema
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        return body

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        url = f"{self.base_url}/api/chat"
        body = self._request_body(messages, options, schema)
        try:
            with self._client.stream("POST", "/api/chat", json=body) as response:
                if response.is_error:
                    response.read()
                    raise self._http_error(response)
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    text, finish = _parse_line(line)
                    if text:
                        yield text
                    if finish is not None:
                        yield finish
                        return
        except httpx.ConnectError as exc:
            raise ServerUnreachable(
                f"cannot reach Ollama at {url}: {exc} — start it with `ollama serve`, "
                "or set LLM_BASE_URL to where it listens"
            ) from exc
        except httpx.TimeoutException as exc:
            raise BackendTimeout(
                f"Ollama at {url} did not answer within {self._client.timeout.read}s "
                f"({type(exc).__name__}); raise LLM_TIMEOUT or use a smaller model"
            ) from exc
        except httpx.HTTPError as exc:
            raise ServerFailed(f"the connection to Ollama at {url} failed: {exc}") from exc
        raise GenerationFailed(f"Ollama at {url} ended the stream without a final `done` line")

    def _http_error(self, response: httpx.Response) -> BackendUnavailable | GenerationFailed:
        message = _error_message(response)
        if response.status_code == 404:
            return BackendUnavailable(
                f"Ollama at {self.base_url} has no model {self.model!r} ({message}) — "
                f"run `ollama pull {self.model}`, or set LLM_MODEL to one `ollama list` shows"
            )
        # Overloaded or failing servers may answer later; any other status is this request's fault.
        status = response.status_code
        failed = ServerFailed if status == 429 or status >= 500 else GenerationFailed
        return failed(f"Ollama at {self.base_url} answered HTTP {response.status_code}: {message}")

    def close(self) -> None:
        self._client.close()
