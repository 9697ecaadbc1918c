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

import re
from dataclasses import dataclass, field

from leads.claims import sentences_of
from leads.intents import Intent
from leads.language import STOP_WORDS, folded
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
    handed: str = ""  # the lead is the team's now: the line that says so, closing the reply

    @property
    def model_ack(self) -> bool:
        return bool(self.ack_fallback)

    @property
    def rest(self) -> list[str]:
        """What the reply says after the model's acknowledgement (or its fallback)."""
        return [p for p in [*self.said, self.closing] if p]

    @property
    def closing(self) -> str:
        """The reply's last part: the next question, or the line that hands the lead over."""
        return self.asked or self.handed

    def parts(self, ack: str = "") -> list[str]:
        """The reply in parts, with the model's acknowledgement (already checked) where one
        fits, the fallback line where it was not written or did not pass."""
        first = (ack.strip() or self.ack_fallback) if self.model_ack else ""
        return [first, *self.rest] if first else self.rest

    def text(self, ack: str = "") -> str:
        return " ".join(self.parts(ack))


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", folded(text)) if len(w) > 1 and w not in STOP_WORDS}


def quote_of(text: str, *, question: str = "", sentences: int = QUOTE_SENTENCES) -> str:
    """What the reply quotes of a passage: of its sentences, the (at most `sentences`) that
    share most words with `question`, in the passage's order; its first ones when none do
    ("Do you sign a DPA?" quotes the passage's sentence on the DPA, not the two before)."""
    parts = sentences_of(text)
    asked = _content(question)
    shared = [len(asked & _content(part)) for part in parts]
    if len(parts) <= sentences or not any(shared):
        return " ".join(parts[:sentences])
    best = sorted(range(len(parts)), key=lambda i: (-shared[i], i))[:sentences]
    return " ".join(parts[i] for i in sorted(best) if shared[i])


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
    question: str = "",
) -> Plan:
    """What the reply to a message of `intent` states and asks. `passages`: (id, text) of the
    Site's knowledge retrieved for it, best first; `next_topic`: the policy's next question
    (None: nothing left to ask); `qualified`: the lead is handed to the team; `first`: the
    conversation's first message; `email_known`: the team can write back already; `question`:
    the message, whose words pick what of the passage is quoted."""
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
            quote = quote_of(best, question=question)
            lines.append(say("passage", language=language, site=site, quote=quote))
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
    handed = ""
    if qualified:
        handed, topic = say("qualified", language=language, site=site), None
    asked = ask(topic, language=language) if topic else ""
    return Plan(intent, language, lines, asked, topic, ack, used, note, handed)
