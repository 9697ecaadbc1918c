"""Hugging Face transformers: a repo, folder or GGUF file on CPU, CUDA or MPS; LoRA and 4/8-bit."""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import torch
import transformers
from pydantic import BaseModel, ConfigDict, Field

from llm.base import BaseLLM
from llm.chats import begun_reply
from llm.config import ModelConfig, parse_backend_options
from llm.errors import (
    BackendUnavailable,
    ContextWindowExceeded,
    GenerationFailed,
    ModelNotFound,
)
from llm.json_logits import SchemaConstraint, Vocabulary
from llm.types import ChatMessage, Finish, JsonSchema, Options, Usage

Device = Literal["auto", "cuda", "mps", "cpu"]
_FIX_DEVICE = "set LLM_DEVICE=cpu, or LLM_DEVICE=auto to use the best device present"


class TransformersOptions(BaseModel):
    """`backend_options` this backend understands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cuda_device: int | None = Field(
        None,
        ge=0,
        description="CUDA device index among those CUDA_VISIBLE_DEVICES exposes; None: the first.",
    )


def _backend_options(raw: dict[str, Any]) -> TransformersOptions:
    return parse_backend_options("transformers", raw, TransformersOptions)


def _available_devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append(f"cuda ({torch.cuda.device_count()} device(s))")
    if torch.backends.mps.is_available():
        found.append("mps")
    return found


def resolve_device(requested: Device, cuda_device: int | None = None) -> str:
    """The torch device to load onto: auto picks CUDA, then MPS, then the CPU."""
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if requested == "auto":
        requested = "cuda" if cuda else "mps" if mps else "cpu"
    elif requested == "cuda" and not cuda:
        raise BackendUnavailable(
            f"LLM_DEVICE=cuda was asked for, but torch {torch.__version__} sees no CUDA GPU "
            f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '(unset)')}); "
            f"available here: {', '.join(_available_devices())}. Install a CUDA build of torch "
            f"on a machine with an NVIDIA GPU (docs/deployment.md), or {_FIX_DEVICE}"
        )
    elif requested == "mps" and not mps:
        raise BackendUnavailable(
            "LLM_DEVICE=mps was asked for, but torch sees no Apple-silicon GPU (MPS); "
            f"available here: {', '.join(_available_devices())}; {_FIX_DEVICE}"
        )
    if requested != "cuda":
        return requested
    index = cuda_device or 0
    if index >= torch.cuda.device_count():
        raise BackendUnavailable(
            f"backend_options cuda_device={index}, but only {torch.cuda.device_count()} CUDA "
            f"device(s) are visible (CUDA_VISIBLE_DEVICES="
            f"{os.environ.get('CUDA_VISIBLE_DEVICES', '(unset)')}); pick an index below that"
        )
    return f"cuda:{index}"


def _dtype(device: str) -> torch.dtype:
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32  # half precision on the CPU is slow and, for some ops, missing


def _check_quant(bits: int | None, device: str) -> None:
    if bits is None:
        return
    if not device.startswith("cuda"):
        raise BackendUnavailable(
            f"quant_bits={bits} loads the model in {bits}-bit through bitsandbytes, which needs "
            f"an NVIDIA GPU with CUDA, but this model would run on {device}; unset "
            "LLM_QUANT_ENABLED/LLM_QUANT_BITS (on a CPU, a quantized GGUF through the llama_cpp "
            "backend is the small, fast option) or run on a CUDA machine with LLM_DEVICE=cuda"
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise BackendUnavailable(
            f"quant_bits={bits} needs the bitsandbytes package: pip install 'salesbot[gpu]'"
        )


def _check_files(config: ModelConfig) -> None:
    if config.model_path is not None or config.model is None:
        path = config.resolved_model_path()
        if not path.is_file():
            raise ModelNotFound(
                f"model file not found: {path} — set LLM_MODEL_PATH to a GGUF file, or "
                "LLM_MODEL to a Hugging Face repo id or a folder saved by save_pretrained()"
            )
    elif _looks_local(config.model) and not Path(config.model).expanduser().is_dir():
        raise ModelNotFound(
            f"model folder not found: {config.model} — set LLM_MODEL to a folder saved by "
            "save_pretrained() or to a Hugging Face repo id"
        )
    if config.lora_path is not None:
        _check_lora(config.lora_path)


def _check_lora(lora_path: Path) -> None:
    if not (lora_path / "adapter_config.json").is_file():
        raise ModelNotFound(
            f"LoRA adapter not found: {lora_path} has no adapter_config.json — set "
            "LLM_LORA_PATH to a folder saved by PeftModel.save_pretrained()"
        )
    if importlib.util.find_spec("peft") is None:
        raise BackendUnavailable(
            "a LoRA adapter needs the peft package: pip install 'salesbot[transformers]'"
        )


def _looks_local(model: str) -> bool:
    # A repo id is "name" or "owner/name"; anything else, or anything that exists, is a path.
    return model.startswith((".", "/", "~")) or model.count("/") > 1 or Path(model).exists()


class _Cancel(transformers.StoppingCriteria):
    """Ends `generate` when the reader has what it wants or has gone away."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any
    ) -> bool:
        return self.event.is_set()


