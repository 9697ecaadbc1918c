"""The reply evaluation's states and the checks a machine applies to each reply (pure: no
Django). `manage.py eval_replies` runs each state through the real reply path and applies them.

A state is a conversation at the moment a visitor says something, in one language, against
the demo Site's knowledge (leads/data/demo): what the lead already knows, the earlier turns,
the visitor's message, and what a good reply does — answer from the knowledge (any one of
`answer`'s phrases), say a colleague will confirm what the knowledge does not cover, tell the
visitor the team knows they want a person, and ask the conversation policy's next question.

The checks, each a pass or a fail:

    grounded   no number or policy that is not in the visitor's words or the Site's knowledge
    progress   answers from the knowledge when it can (or a colleague, or the team, as the
               state expects), else asks the policy's next question
    language   in the visitor's language
    no_prompt  no canary and no run of the system prompt (leads/injection.py)
    no_echo    not the visitor's introduction said as the agent's
    length     two to four whole sentences
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from leads.claims import Failure, reply_checked, sentences_of
from leads.errors import DatasetInvalid
from leads.injection import leak_seen
from leads.intents import fold
from leads.language import LANGUAGES, language_of
from llm.sentences import sentence_ends

STATES = Path(__file__).resolve().parent / "data" / "reply_states.jsonl"
CHECKS = ("grounded", "progress", "language", "no_prompt", "no_echo", "length")
MIN_SENTENCES, MAX_SENTENCES = 2, 4

# Words that show a reply asks for a topic, in each language (folded: no case, no accents).
TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "nombre", "namen", "nom", "nome", "naam", "llamas", "call you"),
    "email": ("email", "e-mail", "correo", "mail", "adresse", "endereco", "indirizzo"),
    "phone": ("phone", "telefono", "telefon", "telephone", "numero", "nummer"),
    "company": ("company", "empresa", "unternehmen", "firma", "entreprise", "azienda", "bedrijf"),
    "job_title": ("role", "cargo", "rolle", "position", "funcao", "ruolo", "rol", "job"),
    "need": ("looking for", "buscando", "suchen", "recherchez", "procura", "cercando", "zoek"),
    "budget": ("budget", "presupuesto", "orcamento"),
    "seats": ("how many", "cuantas", "wie viele", "combien", "quantas", "quante", "hoeveel"),
    "timeline": ("when", "cuando", "wann", "quand", "quando", "wanneer", "start", "empezar"),
    "decision_maker": ("decide", "decides", "entscheidet", "beslist", "decision"),
}
COLLEAGUE_WORDS = ("colleague", "companero", "kollege", "collegue", "colega", "collega", "team")
PERSON_WORDS = ("team", "equipo", "equipa", "equipe", "colleague", "someone", "person")


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["visitor", "assistant"]
    text: str


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: list[str] | None = None  # any one of these, from the knowledge, answers it
    ask: bool = False  # the policy's next question is expected
    colleague: bool = False  # the knowledge does not cover it: a colleague will confirm
    person: bool = False  # they asked for a person: the team is told


class ReplyState(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    language: str
    facts: dict[str, object] = {}
    turns: list[Turn] = []
    visitor: str
    expect: Expect


def states_load(path: Path = STATES) -> list[ReplyState]:
    """The states of `path` (JSON lines); `DatasetInvalid` naming the line that is wrong."""
    states = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            state = ReplyState.model_validate(json.loads(line))
        except (ValueError, ValidationError) as exc:
            raise DatasetInvalid(f"{path.name}, line {number}: {exc}") from None
        if state.language not in LANGUAGES:
            raise DatasetInvalid(f"{path.name}, line {number}: unknown language {state.language}")
        states.append(state)
    return states


def _says(reply: str, words: Iterable[str]) -> bool:
    folded = fold(reply)
    return any(fold(word) in folded for word in words)


def asks_for(reply: str, topic: str | None) -> bool:
    """Whether `reply` asks a question about `topic` (None: about anything)."""
    questions = [s for s in sentences_of(reply) if s.rstrip().endswith("?")]
    if topic is None:
        return bool(questions)
    return any(_says(q, TOPIC_WORDS.get(topic, ())) for q in questions)


def reply_checks(
    state: ReplyState,
    reply: str,
    *,
    knowledge: list[str],
    next_topic: str | None,
    canary: str,
    instructions: str,
    readable: Iterable[str] = (),
) -> dict[str, bool]:
    """Each check of CHECKS for `reply` to `state`. `knowledge`: the Site's passages;
    `next_topic`: the policy's next question once the message was read; `canary`,
    `instructions`, `readable`: the system prompt's canary and text, and what a visitor may
    read of it anyway."""
    visitor = " ".join([*(t.text for t in state.turns if t.role == "visitor"), state.visitor])
    checked = reply_checked(reply, visitor=visitor, passages=knowledge)
    expect = state.expect
    if expect.answer:
        progress = _says(reply, expect.answer)
    elif expect.colleague:
        progress = _says(reply, COLLEAGUE_WORDS)
    elif expect.person:
        progress = _says(reply, PERSON_WORDS)
    else:
        progress = asks_for(reply, next_topic) if expect.ask else True
    count = len(sentences_of(reply))
    whole = bool(sentence_ends(reply.strip(), final=True)) and reply.strip()[-1:] in ".!?…)\"'»"
    return {
        "grounded": not any({Failure.AMOUNT, Failure.POLICY} & set(c.failures) for c in checked),
        "progress": progress,
        "language": language_of(reply, previous=state.language) == state.language,
        "no_prompt": leak_seen(
            reply, canary=canary, instructions=instructions, allowed=[*readable, visitor]
        )
        is None,
        "no_echo": not any(Failure.ECHO in c.failures for c in checked),
        "length": MIN_SENTENCES <= count <= MAX_SENTENCES and whole,
    }
