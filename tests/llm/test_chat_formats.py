"""The plain-text chat formats of backends without a template engine."""

from __future__ import annotations

import pytest

from llm import ChatMessage, InvalidOptions
from llm.chat_formats import format_chat, stop_strings

CHAT = [
    ChatMessage("system", "You sell seats."),
    ChatMessage("user", "Hi"),
    ChatMessage("assistant", "Hello! How many seats?"),
    ChatMessage("user", "Twelve."),
]


def test_mistral_folds_the_system_prompt_into_the_first_user_turn():
    assert format_chat("mistral", CHAT) == (
        "[INST] You sell seats.\n\nHi [/INST]Hello! How many seats?</s>[INST] Twelve. [/INST]"
    )


def test_mistral_without_a_system_prompt():
    assert format_chat("mistral", [ChatMessage("user", "Hi")]) == "[INST] Hi [/INST]"


def test_mistral_with_only_a_system_prompt_makes_it_the_turn():
    assert format_chat("mistral", [ChatMessage("system", "Greet.")]) == "[INST] Greet. [/INST]"


def test_chatml_keeps_every_role_and_opens_the_assistant_turn():
    assert format_chat("chatml", CHAT) == (
        "<|im_start|>system\nYou sell seats.<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello! How many seats?<|im_end|>\n"
        "<|im_start|>user\nTwelve.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


@pytest.mark.parametrize("family", ["mistral", "chatml", "llama3"])
def test_a_final_assistant_message_is_left_open_for_the_model_to_continue(family: str):
    begun = [*CHAT, ChatMessage("assistant", "Twelve seats cost")]
    assert format_chat(family, begun) == format_chat(family, CHAT) + "Twelve seats cost"


def test_llama3_keeps_every_role_and_opens_the_assistant_turn():
    assert format_chat("llama3", CHAT) == (
        "<|start_header_id|>system<|end_header_id|>\n\nYou sell seats.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello! How many seats?<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nTwelve.<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


@pytest.mark.parametrize(
    ("family", "stops"),
    [
        ("mistral", ("</s>", "[INST]")),
        ("chatml", ("<|im_end|>", "<|im_start|>")),
        ("llama3", ("<|eot_id|>", "<|start_header_id|>")),
    ],
)
def test_each_family_has_its_stop_strings(family, stops):
    assert stop_strings(family) == stops


@pytest.mark.parametrize(
    ("alias", "family"),
    [("mistral-instruct", "mistral"), ("llama-3", "llama3"), ("ChatML", "chatml")],
)
def test_llama_cpp_names_and_any_case_are_accepted(alias, family):
    assert format_chat(alias, CHAT) == format_chat(family, CHAT)


def test_an_unknown_family_is_invalid_and_lists_the_known_ones():
    with pytest.raises(InvalidOptions, match="unknown chat format 'alpaca'") as raised:
        format_chat("alpaca", CHAT)
    for known in ("chatml", "llama3", "mistral"):
        assert known in str(raised.value)
