"""Who the visitor is: their name, job title and company, from how people introduce themselves.

"I'm Rachel Kim, Head of Support at Brightwater", "Katrin Vogel here", "mein Name ist …",
"Oliver Bennett, Operations Manager at Harrowgate Freight" in answer to "who am I speaking
with?". Names of other people ("my boss Rita Gomez") are never the visitor's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from leads.extraction.nlp import Entity
from leads.extraction.rules.common import about_someone_else, is_correction
from leads.extraction.text import Span

TITLE_WORDS = frozenset(
    [
        "manager",
        "head",
        "director",
        "directrice",
        "directeur",
        "lead",
        "leader",
        "cto",
        "ceo",
        "coo",
        "cfo",
        "cio",
        "cmo",
        "cso",
        "cpo",
        "vp",
        "svp",
        "evp",
        "president",
        "founder",
        "co-founder",
        "cofounder",
        "owner",
        "specialist",
        "officer",
        "engineer",
        "coordinator",
        "coordinadora",
        "coordinador",
        "coordenador",
        "coordenadora",
        "gerente",
        "leiter",
        "leiterin",
        "analyst",
        "consultant",
        "partner",
        "administrator",
        "admin",
        "architect",
        "developer",
        "designer",
        "executive",
        "chief",
        "principal",
        "associate",
        "assistant",
        "supervisor",
        "responsable",
        "chef",
        "geschäftsführer",
        "geschäftsführerin",
        "inhaber",
        "inhaberin",
        "direttore",
        "direttrice",
        "responsabile",
        "diretor",
        "diretora",
        "jefe",
        "jefa",
        "secretary",
        "accountant",
        "controller",
        "buyer",
        "recruiter",
        "scientist",
        "strategist",
        "marketer",
        "representative",
        "planner",
        "producer",
        "editor",
        "intern",
        "treasurer",
        "superintendent",
        "dean",
        "teacher",
        "nurse",
        "physician",
        "doctor",
        "dentist",
        "lawyer",
        "attorney",
        "professor",
        "lecturer",
        "technician",
        "master",
        "lead",
    ]
)
_NOT_NAMES = frozenset(
    [
        "here",
        "just",
        "looking",
        "interested",
        "also",
        "not",
        "the",
        "a",
        "an",
        "from",
        "in",
        "on",
        "at",
        "sorry",
        "hi",
        "hello",
        "hey",
        "ok",
        "okay",
        "yes",
        "no",
        "sure",
        "thanks",
        "thank",
        "happy",
        "good",
        "glad",
        "new",
        "back",
        "still",
        "calling",
        "writing",
        "reaching",
        "trying",
        "curious",
        "wondering",
        "based",
        "currently",
        "interested",
        "after",
        "with",
        "your",
        "our",
        "my",
        "we",
        "they",
        "it",
        "this",
        "that",
        "what",
        "when",
        "where",
        "how",
        "why",
        "who",
        "mr",
        "mrs",
        "ms",
        "dr",
        "herr",
        "frau",
        "monsieur",
        "madame",
        "señor",
        "señora",
        "senhor",
        "senhora",
        "signor",
        "signora",
        "email",
        "e-mail",
        "mail",
        "phone",
        "mobile",
        "cell",
        "tel",
        "call",
        "contact",
        "website",
        "i",
        "i'm",
        "i'd",
        "i'll",
        "i've",
        "im",
        "you",
        "he",
        "she",
        "we",
        "they",
        "it",
        "me",
        "him",
        "her",
        "them",
        "sie",
        "er",
        "es",
        "wir",
        "ihr",
        "elle",
        "il",
        "ils",
        "elles",
        "nous",
        "vous",
        "ella",
        "él",
        "ellos",
        "ellas",
        "nosotros",
        "ele",
        "ela",
        "eles",
        "elas",
        "nós",
        "lui",
        "lei",
        "loro",
        "noi",
        "zij",
        "hij",
        "wij",
    ]
)
_PARTICLES = frozenset(
    [
        "de",
        "da",
        "das",
        "do",
        "dos",
        "di",
        "du",
        "del",
        "della",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "ten",
        "le",
        "la",
        "bin",
        "al",
        "y",
    ]
)
_ORG_CONNECTORS = frozenset(
    [
        "&",
        "and",
        "und",
        "y",
        "e",
        "et",
        "of",
        "de",
        "del",
        "la",
        "le",
        "du",
        "des",
        "van",
        "von",
        "der",
        "di",
    ]
)
_TITLE_CONNECTORS = frozenset(
    ["of", "&", "and", "de", "du", "des", "of", "für", "for", "del", "di", "y", "e", "and"]
)
_ORG_PREPOSITIONS = r"at|@|with|bei(?: der| dem)?|beim|chez|da|na|no|en|presso|bij|from|von|de|for"
# Words by which people introduce themselves, before their name.
_INTRO = re.compile(
    r"(?:^|\b)(?P<strength>my name is|my name's|name is|mein name ist|ich heiße|"
    r"je m'appelle|mon nom est|me llamo|mi nombre es|me chamo|meu nome é|mi chiamo|"
    r"mijn naam is|ik heet|this is|i'm|i am|im|ich bin|je suis|moi c'est|soy|sou|sono|ik ben)"
    r"\s+(?:(?:a|an|o|the)\s+(?=[^\W\d_]*[A-ZÀ-Þ]))?",
    re.IGNORECASE,
)
_STRONG_INTRO = (
    "my name",
    "name is",
    "mein name",
    "heiße",
    "appelle",
    "mon nom",
    "llamo",
    "nombre",
    "chamo",
    "meu nome",
    "chiamo",
    "mijn naam",
    "heet",
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
_ORG_NOUN = re.compile(
    r"\b(?:company|business|firm|clinic|practice|agency|startup|start-up|shop|store|studio|"
    r"restaurant|school|organi[sz]ation|nonprofit|charity|brand|group|team|employer)"
    r"(?:\s+(?:is|is called|called|named))?\s*[,:.]\s+(?=[A-ZÀ-Þ])",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"&|[^\s,;:!?()\"<>]+")


@dataclass(frozen=True)
class Found:
    field: str
    value: str
    start: int
    end: int
    confidence: float
    correction: bool = False


@dataclass(frozen=True)
class _Run:
    words: list[str]
    start: int
    end: int
    stopped_at_punct: bool  # the run ended at a comma, a full stop or the like

    @property
    def text(self) -> str:
        return " ".join(self.words)


def _is_cap(word: str) -> bool:
    return word[:1].isupper() or (word[:1] in "'’" and word[1:2].isupper())


def _tokens(text: str, pos: int) -> Iterator[tuple[str, int, int, str]]:
    """(word, start, end, the character after it) from `pos` on."""
    for match in _TOKEN.finditer(text, pos):
        end = match.end()
        word = match.group()
        nxt = text[end : end + 1]
        yield word, match.start(), end, nxt


def _run(text: str, pos: int, kind: str, max_words: int = 6) -> _Run | None:
    """The capitalised words (a name, a title, a company) starting at `pos`."""
    words: list[str] = []
    start = end = -1
    punct = False
    connectors = {
        "name": _PARTICLES,
        "title": _TITLE_CONNECTORS,
        "org": _ORG_CONNECTORS,
    }[kind]
    for word, w_start, _w_end, nxt in _tokens(text, pos):
        if text[end if end >= 0 else pos : w_start].strip():
            break  # something else (punctuation) came in between
        bare = word.rstrip(".")
        dotted = "." in bare  # B.V, S.p.A: the full stop belongs to the word
        if word.endswith(".") and dotted:
            bare = word
        if not bare:
            break
        if (
            _is_cap(bare)
            or (kind != "name" and bare.isupper() and len(bare) > 1)
            or (bare.casefold() in connectors and words)
            or (kind == "title" and not words and bare.casefold() in ("senior", "junior"))
        ):
            words.append(bare)
        else:
            break
        if start < 0:
            start = w_start
        end = w_start + len(bare)
        if len([w for w in words if _is_cap(w)]) > max_words:
            return None
        if (word.endswith(".") and not dotted) or nxt in ",;:!?()":
            punct = True
            break
    while words and words[-1].casefold() in connectors:
        words.pop()  # "Acme and" is "Acme"
    if not words:
        return None
    end = start + len(text[start:end].rsplit(words[-1], 1)[0]) + len(words[-1])
    return _Run(words, start, end, punct)


def _is_name(run: _Run | None, *, max_words: int = 4) -> bool:
    if run is None or not 1 <= len(run.words) <= max_words:
        return False
    folded = [w.casefold() for w in run.words]
    if folded[0] in _NOT_NAMES or any(w in TITLE_WORDS for w in folded):
        return False
    return all(_is_cap(w) or w.casefold() in _PARTICLES for w in run.words)


def _is_title(run: _Run | None) -> bool:
    return run is not None and any(w.casefold() in TITLE_WORDS for w in run.words)


def _after(text: str, end: int) -> str:
    return text[end:].lstrip()


def _role_and_company(text: str, pos: int, base: float) -> Iterator[Found]:
    """ "Head of Support at Acme", "Leiter Vertrieb bei der Kranich GmbH", "CEO of Lumen"."""
    title = _run(text, pos, "title", max_words=8)
    if title is None or not _is_title(title):
        return
    words, title_end = title.words, title.end
    if not title.stopped_at_punct:
        prep = re.match(rf"\s+(?:{_ORG_PREPOSITIONS})\s+", text[title.end :], re.IGNORECASE)
        if prep:
            org = _run(text, title.end + prep.end(), "org")
            if org is not None and not _is_title(org):
                yield Found("company", org.text, org.start, org.end, base)
    elif len(words) > 2 and "of" in words:
        # "Founder & CEO of Lumen Pantry": the last "of" separates title and company when
        # what precedes it is a whole title and what follows is not a department.
        cut = len(words) - 1 - words[::-1].index("of")
        head, org_words = words[:cut], words[cut + 1 :]
        if (
            head
            and head[-1].casefold() in TITLE_WORDS
            and head[-1].casefold()
            not in (
                "head",
                "vp",
                "director",
                "manager",
                "lead",
            )
        ):
            words = head
            title_end = title.start + len(" ".join(head))
            org_start = text.find(org_words[0], title_end)
            yield Found("company", " ".join(org_words), org_start, title.end, base)
    yield Found("job_title", " ".join(words), title.start, title_end, base)


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
    lead = re.match(
        r"(?:(?:hi|hello|hey|hallo|bonjour|hola|olá|oi|ciao|good \w+)\W+)?", text, re.IGNORECASE
    )
    start = lead.end() if lead else 0
    run = _run(text, start, "name")
    if _is_name(run) and run is not None:
        rest = text[run.end :]
        here = re.match(r"\s+here\b|\s+(?:from|of|at|with)\s+(?=[A-ZÀ-Þ])", rest, re.IGNORECASE)
        org_then_here = None
        if here and "here" not in here.group().casefold():
            org = _run(text, run.end + here.end(), "org")
            if org and re.match(r"\s+here\b", text[org.end :], re.IGNORECASE):
                org_then_here = org
        if (len(run.words) >= 2 or asked_name) and (
            (here and ("here" in here.group().casefold() or org_then_here))
            or (
                rest.startswith(",")
                and _is_title(_run(text, run.end + 1 + _lead_ws(rest[1:]), "title"))
            )
            or asked_name
        ):
            found.append(Found("name", run.text, run.start, run.end, 0.85))
            if org_then_here:
                found.append(
                    Found(
                        "company", org_then_here.text, org_then_here.start, org_then_here.end, 0.8
                    )
                )
            after = run.end
            if org_then_here:
                after = org_then_here.end
            tail = re.match(r"(?:\s+here)?\s*,\s*", text[after:], re.IGNORECASE)
            if tail:
                found.extend(_role_and_company(text, after + tail.end(), 0.8))
                _company_after(text, after + tail.end(), found)

    # "I'm X", "my name is X", "ich bin Leiter Vertrieb bei …", "I'm an Engineering Manager at"
    for intro in _INTRO.finditer(text):
        pos = intro.end()
        strong = any(s in intro["strength"].casefold() for s in _STRONG_INTRO)
        run = _run(text, pos, "name")
        # "ich bin Kunde bei X": a word before "at"/"bei" is a role, unless the name was
        # announced ("my name is").
        role_like = (
            re.match(r"\s+(?:at|@|bei|chez|en|da|na|no|presso|bij)\s+[A-ZÀ-Þ]", text[run.end :])
            if run
            else None
        )
        if _is_name(run) and run is not None and (strong or not role_like):
            assert run is not None
            found.append(Found("name", run.text, run.start, run.end, 0.9 if strong else 0.8))
            tail = re.match(
                r"\s*,\s*(?:(?:and|und|et|y|e)\s+)?(?:(?:i'm|i am)\s+(?:an?|the)\s+)?",
                text[run.end :],
                re.IGNORECASE,
            )
            if tail:
                found.extend(_role_and_company(text, run.end + tail.end(), 0.8))
                _company_after(text, run.end + tail.end(), found)
            frm = re.match(r"\s+(?:from|of|at|with)\s+", text[run.end :], re.IGNORECASE)
            if frm:
                org = _run(text, run.end + frm.end(), "org")
                if org and not _is_title(org):
                    found.append(Found("company", org.text, org.start, org.end, 0.8))
        else:
            found.extend(_role_and_company(text, pos, 0.75))

    # "our COO here at Sable Creek", "we work at Acme": the visitor's company without a name.
    for match in re.finditer(
        r"\b(?:here at|we(?:'re| are) at|i work (?:at|for)|we work (?:at|for)|working (?:at|for)"
        r"|i'm with|we're with|i am with)\s+",
        text,
        re.IGNORECASE,
    ):
        org = _run(text, match.end(), "org")
        if org and not _is_title(org):
            found.append(Found("company", org.text, org.start, org.end, 0.7))

    seen: set[tuple[str, str]] = set()
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


def _company_after(text: str, pos: int, found: list[Found]) -> None:
    """ "soy José Núñez, de Conservas Ribera": a company right after the name."""
    match = re.match(r"(?:from|de|da|von|di|of)\s+(?=[A-ZÀ-Þ])", text[pos:], re.IGNORECASE)
    if match:
        org = _run(text, pos + match.end(), "org")
        if org and not _is_title(org):
            found.append(Found("company", org.text, org.start, org.end, 0.8))


def _lead_ws(text: str) -> int:
    return len(text) - len(text.lstrip())


def companies_named_after(text: str) -> Iterator[Found]:
    """ "our family business, Kessler & Sons", "for our clinic. Harbourside Physio, 3 …"."""
    for match in _ORG_NOUN.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()].casefold()
        if not re.search(r"\b(?:our|my|we(?:'re| are) an?|i run an?|i own an?|the)\b", before):
            continue
        org = _run(text, match.end(), "org")
        if org and not _is_title(org) and org.words[0].casefold() not in _NOT_NAMES:
            yield Found("company", org.text, org.start, org.end, 0.6)


def asked_for_name(question: str) -> bool:
    return bool(_NAME_QUESTION.search(question))


_HONORIFIC = re.compile(
    r"^(?:mr|mrs|ms|miss|dr|prof|herr|frau|monsieur|madame|mme|m|señor|señora|sr|sra|srta|"
    r"senhor|senhora|dona|signor|signora|sig|dott|dhr|mevr)\b\.?\s*",
    re.IGNORECASE,
)
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
            if name and name.split()[0].casefold() not in _NOT_NAMES:
                yield Found("name", name, end - len(name), end, 0.75)
        elif entity.label == "ORG" and _ORG_BEFORE.search(before):
            yield Found("company", entity.text, start, end, 0.75)
