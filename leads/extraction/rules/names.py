"""Who the visitor is: their name, job title and company, from how people introduce themselves.

"I'm Rachel Kim, Head of Support at Brightwater", "Katrin Vogel here", "mein Name ist …",
"Oliver Bennett, Operations Manager at Harrowgate Freight" in answer to "who am I speaking
with?". Names of other people ("my boss Rita Gomez") are never the visitor's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from leads.extraction import wordlists
from leads.extraction.facts import Value
from leads.extraction.nlp import Entity
from leads.extraction.rules.common import Found, about_someone_else, is_correction
from leads.extraction.rules.companies import company_after
from leads.extraction.rules.runs import NOT_NAMES, PARTICLES, Run, is_cap, run_at
from leads.extraction.rules.titles import is_title, role_and_company, title_word
from leads.extraction.text import Span

_ORG_PREPOSITIONS = r"at|@|with|bei(?: der| dem)?|beim|chez|da|na|no|en|presso|bij|from|von|de|for"
# Words by which people introduce themselves, before their name.
_INTRO = re.compile(
    r"(?:^|\b)(?P<strength>my name is|my name's|name is|name's|names|name:|mein name ist|"
    r"ich heiße|je m'appelle|mon nom est|me llamo|mi nombre es|me chamo|chamo-me|meu nome é|"
    r"mi chiamo|mijn naam is|ik heet|hier ist|hier spricht|aqui é|aqui fala|ici|"
    r"les escribe|te escribe|le escribe|vi scrive|this is|it's|i'm|i am|im|ich bin|je suis|"
    r"moi c'est|soy|sou|sono|ik ben|met)"
    r"\s+(?:(?:a|an|o|the|der|die|la|el|le|il|de)\s+(?=[^\W\d_]*[^\W\d_]))?",
    re.IGNORECASE,
)
_STRONG_INTRO = (
    "name",
    "heiße",
    "appelle",
    "mon nom",
    "llamo",
    "nombre",
    "chamo",
    "nome",
    "chiamo",
    "naam",
    "heet",
    "hier ist",
    "hier spricht",
    "escribe",
    "scrive",
)
_GREETING = re.compile(
    r"^(?:(?:hi|hello|hey|hallo|moin|servus|bonjour|salut|hola|olá|oi|ciao|yo|dear|"
    r"buongiorno|buenos días|buenas tardes|buenas|bom dia|boa tarde|guten tag|grüß gott|"
    r"good (?:morning|afternoon|evening)|morning|afternoon|g'day|goedemorgen|goedemiddag|"
    r"goedendag|dag|hoi|salve|buondì|hej|bonsoir|coucou|saludos|servus|grüezi|greetings|"
    r"kia ora|aloha|namaste|shalom|salaam|hallå|ahoj)"
    r"(?:\s+(?:there|all|team|po|mate|everyone|folks))?\W+)*",
    re.IGNORECASE,
)
_NAME_QUESTION = re.compile(
    r"your name|who (?:am i|i'm) (?:speaking|chatting|talking) (?:with|to)|who(?:'s| is) this|"
    r"who are you|wie heißen sie|ihr name|mit wem|votre nom|à qui|su nombre|cómo te llamas|"
    r"con quién|seu nome|com quem|come ti chiami|il tuo nome|uw naam|met wie",
    re.IGNORECASE,
)
_PAST = re.compile(
    r"\b(?:last|previous|former|old|prior|ex)\s+(?:job|role|company|employer|position)\b"
    r"|\bused to\b|\bformerly\b|\bbefore that\b|\bpreviously\b",
    re.IGNORECASE,
)


def is_name(run: Run | None, *, max_words: int = 4) -> bool:
    """Whether a run of capitalised words is a person's name: no greeting, pronoun or title."""
    if run is None or not 1 <= len(run.words) <= max_words:
        return False
    folded = [w.casefold() for w in run.words]
    if folded[0] in NOT_NAMES or any(title_word(w) for w in run.words):
        return False
    return all(is_cap(w) or w.casefold() in PARTICLES for w in run.words)


