"""The one table of what salesbot knows about a lead: every fact, and every topic asked about.

A *fact* is one value a lead holds (a `Lead` column, an extraction key): `budget_amount`. A
*topic* is what the assistant asks for and a rep edits as one thing: `budget`, which is an
amount and a currency. Everything that names, labels, orders, asks for, edits or exports them
reads this module — the models, the policy, the extraction, the dashboard, the CSV export —
so a new fact is added here once. No Django: the pure cores import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    """One value a lead holds."""

    name: str  # the Lead column, the extraction's key, the webhook's key
    label: str  # in the lead's history on the dashboard
    prompt_label: str  # how the reply prompt lists what is known
    # Scored by `eval_extraction`: free text (what they need) has no single right answer.
    evaluated: bool = True


@dataclass(frozen=True)
class Topic:
    """One thing the assistant asks for and a rep edits: one fact, or a few that go together."""

    name: str  # as a Site's `qualification_fields` spells it
    facts: tuple[str, ...]  # the facts a rep edits under it
    label: str  # on the dashboard's facts panel
    question: str  # the instruction that makes the assistant ask for it
    ask_rank: int  # where it comes in the default asking order
    # Facts that answer it, when more than its own do: any way to reach them answers "phone".
    answers: tuple[str, ...] = ()

    @property
    def answered_by(self) -> tuple[str, ...]:
        return self.answers or self.facts

    @property
    def edit_key(self) -> str:
        """How the dashboard's URLs name it: a topic of one fact is edited as that fact."""
        return self.facts[0] if len(self.facts) == 1 else self.name


# The facts, in the order the prompt, the webhook, the email and the evaluation list them.
FACTS: tuple[Fact, ...] = (
    Fact("name", "name", "name"),
    Fact("email", "email", "email"),
    Fact("phone", "phone", "phone"),
    Fact("company", "company", "company"),
    Fact("job_title", "job title", "role"),
    Fact("budget_amount", "budget amount", "budget"),
    Fact("budget_currency", "budget currency", "budget currency"),
    Fact("seats", "seats", "seats"),
    Fact("timeline_months", "timeline months", "months until they start"),
    Fact("is_decision_maker", "is decision maker", "decides on the purchase"),
    Fact("need", "need", "looking for", evaluated=False),
)

# The topics, in the order the dashboard shows them and the CSV export lists their facts.
TOPICS: tuple[Topic, ...] = (
    Topic("name", ("name",), "Name", "ask for their name", 1),
    Topic("email", ("email",), "Email", "ask for the best email address to reach them", 9),
    Topic(
        "phone",
        ("phone",),
        "Phone",
        "ask for a phone number, if they prefer a call",
        10,
        answers=("phone", "email"),
    ),
    Topic("company", ("company",), "Company", "ask which company they are with", 2),
    Topic("job_title", ("job_title",), "Role", "ask what their role is", 3),
    Topic("need", ("need",), "Looking for", "ask what they are looking for", 4),
    Topic(
        "budget",
        ("budget_amount", "budget_currency"),
        "Budget",
        "ask whether they have a budget in mind",
        6,
    ),
    Topic("seats", ("seats",), "Seats", "ask how many people would use it", 5),
    Topic(
        "timeline",
        ("timeline_months",),
        "Starts in (months)",
        "ask when they would like to get started",
        7,
    ),
    Topic(
        "decision_maker",
        ("is_decision_maker",),
        "Decision maker",
        "ask who decides on the purchase",
        8,
    ),
)

FACT_NAMES: tuple[str, ...] = tuple(f.name for f in FACTS)
# The facts `eval_extraction` scores and the model extractor's schema asks for.
EVALUATED_FACTS: tuple[str, ...] = tuple(f.name for f in FACTS if f.evaluated)
TOPIC_NAMES: tuple[str, ...] = tuple(t.name for t in TOPICS)
# A new Site asks in this order.
DEFAULT_QUALIFICATION_ORDER: tuple[str, ...] = tuple(
    t.name for t in sorted(TOPICS, key=lambda t: t.ask_rank)
)
# The facts of the CSV export, after its id and site.
EXPORT_FACTS: tuple[str, ...] = tuple(name for t in TOPICS for name in t.facts)

_FACTS = {f.name: f for f in FACTS}
_TOPICS = {t.name: t for t in TOPICS}
_BY_EDIT_KEY = {t.edit_key: t for t in TOPICS}


def topic(name: str) -> Topic:
    """The topic called `name` (a qualification field); KeyError names the known ones."""
    try:
        return _TOPICS[name]
    except KeyError:
        raise KeyError(f"unknown topic {name!r}; known: {', '.join(TOPIC_NAMES)}") from None


def editable() -> dict[str, tuple[str, ...]]:
    """What a rep edits on the dashboard: each topic's edit key and its facts, in table order."""
    return {t.edit_key: t.facts for t in TOPICS}


def topic_by_edit_key(key: str) -> Topic | None:
    return _BY_EDIT_KEY.get(key)


def fact_label(name: str) -> str:
    """How staff read a fact ("job title"); an unknown name is shown as it is."""
    known = _FACTS.get(name)
    return known.label if known is not None else name


def prompt_label(name: str) -> str:
    """How the reply prompt lists a fact ("role"); an unknown name is listed as it is."""
    known = _FACTS.get(name)
    return known.prompt_label if known is not None else name


def _check() -> None:
    # A typo in the table would surface as a missing value far away; fail at import instead.
    for t in TOPICS:
        unknown = [name for name in (*t.facts, *t.answers) if name not in _FACTS]
        if unknown:
            raise ValueError(f"topic {t.name!r} names unknown facts {unknown}")
    covered = {name for t in TOPICS for name in t.facts}
    if covered != set(FACT_NAMES):
        raise ValueError(f"facts no topic edits: {sorted(set(FACT_NAMES) - covered)}")
    if sorted(t.ask_rank for t in TOPICS) != list(range(1, len(TOPICS) + 1)):
        raise ValueError("topic ask ranks must be 1..n, each once")


_check()
