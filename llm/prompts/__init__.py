"""Prompt templates per use case, stored as files, with per-family variants and overrides.

`llm/prompts/<use_case>.txt` is the default; `<use_case>.<family>.txt` (family: chatml,
mistral, llama3) replaces it for models of that family; a caller (a Site) may pass its own
text instead. Templates use `$name` placeholders; a missing variable is an error.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from llm.errors import InvalidOptions

FOLDER = Path(__file__).parent
USE_CASES = ("qualification_reply", "reply_turn", "extraction", "summary")


class PromptError(InvalidOptions):
    """A prompt template that is unknown or that lacks a variable."""


@cache
def template_text(use_case: str, family: str | None = None) -> str:
    """The stored template for `use_case`, the family's own variant when there is one."""
    if use_case not in USE_CASES:
        raise PromptError(f"unknown prompt {use_case!r}; known: {', '.join(USE_CASES)}")
    variant = FOLDER / f"{use_case}.{family}.txt"
    path = variant if family and variant.is_file() else FOLDER / f"{use_case}.txt"
    return path.read_text(encoding="utf-8").strip()


def render(
    use_case: str, *, family: str | None = None, override: str | None = None, **variables: object
) -> str:
    """Fill the template for `use_case` (or `override`, e.g. a Site's own) with `variables`."""
    text = override.strip() if override and override.strip() else template_text(use_case, family)
    template = string.Template(text)
    wanted = set(template.get_identifiers())
    missing = sorted(wanted - set(variables))
    if missing:
        raise PromptError(
            f"prompt {use_case!r} needs {', '.join(missing)}; "
            f"it was given {', '.join(sorted(variables)) or 'nothing'}"
        )
    if not template.is_valid():
        raise PromptError(
            f"prompt {use_case!r} has a malformed placeholder (use $name or ${{name}})"
        )
    return template.substitute({k: str(v) for k, v in variables.items()})
