"""Who the visitor is: their name, job title and company, from how people introduce themselves.

"I'm Rachel Kim, Head of Support at Brightwater", "Katrin Vogel here", "mein Name ist …",
"Oliver Bennett, Operations Manager at Harrowgate Freight" in answer to "who am I speaking
with?". Names of other people ("my boss Rita Gomez") are never the visitor's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from leads.extraction.facts import Value
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
        "gérante",
        "gérant",
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
        "responsabile",
        "chef",
        "geschäftsführer",
        "geschäftsführerin",
        "inhaber",
        "inhaberin",
        "direttore",
        "direttrice",
        "diretor",
        "diretora",
        "directora",
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
        "paralegal",
        "professor",
        "lecturer",
        "technician",
        "master",
        "referent",
        "referentin",
        "berater",
        "beraterin",
        "sachbearbeiter",
        "sachbearbeiterin",
        "bedrijfsleider",
        "eigenaar",
        "directeur-eigenaar",
    ]
)
# German and Dutch join titles into one word: "Projektleiterin", "IT-Administrator".
_TITLE_SUFFIXES = (
    "leiter",
    "leiterin",
    "manager",
    "managerin",
    "administrator",
    "direktor",
    "direktorin",
    "referent",
    "referentin",
    "berater",
    "beraterin",
    "ingenieur",
    "ingenieurin",
    "chef",
    "chefin",
    "führer",
    "führerin",
    "verantwoordelijke",
    "medewerker",
    "coördinator",
)


def title_word(word: str) -> bool:
    """Whether `word` names a job: "Manager", "CEO", "Projektleiterin", "IT-Administrator"."""
    key = word.casefold().strip(".,()")
    if key in TITLE_WORDS:
        return True
    return any(key.endswith(s) and len(key) > len(s) + 2 for s in _TITLE_SUFFIXES) or any(
        part in TITLE_WORDS for part in key.split("-")[1:]
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
        "soy",
        "sou",
        "sono",
        "ich",
        "je",
        "this",
        "it's",
        "hier",
        "ici",
        "aqui",
        "chamo-me",
        "me",
        "mi",
        "mein",
        "my",
        "name's",
        "names",
        "real",
        "dear",
        "team",
        "all",
        "there",
        "everyone",
        "po",
        "mate",
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
_ORG_NOUN = re.compile(
    r"\b(?:company|business|firm|clinic|practice|agency|startup|start-up|shop|store|studio|"
    r"restaurant|school|organi[sz]ation|nonprofit|charity|brand|group|team|employer|chain|"
    r"café|cafe|bakery|salon|gym|hotel|firma|empresa|entreprise|bedrijf|azienda)"
    r"(?:\s+(?:is|is called|called|named))?\s*(?:[,:.]|\s[^\w\s]+)?\s+(?=[A-ZÀ-Þ])",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"&|\(?[^\s,;:!?()\"<>]+\)?")
_LEGAL = frozenset(
    [
        "pvt",
        "pte",
        "co",
        "inc",
        "ltd",
        "corp",
        "bros",
        "zn",
        "llc",
        "llp",
        "plc",
        "sa",
        "s.a",
        "s.a.s",
        "sas",
        "sl",
        "s.l",
        "gmbh",
        "ag",
        "kg",
        "bv",
        "b.v",
        "nv",
        "n.v",
        "pty",
        "sprl",
        "sarl",
        "srl",
        "s.r.l",
        "spa",
        "s.p.a",
        "lda",
        "ltda",
        "oy",
        "ab",
    ]
)
# Legal forms written as abbreviations keep their full stop: "Co.", "Pvt. Ltd.", "inc.".
_ABBREVIATED = frozenset(["pvt", "pte", "co", "inc", "ltd", "corp", "bros", "zn"])
# Where a title ends and the company begins: "Head of Support at Acme", "Leiter bei der X".
_PREP = re.compile(
    r"\s+(?:over at|at|@|bei der|bei dem|bei|beim|von der|chez|da|na|no|en|presso|bij|with)"
    r"\s+(?=[^\W\d_]*[A-ZÀ-Þ])"
)
_OF = re.compile(
    r"\s+(?:(?:of|de|di|du|van|del|della)\s+(?:l'|la\s+|le\s+)?|d'|de\s+l')(?=[A-ZÀ-Þ])"
)
# Titles that take a department: "Head of Sales" is a title, not Head at "Sales".
_DEPARTMENT_HEADS = frozenset(
    [
        "head",
        "vp",
        "svp",
        "evp",
        "director",
        "directora",
        "diretora",
        "directeur",
        "directrice",
        "chief",
        "jefe",
        "jefa",
        "manager",
        "lead",
        "gerente",
        "responsable",
        "responsabile",
        "coordinator",
        "coordinadora",
    ]
)
_TITLE_STOP = frozenset(
    [
        "and",
        "und",
        "et",
        "y",
        "e",
        "but",
        "aber",
        "mais",
        "pero",
        "ma",
        "mas",
        "here",
        "now",
        "too",
        "as",
        "well",
        "by",
        "who",
        "which",
        "and",
    ]
)


@dataclass(frozen=True)
class Found:
    field: str
    value: Value
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
    word = word.lstrip("(")
    return word[:1].isupper() or (word[:1] in "'’" and word[1:2].isupper())


def _run(text: str, pos: int, kind: str, max_words: int = 6) -> _Run | None:
    """The capitalised words (a name or a company) starting at `pos`."""
    words: list[str] = []
    start = end = -1
    punct = False
    connectors = _PARTICLES if kind == "name" else _ORG_CONNECTORS
    for match in _TOKEN.finditer(text, pos):
        word, w_start = match.group(), match.start()
        if text[end if end >= 0 else pos : w_start].strip():
            break  # punctuation came in between
        legal = kind == "org" and bool(words) and word.strip("().").casefold() in _LEGAL
        keeps_dot = legal and (
            "." in word.rstrip(".") or word.strip("().").casefold() in _ABBREVIATED
        )
        bare = word if keeps_dot or "." in word.rstrip(".") else word.rstrip(".")
        if not bare:
            break
        if kind == "name" and words and bare.casefold() in _PARTICLES:
            # "Daan de Vries", but "Stefanie Huber von der Alpenblick GmbH" is a name and a
            # company: a particle follows a first name only, and one surname follows it.
            if sum(_is_cap(w) for w in words) >= 2:
                break
        elif (
            kind == "name"
            and words
            and words[-1].casefold() in _PARTICLES
            and any(w.casefold() in _PARTICLES for w in words[:-1]) is False
            and _is_cap(bare)
        ):
            words.append(bare)
            end = w_start + len(bare)
            break
        if (
            legal
            or _is_cap(bare)
            or (kind != "name" and bare.isupper() and len(bare) > 1)
            or (bare.casefold() in connectors and words)
        ):
            words.append(bare)
        else:
            break
        if start < 0:
            start = w_start
        end = w_start + len(bare)
        if len([w for w in words if _is_cap(w)]) > max_words:
            return None
        nxt = text[match.end() : match.end() + 1]
        if (word.endswith(".") and bare != word) or nxt in ",;:!?)":
            punct = True
            break
        if legal:
            # A legal form ends the name, unless another follows: "Pvt. Ltd.", "(Pty) Ltd".
            rest = text[end:]
            following = _TOKEN.match(text, end + len(rest) - len(rest.lstrip()))
            if not following or following.group().strip("().,").casefold() not in _LEGAL:
                punct = word.endswith(".")
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
    if folded[0] in _NOT_NAMES or any(title_word(w) for w in run.words):
        return False
    return all(_is_cap(w) or w.casefold() in _PARTICLES for w in run.words)


def _is_title(run: _Run | None) -> bool:
    return run is not None and any(title_word(w) for w in run.words)


def _title(text: str, pos: int) -> tuple[str, int, int] | None:
    """(title, start, end) of the job title at `pos`, in either case: "VP of Engineering",
    "directora financiera", "Teamleiterin Reservierung"."""
    words: list[str] = []
    end = pos
    for match in _TOKEN.finditer(text, pos):
        if text[end : match.start()].strip():
            break
        word = match.group().rstrip(".")
        key = word.casefold()
        lower_title = words and not _is_cap(words[0])
        if key in _TITLE_STOP or (
            (_is_cap(words[0]) if words else False)
            and not (
                _is_cap(word) or word.isupper() or key in _TITLE_CONNECTORS or title_word(word)
            )
        ):
            break
        if not words and not (_is_cap(word) or title_word(word) or key in ("senior", "junior")):
            # "a product manager at …": lowercase words up to a job word.
            ahead = [m.group().rstrip(".,") for m in _TOKEN.finditer(text, match.start())][:4]
            if not any(title_word(w) for w in ahead[1:]):
                return None
        if lower_title and len(words) >= 5:
            break
        words.append(word)
        end = match.start() + len(word)
        if match.group().endswith(".") or text[match.end() : match.end() + 1] in ",;:!?()":
            break
    while words and words[-1].casefold() in _TITLE_CONNECTORS:
        words.pop()
        end = text.rfind(words[-1], pos, end) + len(words[-1]) if words else pos
    if not words or len(words) > 8 or not any(title_word(w) for w in words):
        return None
    return " ".join(words), pos, end


def _role_and_company(text: str, pos: int, base: float) -> Iterator[Found]:
    """ "Head of Support at Acme", "Leiter Vertrieb bei der Kranich GmbH", "CEO of Lumen"."""
    segment = re.split(r"[,;:!?]|\.(?:\s|$)", text[pos:], maxsplit=1)[0]
    prep = _PREP.search(segment)
    title_text, org_pos = segment, None
    if prep:
        title_text, org_pos = segment[: prep.start()], pos + prep.end()
    else:
        ofs = list(_OF.finditer(segment))
        if ofs:
            # "Founder & CEO of Lumen Pantry" splits at the last "of"; "Head of Sales" and
            # "VP of Engineering" do not: their "of" names a department.
            left = segment[: ofs[-1].start()]
            words = left.split()
            takes_department = 0 < len(words) <= 2 and words[-1].casefold() in _DEPARTMENT_HEADS
            if any(title_word(w) for w in words) and not takes_department:
                title_text, org_pos = left, pos + ofs[-1].end()
    title = _title(title_text, 0)
    if title is None:
        return
    value, t_start, t_end = title
    if org_pos is not None and t_end >= len(title_text.rstrip()):
        org = _run(text, org_pos, "org")
        if org is not None and not _is_title(org):
            yield Found("company", org.text, org.start, org.end, base)
    yield Found("job_title", value, pos + t_start, pos + t_end, base)


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
        run = _run(text, pos, "name")
        # "ich bin Kunde bei X": a word before "at"/"bei" is a role, unless the name was
        # announced ("my name is").
        role_like = (
            re.match(r"\s+(?:at|@|bei|chez|en|da|na|no|presso|bij)\s+[A-ZÀ-Þ]", text[run.end :])
            if run
            else None
        )
        if run is not None and _is_name(run) and (strong or not role_like):
            found.append(Found("name", run.text, run.start, run.end, 0.9 if strong else 0.8))
            tail = re.match(
                r"\s*,\s*(?:(?:and|und|et|y|e)\s+)?(?:(?:i'm|i am|ich bin|je suis|soy|sou|sono)"
                r"\s+(?:an?|the|la|el|o|a|der|die)?\s*)?",
                text[run.end :],
                re.IGNORECASE,
            )
            if tail:
                found.extend(_role_and_company(text, run.end + tail.end(), 0.8))
                _company_after(text, run.end + tail.end(), found)
            frm = re.match(
                r"\s+(?:from|of|at|with|von der|von|de la|de|da|do|van|bij)\s+(?=[A-ZÀ-Þ])",
                text[run.end :],
                re.IGNORECASE,
            )
            if frm:
                org = _run(text, run.end + frm.end(), "org")
                if org and not _is_title(org):
                    found.append(Found("company", org.text, org.start, org.end, 0.8))
        else:
            found.extend(_role_and_company(text, pos, 0.75))

    # "our COO here at Sable Creek", "I handle ops at Northern Lights": the visitor's company.
    for match in re.finditer(
        r"\b(?:here at|we(?:'re| are) at|we(?:'re| are) with|i'm with|i am with|"
        r"(?:i|we)\s+(?:work|handle|run|manage|lead|head|do|oversee|look after)\s+(?:\w+\s+){0,2}?"
        r"(?:at|for))\s+(?=[A-ZÀ-Þ])|^we(?:'re| are)\s+(?=[A-ZÀ-Þ])",
        text,
        re.IGNORECASE,
    ):
        org = _run(text, match.end(), "org")
        if org and not _is_title(org) and org.words[0].casefold() not in _NOT_NAMES:
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


_HERE = r"(?:here|hier|ici|aquí|aqui|qui)"


def _signed(text: str, pos: int, *, asked_name: bool) -> list[Found]:
    """A name at `pos` that the words after it mark as the visitor's: "Katrin Vogel here",
    "Wei Ling Tan from Orchid Pay here", "Nathaniel Brooks, VP of Engineering at …"."""
    run = _run(text, pos, "name")
    if run is None or not _is_name(run):
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
            org = _run(text, after + frm.end(), "org")
    else:  # "Wei Ling Tan from Orchid Pay here"
        frm = re.match(r"\s+(?:from|at|with|von der|von|bij|van)\s+(?=[A-ZÀ-Þ])", rest, re.I)
        if frm:
            candidate = _run(text, run.end + frm.end(), "org")
            if candidate and re.match(rf"\s+{_HERE}\b", text[candidate.end :], re.I):
                org, here = candidate, True  # type: ignore[assignment]
                after = candidate.end + len(
                    re.match(rf"\s+{_HERE}", text[candidate.end :], re.I).group()
                )  # type: ignore[union-attr]
    if org is not None and not _is_title(org):
        found.append(Found("company", org.text, org.start, org.end, 0.8))
        after = max(after, org.end)
    comma = re.match(r"\s*,\s*", text[after:])
    roles = list(_role_and_company(text, after + comma.end(), 0.8)) if comma else []
    titled = any(f.field == "job_title" for f in roles)
    if not (here or titled or asked_name) or (len(run.words) < 2 and not (here or asked_name)):
        return []
    found.append(Found("name", run.text, run.start, run.end, 0.85))
    found.extend(roles)
    if comma:
        _company_after(text, after + comma.end(), found)
    return found


def _company_after(text: str, pos: int, found: list[Found]) -> None:
    """ "soy José Núñez, de Conservas Ribera": a company right after the name."""
    match = re.match(r"(?:from|de|da|von|di|of)\s+(?=[A-ZÀ-Þ])", text[pos:], re.IGNORECASE)
    if match:
        org = _run(text, pos + match.end(), "org")
        if org and not _is_title(org):
            found.append(Found("company", org.text, org.start, org.end, 0.8))


def companies_named_after(text: str) -> Iterator[Found]:
    """ "our family business, Kessler & Sons", "for our clinic. Harbourside Physio, 3 …"."""
    for match in _ORG_NOUN.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()].casefold()
        if not re.search(
            r"\b(?:our|my|we(?:'re| are) an?|(?:i|we) (?:run|own|have) an?|the)\b", before
        ):
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


_SIGN_OFF = re.compile(
    r"^(?:cheers|thanks|thank you|many thanks|regards|kind regards|best regards|best|warm regards|"
    r"sincerely|br|mit freundlichen grüßen|viele grüße|beste grüße|lg|cordialement|bien à vous|"
    r"saludos|un saludo|atenciosamente|abraços|cordiali saluti|saluti|met vriendelijke groet|"
    r"groeten|-+|—)[,.!]?$",
    re.IGNORECASE,
)
_LABEL = re.compile(
    r"^\s*[-*•]?\s*(?P<label>name|full name|contact|company|organi[sz]ation|business|role|"
    r"title|job title|position|name des ansprechpartners|nom|nombre|nome|naam|firma|"
    r"unternehmen|société|entreprise|empresa|azienda|bedrijf|funktion|fonction|cargo|"
    r"ruolo|functie)\s*:\s*(?P<value>.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_LABEL_FIELD = {
    "name": "name",
    "full name": "name",
    "contact": "name",
    "nom": "name",
    "nombre": "name",
    "nome": "name",
    "naam": "name",
    "name des ansprechpartners": "name",
    "company": "company",
    "organization": "company",
    "organisation": "company",
    "business": "company",
    "firma": "company",
    "unternehmen": "company",
    "société": "company",
    "entreprise": "company",
    "empresa": "company",
    "azienda": "company",
    "bedrijf": "company",
}


def labelled(text: str) -> Iterator[Found]:
    """Facts in a form the visitor filled in: "Name: Ong Jun Hao", "Role: IT Manager"."""
    for match in _LABEL.finditer(text):
        label, value = match["label"].casefold(), match["value"].strip()
        if not re.search(
            r"\b(?:[A-Za-z]\.){2,}$|\b(?:" + "|".join(_ABBREVIATED) + r")\.$", value, re.IGNORECASE
        ):
            value = value.rstrip(".")  # "Fratelli Rossi S.p.A." keeps its full stop
        field = _LABEL_FIELD.get(label, "job_title")
        start = match.start("value")
        if field == "name":
            run = _run(text, start, "name")
            if run is not None and _is_name(run):
                yield Found("name", run.text, run.start, run.end, 0.9)
        elif field == "company":
            if value and _is_cap(value) and len(value.split()) <= 8:
                yield Found("company", value, start, start + len(value), 0.9)
        elif value and len(value.split()) <= 8 and any(title_word(w) for w in value.split()):
            yield Found("job_title", value, start, start + len(value), 0.9)


def signature(text: str) -> Iterator[Found]:
    """An email-style sign-off: "Cheers,\\nHamish Doyle\\nProcurement Lead | Thornbury Foods"."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for i, line in enumerate(lines[:-1]):
        if not _SIGN_OFF.match(line.strip()):
            continue
        name_line, start = lines[i + 1], offsets[i + 1]
        run = _run(name_line, 0, "name")
        if run is None or not _is_name(run) or run.end < len(name_line.rstrip(" ,")):
            continue
        yield Found("name", run.text, start + run.start, start + run.end, 0.85)
        if i + 2 < len(lines):
            role_line, role_start = lines[i + 2], offsets[i + 2]
            parts = re.split(r"\s*[|,–—/]\s*|\s+(?:at|@)\s+", role_line.strip(), maxsplit=1)
            title = _title(parts[0], 0)
            if title is not None and title[2] >= len(parts[0].rstrip()):
                yield Found("job_title", title[0], role_start, role_start + title[2], 0.85)
                if len(parts) > 1:
                    org_pos = role_start + role_line.index(parts[1])
                    org = _run(text, org_pos, "org")
                    if org is not None and not _is_title(org):
                        yield Found("company", org.text, org.start, org.end, 0.85)