def people(sentence: Span, *, asked_name: bool, before_text: str) -> Iterator[Found]:
    """Name, job title and company the visitor states about themselves in one sentence.

    `asked_name`: the assistant just asked who they are, and this is the message's first
    sentence, so "Samuel Ortiz, samuel@…" is an answer.
    """
    text = sentence.text
    if _PAST.search(text):
        text = _PAST.split(text)[-1]  # "my last job at X. Now I'm …" keeps the present
        offset = sentence.text.rfind(text)
    else:
        offset = 0
    found: list[Found] = []
    correction = is_correction(before_text)

    # "Nathaniel Brooks, VP of Engineering at …" / "Katrin Vogel here, Head of …" /
    # "Wei Ling Tan from Orchid Pay here" at the start of a sentence (after a greeting).
    greeting = _GREETING.match(text)
    start = greeting.end() if greeting else 0
    # Also after a colon or a dash: "real talk: Kevin Tran, Growth Lead at Sprocket Labs".
    starts = [start] + [m.end() for m in re.finditer(r"[:—–]\s+|\s-\s+", text)]
    for pos in starts:
        found.extend(_signed(text, pos, asked_name=asked_name and pos == start))

    # "I'm X", "my name is X", "ich bin Leiter Vertrieb bei …", "I'm an Engineering Manager at"
    for intro in _INTRO.finditer(text):
        pos = intro.end()
        said = intro["strength"].casefold()
        if said in ("im", "ici", "it's", "met") and text[start : intro.start()].strip():
            continue  # "im Jahr" (German "in the"), "it's Monday": only at the start
        strong = any(s in said for s in _STRONG_INTRO)
        run = run_at(text, pos, "name")
        # "ich bin Kunde bei X": a word before "at"/"bei" is a role, unless the name was
        # announced ("my name is").
        role_like = (
            re.match(r"\s+(?:at|@|bei|chez|en|da|na|no|presso|bij)\s+[A-ZÀ-Þ]", text[run.end :])
            if run
            else None
        )
        if run is not None and is_name(run) and (strong or not role_like):
            found.append(Found("name", run.text, run.start, run.end, 0.9 if strong else 0.8))
            tail = re.match(
                r"\s*,\s*(?:(?:and|und|et|y|e)\s+)?(?:(?:i'm|i am|ich bin|je suis|soy|sou|sono)"
                r"\s+(?:an?|the|la|el|o|a|der|die)?\s*)?",
                text[run.end :],
                re.IGNORECASE,
            )
            if tail:
                found.extend(role_and_company(text, run.end + tail.end(), 0.8))
                company_after(text, run.end + tail.end(), found)
            frm = re.match(
                r"\s+(?:from|of|at|with|von der|von|de la|de|da|do|van|bij)\s+(?=[A-ZÀ-Þ])",
                text[run.end :],
                re.IGNORECASE,
            )
            if frm:
                org = run_at(text, run.end + frm.end(), "org")
                if org and not is_title(org):
                    found.append(Found("company", org.text, org.start, org.end, 0.8))
        else:
            found.extend(role_and_company(text, pos, 0.75))

    # "our COO here at Sable Creek", "I handle ops at Northern Lights": the visitor's company.
    for match in re.finditer(
        r"\b(?:here at|we(?:'re| are) at|we(?:'re| are) with|i'm with|i am with|"
        r"(?:i|we)\s+(?:work|handle|run|manage|lead|head|do|oversee|look after)\s+(?:\w+\s+){0,2}?"
        r"(?:at|for))\s+(?=[A-ZÀ-Þ])|^we(?:'re| are)\s+(?=[A-ZÀ-Þ])",
        text,
        re.IGNORECASE,
    ):
        org = run_at(text, match.end(), "org")
        if org and not is_title(org) and org.words[0].casefold() not in NOT_NAMES:
            found.append(Found("company", org.text, org.start, org.end, 0.7))

    seen: set[tuple[str, Value]] = set()
    for item in found:
        if (item.field, item.value) in seen:
            continue
        seen.add((item.field, item.value))
        yield Found(
            item.field,
            item.value,
            item.start + offset,
            item.end + offset,
            item.confidence,
            correction or is_correction(text[: item.start]),
        )


