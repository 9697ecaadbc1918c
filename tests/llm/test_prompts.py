from __future__ import annotations

import pytest

from llm import ChatMessage
from llm.backends.fake import FakeLLM
from llm.chats import fold_system_prompt
from llm.prompts import USE_CASES, PromptError, render, template_text


@pytest.mark.parametrize("use_case", [u for u in USE_CASES if u != "reply_turn"])
def test_every_use_case_has_a_stored_template(use_case):
    assert "$company_name" in template_text(use_case)


def test_the_turn_note_holds_only_what_changes_from_turn_to_turn():
    note = template_text("reply_turn")
    assert "$known" in note and "$ask" in note
    system = template_text("qualification_reply")
    assert "$known" not in system and "$ask" not in system  # the system prompt stays the same


def test_a_family_variant_replaces_the_default():
    assert template_text("qualification_reply", "mistral") != template_text("qualification_reply")
    assert template_text("summary", "mistral") == template_text("summary")  # no variant


def test_render_fills_variables():
    text = render("summary", company_name="Acme")
    assert "Acme's assistant" in text and "$" not in text


def test_a_missing_variable_is_named():
    with pytest.raises(
        PromptError, match=r"needs company_description, reply_length; it was given company_name"
    ):
        render("qualification_reply", company_name="Acme")


def test_a_site_override_replaces_the_stored_text():
    assert render("summary", override="Short summary for $company_name.", company_name="A") == (
        "Short summary for A."
    )


def test_an_unknown_prompt_lists_the_known_ones():
    with pytest.raises(
        PromptError, match="known: qualification_reply, reply_turn, extraction, summary"
    ):
        render("haiku")


def test_mistral_family_folds_the_system_prompt_into_the_first_user_turn():
    chat = [ChatMessage("system", "Rules."), ChatMessage("user", "Hi"), ChatMessage("user", "Yo")]
    assert fold_system_prompt(chat) == [ChatMessage("user", "Rules.\n\nHi"), chat[2]]
    model = FakeLLM()
    model.template_family = "mistral"
    model.complete(chat)
    assert model.prompts[0][0] == ChatMessage("user", "Rules.\n\nHi")


def test_a_later_system_message_folds_into_the_user_turn_it_follows():
    chat = [
        ChatMessage("system", "Rules."),
        ChatMessage("user", "Hi"),
        ChatMessage("system", "Note 1."),
        ChatMessage("assistant", "Hello!"),
        ChatMessage("user", "Price?"),
        ChatMessage("system", "Note 2."),
    ]
    assert fold_system_prompt(chat) == [
        ChatMessage("user", "Rules.\n\nHi\n\nNote 1."),
        ChatMessage("assistant", "Hello!"),
        ChatMessage("user", "Price?\n\nNote 2."),
    ]


def test_a_system_message_after_an_assistant_turn_opens_the_next_user_turn():
    chat = [
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "Hello!"),
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "Price?"),
    ]
    assert fold_system_prompt(chat)[2:] == [ChatMessage("user", "Be brief.\n\nPrice?")]