class TransformersLLM(BaseLLM):
    """A causal LM loaded once; generation is serialised because one model runs one batch here."""

    backend = "transformers"
    supports_schema = True  # a logits processor keeps the output on the schema (json_logits)
    can_continue = True  # the chat template's continue_final_message

    def __init__(
        self,
        *,
        source: str,
        gguf_file: str | None = None,
        device: Device = "auto",
        quant_bits: Literal[4, 8] | None = None,
        lora_path: Path | None = None,
        n_ctx: int = 4096,
        backend_options: TransformersOptions | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", Path(gguf_file or source).stem)
        super().__init__(context_window=n_ctx, **kwargs)
        opts = backend_options or TransformersOptions()
        self.device = resolve_device(device, opts.cuda_device)
        _check_quant(quant_bits, self.device)
        if lora_path is not None:
            _check_lora(lora_path)  # before the weights: a typo should not cost a load
        self._lock = threading.Lock()
        load: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(source, **load)
            model = transformers.AutoModelForCausalLM.from_pretrained(
                source,
                dtype=_dtype(self.device),
                device_map={"": self.device},
                quantization_config=self._quantization(quant_bits),
                **load,
            )
        except OSError as exc:
            raise ModelNotFound(f"transformers could not find {source}: {exc}") from exc
        except (ValueError, RuntimeError, ImportError) as exc:
            raise BackendUnavailable(f"transformers could not load {source}: {exc}") from exc
        if lora_path is not None:
            model = self._attach_lora(model, lora_path)
        # Any: a PreTrainedModel or a PeftModel around one, which the HF stubs cannot express.
        self._model: Any = model
        if not self._tokenizer.chat_template:
            raise BackendUnavailable(
                f"{source} has no chat template; use an instruction-tuned (chat) model"
            )
        eos = model.generation_config.eos_token_id
        eos = [*(eos if isinstance(eos, list) else [eos]), self._tokenizer.eos_token_id]
        self._eos = {int(token) for token in eos if token is not None}
        self._vocabulary: Vocabulary | None = None  # built on the first constrained call
        positions = getattr(model.config, "max_position_embeddings", None)
        if isinstance(positions, int) and positions < n_ctx:
            self.context_window = positions

    def _quantization(self, bits: int | None) -> transformers.BitsAndBytesConfig | None:
        if bits is None:
            return None
        if bits == 8:
            config = transformers.BitsAndBytesConfig  # its __init__ is unannotated in transformers
            return config(load_in_8bit=True)  # type: ignore[no-untyped-call]  # see above
        return transformers.BitsAndBytesConfig(  # type: ignore[no-untyped-call]  # unannotated
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=_dtype(self.device),
            bnb_4bit_use_double_quant=True,
        )

    @staticmethod
    def _attach_lora(model: Any, lora_path: Path) -> Any:
        import peft  # only LoRA users need it; _check_lora has made sure it is there

        try:
            return peft.PeftModel.from_pretrained(model, str(lora_path))
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise BackendUnavailable(
                f"the LoRA adapter in {lora_path} does not fit this model: {exc}"
            ) from exc

    @classmethod
    def preflight(cls, config: ModelConfig) -> None:
        opts = _backend_options(config.backend_options)
        _check_files(config)
        _check_quant(config.quant_bits, resolve_device(config.device, opts.cuda_device))

    @classmethod
    def from_config(cls, config: ModelConfig) -> TransformersLLM:
        opts = _backend_options(config.backend_options)
        _check_files(config)
        if config.model_path is not None or config.model is None:
            path = config.resolved_model_path()
            source, gguf_file = str(path.parent), path.name
        else:
            local = _looks_local(config.model)
            source = str(Path(config.model).expanduser()) if local else config.model
            gguf_file = None
        return cls(
            **cls.base_kwargs(config),
            source=source,
            gguf_file=gguf_file,
            device=config.device,
            quant_bits=config.quant_bits,
            lora_path=config.lora_path,
            n_ctx=config.n_ctx,
            backend_options=opts,
        )

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def _generation_kwargs(self, options: Options) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": options.max_tokens,
            "repetition_penalty": options.repeat_penalty,
            "pad_token_id": (
                self._tokenizer.eos_token_id
                if self._tokenizer.pad_token_id is None
                else self._tokenizer.pad_token_id
            ),
        }
        if options.greedy or options.temperature == 0:
            kwargs["do_sample"] = False
        else:
            kwargs.update(
                do_sample=True,
                temperature=options.temperature,
                top_p=options.top_p,
                top_k=options.top_k,  # 0 turns top-k filtering off, as in Options
            )
        if options.stop:
            # Ends generation on the token that completes a stop string; the text is cut below.
            kwargs.update(stop_strings=list(options.stop), tokenizer=self._tokenizer)
        return kwargs

    def _generate(
        self, messages: Sequence[ChatMessage], options: Options, schema: JsonSchema | None = None
    ) -> Iterator[str | Finish]:
        begun = begun_reply(messages) is not None
        with self._lock:
            # With return_dict=True the template comes back as a BatchEncoding of tensors. A
            # final assistant message is a reply begun elsewhere: left open, and continued.
            encoded = self._tokenizer.apply_chat_template(
                [{"role": m.role, "content": m.content} for m in messages],
                add_generation_prompt=not begun,
                continue_final_message=begun,
                return_dict=True,
                return_tensors="pt",
            )
            inputs = cast(transformers.BatchEncoding, encoded).to(self._model.device)
            prompt_tokens = int(inputs["input_ids"].shape[-1])
            if self.context_window and prompt_tokens + options.max_tokens > self.context_window:
                raise ContextWindowExceeded(
                    f"the prompt is {prompt_tokens} tokens plus {options.max_tokens} to generate, "
                    f"but {self.name} has a context window of {self.context_window}; shorten "
                    "the message or the system prompt, or raise LLM_N_CTX"
                )
            streamer = transformers.TextIteratorStreamer(
                self._tokenizer, skip_prompt=True, skip_special_tokens=True
            )
            cancel = threading.Event()
            constraint = []
            if schema is not None:
                if self._vocabulary is None:
                    self._vocabulary = Vocabulary.of(self._tokenizer)
                constraint.append(
                    SchemaConstraint(schema, self._vocabulary, prompt_tokens, self._eos)
                )
            result: dict[str, Any] = {}

            def run() -> None:
                try:
                    if options.seed is not None:
                        torch.manual_seed(options.seed)
                    result["ids"] = self._model.generate(
                        **inputs,
                        streamer=streamer,
                        stopping_criteria=transformers.StoppingCriteriaList([_Cancel(cancel)]),
                        logits_processor=transformers.LogitsProcessorList(constraint),
                        **self._generation_kwargs(options),
                    )
                except BaseException as exc:  # any: the reader re-raises it, and must not hang
                    result["error"] = exc
                    # The reader would otherwise wait for text forever.
                    streamer.end()  # type: ignore[no-untyped-call]  # unannotated in transformers

            worker = threading.Thread(target=run, name=f"generate-{self.name}", daemon=True)
            worker.start()
            stopped = False
            try:
                text, sent = "", 0
                hold = max((len(s) for s in options.stop), default=1) - 1
                for chunk in streamer:
                    text += chunk
                    hits = [i for i in (text.find(s, sent) for s in options.stop) if i >= 0]
                    if hits:
                        stopped = True
                        cancel.set()
                        yield text[sent : min(hits)]
                        break
                    # Hold back what could be the start of a stop string still being written.
                    if len(text) - hold > sent:
                        yield text[sent : len(text) - hold]
                        sent = len(text) - hold
                else:
                    if sent < len(text):
                        yield text[sent:]
            finally:
                cancel.set()  # also when the caller stops reading early
                worker.join()
            if "error" in result:
                raise GenerationFailed(f"transformers failed: {result['error']}") from result[
                    "error"
                ]
            ids = result["ids"][0][prompt_tokens:]
            produced = int(ids.shape[-1])
            ended = produced > 0 and int(ids[-1]) in self._eos
            reason = (
                "length" if produced >= options.max_tokens and not (stopped or ended) else "stop"
            )
            yield Finish(reason=reason, usage=Usage(prompt_tokens, produced))

    def close(self) -> None:
        with self._lock:
            self._model = None
            if self.device.startswith("cuda"):
                torch.cuda.empty_cache()