_HERE = r"(?:here|hier|ici|aquí|aqui|qui)"


def _signed(text: str, pos: int, *, asked_name: bool) -> list[Found]:
    """A name at `pos` that the words after it mark as the visitor's: "Katrin Vogel here",
    "Wei Ling Tan from Orchid Pay here", "Nathaniel Brooks, VP of Engineering at …"."""
    run = run_at(text, pos, "name")
    if run is None or not is_name(run):
        return []
    found: list[Found] = []
    rest = text[run.end :]
    after = run.end
    here = re.match(rf"\s+{_HERE}\b", rest, re.IGNORECASE)
    org = None
    if here:  # "Ciarán Murphy here from Dunmore Print Works"
        after = run.end + here.end()
        frm = re.match(r"\s+(?:from|at|with|von der|von|bij|van|de)\s+", text[after:], re.I)
        if frm:
            org = run_at(text, after + frm.end(), "org")
    else:  # "Wei Ling Tan from Orchid Pay here"
        frm = re.match(r"\s+(?:from|at|with|von der|von|bij|van)\s+(?=[A-ZÀ-Þ])", rest, re.I)
        if frm:
            candidate = run_at(text, run.end + frm.end(), "org")
            there = re.match(rf"\s+{_HERE}\b", text[candidate.end :], re.I) if candidate else None
            if candidate and there:
                org, here = candidate, there
                after = candidate.end + there.end()
    if org is not None and not is_title(org):
        found.append(Found("company", org.text, org.start, org.end, 0.8))
        after = max(after, org.end)
    comma = re.match(r"\s*,\s*", text[after:])
    roles = list(role_and_company(text, after + comma.end(), 0.8)) if comma else []
    titled = any(f.field == "job_title" for f in roles)
    if not (here or titled or asked_name) or (len(run.words) < 2 and not (here or asked_name)):
        return []
    found.append(Found("name", run.text, run.start, run.end, 0.85))
    found.extend(roles)
    if comma:
        company_after(text, after + comma.end(), found)
    return found


def asked_for_name(question: str) -> bool:
    """Whether the assistant's question asks who the visitor is."""
    return bool(_NAME_QUESTION.search(question))


# spaCy's patterns find a person by their honorific ("Dr. Anna Berg"): the name is what follows.
_HONORIFICS = "|".join(h.casefold().rstrip(".") for h in wordlists.ordered("honorifics"))
_HONORIFIC = re.compile(rf"^(?:{_HONORIFICS})\b\.?\s*", re.IGNORECASE)
_INTRO_BEFORE = re.compile(_INTRO.pattern + r"$", re.IGNORECASE)
_ORG_BEFORE = re.compile(
    rf"(?:\b(?:{_ORG_PREPOSITIONS})|here at|work (?:at|for))\s+$", re.IGNORECASE
)


def from_entities(sentence: Span, entities: list[Entity]) -> Iterator[Found]:
    """Names and companies spaCy recognised, where the sentence says they are the visitor's."""
    for entity in entities:
        if not sentence.start <= entity.start < sentence.start + len(sentence.text):
            continue
        start, end = entity.start - sentence.start, entity.end - sentence.start
        before = sentence.text[:start]
        if about_someone_else(before) or _PAST.search(before):
            continue
        if entity.label == "PERSON" and (_INTRO_BEFORE.search(before) or not before.strip()):
            name = _HONORIFIC.sub("", entity.text)
            if name and name.split()[0].casefold() not in NOT_NAMES:
                yield Found("name", name, end - len(name), end, 0.75)
        elif entity.label == "ORG" and _ORG_BEFORE.search(before):
            yield Found("company", entity.text, start, end, 0.75)
