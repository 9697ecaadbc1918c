"""A reply's parts the product decides, from what the message asks (pure: no Django).

Given the message's intent (leads/intents.py), the visitor's language, the passages of the
Site's knowledge retrieved for it, and the conversation policy's next question, the plan says
what the reply states and asks, in the product's own words (leads/phrases.py) and the Site's
(its passages, quoted). What a model may add is one short acknowledgement, where one fits
(`model_ack`), checked by the claims guard before anyone sees it; a capable model may write the
answer itself within the same guard (the composer's business, not the plan's).

    abuse        the calm lines                        nothing asked
    person       the team is told                      their email, if unknown
    pricing,     the best passage, quoted              the next question
    policy,      (none: a colleague will confirm,      (their email first, when a colleague
    question      and staff get a note)                 must write back)
    off_topic    what the agent can help with          the next question
    detail       (an acknowledgement)                  the next question
    small_talk   a greeting (the first message)        the next question
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leads.claims import sentences_of
from leads.intents import Intent
from leads.phrases import ask, say

QUOTE_SENTENCES = 2  # of the best passage: the answer stays within the reply's four sentences


@dataclass(frozen=True)
class Plan:
    """The reply's parts, in order: `said` (sentences the product states), the room for a
    model's acknowledgement before them (`model_ack`), and `asked` (the closing question)."""

    intent: Intent
    language: str
    said: list[str] = field(default_factory=list)
    asked: str = ""
    asked_topic: str | None = None
    # Where a model may acknowledge in its own words, the line that stands when it does not
    # (or what it wrote failed the guard).
    ack_fallback: str = ""
    passage_ids: list[int] = field(default_factory=list)
    staff_note: str = ""  # for the team: a question the knowledge does not cover, a request

    @property
    def model_ack(self) -> bool:
        return bool(self.ack_fallback)

    def text(self, ack: str = "") -> str:
        """The reply, with the model's acknowledgement (already checked) where one fits."""
        first = (ack.strip() or self.ack_fallback) if self.model_ack else ""
        return " ".join(p for p in [first, *self.said, self.asked] if p)


def quote_of(text: str, *, sentences: int = QUOTE_SENTENCES) -> str:
    """The first `sentences` sentences of a passage, as the reply quotes it."""
    return " ".join(sentences_of(text)[:sentences])


def reply_plan(
    *,
    intent: Intent,
    language: str,
    site: str,
    passages: list[tuple[int, str]],
    next_topic: str | None,
    qualified: bool = False,
    first: bool = False,
    email_known: bool = False,
) -> Plan:
    """What the reply to a message of `intent` states and asks. `passages`: (id, text) of the
    Site's knowledge retrieved for it, best first; `next_topic`: the policy's next question
    (None: nothing left to ask); `qualified`: the lead is handed to the team; `first`: the
    conversation's first message; `email_known`: the team can write back already."""
    lines: list[str] = []
    note, topic, ack = "", next_topic, ""
    used: list[int] = []
    if intent is Intent.ABUSE:
        return Plan(intent, language, [say("abuse", language=language, site=site)])
    if intent is Intent.PERSON:
        lines.append(say("person", language=language, site=site))
        note = "The visitor asked to talk to a person."
        topic = next_topic if email_known else "email"
    elif intent in (Intent.PRICING, Intent.POLICY, Intent.QUESTION):
        if passages:
            best_id, best = passages[0]
            lines.append(say("passage", language=language, site=site, quote=quote_of(best)))
            used.append(best_id)
        else:
            lines.append(say("colleague", language=language, site=site))
            note = "The visitor asked something the Site's knowledge does not answer."
            topic = next_topic if email_known else "email"
    elif intent is Intent.OFF_TOPIC:
        lines.append(say("off_topic", language=language, site=site))
    elif intent is Intent.SMALL_TALK:
        key = "greeting" if first else "thanks"
        lines.append(say(key, language=language, site=site))
    else:  # a detail given: the model may acknowledge it in its own words
        ack = say("thanks", language=language, site=site)
    if qualified:
        lines.append(say("qualified", language=language, site=site))
        topic = None
    asked = ask(topic, language=language) if topic else ""
    return Plan(intent, language, lines, asked, topic, ack, used, note)
