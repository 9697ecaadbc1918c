"""What a visitor's message asks of the agent (pure: no Django): the first step of composing
its reply, which decides what may answer it.

    abuse        insults and threats                   a calm line; nothing from the model
    person       "can I talk to someone?"              the team told; no question asked
    pricing      prices, plans, quotes                 only from the Site's knowledge
    policy       data, security, contracts, refunds    only from the Site's knowledge
    question     anything else asked                   from the Site's knowledge, or a colleague
    off_topic    weather, jokes, homework: not the Site's  said so, kindly
    detail       the visitor told something of theirs  acknowledged; the next question
    small_talk   greetings, thanks, "ok"               a greeting back; the next question

Word lists cover the languages of leads/language.py; a message matches on its words with case
and accents folded, so "¿Cuánto cuesta?" and "cuanto cuesta" are one question.
"""

from __future__ import annotations

import re
from enum import StrEnum

from leads.language import folded


class Intent(StrEnum):
    ABUSE = "abuse"
    PERSON = "person"
    PRICING = "pricing"
    POLICY = "policy"
    QUESTION = "question"
    OFF_TOPIC = "off_topic"
    DETAIL = "detail"
    SMALL_TALK = "small_talk"


def fold(text: str) -> str:
    """Lower case, accents off, one space between words."""
    return " ".join(re.findall(r"[\w'€$£%-]+|\?", folded(text)))


def _words(*alternatives: str) -> re.Pattern[str]:
    """A pattern matching any of `alternatives` (folded, regex allowed) as whole words."""
    return re.compile(r"(?<![\w])(?:" + "|".join(alternatives) + r")(?![\w])")


_ABUSE = _words(
    r"fuck\w*", r"shit\w*", r"idiot\w*", r"stupid", r"moron", r"bitch", r"asshole", r"dumb\w*",
    r"kill you", r"puta?", r"mierda", r"gilipollas", r"idiota", r"estupid[oa]", r"scheisse",
    r"arschloch", r"blod\w*", r"dumm\w*", r"merde", r"connard\w*", r"putain", r"crétin",
    r"porra", r"merda", r"stronz\w*", r"cazzo", r"klootzak", r"kut", r"stom\w*",
)  # fmt: skip
_PERSON = _words(
    r"(?:talk|speak|chat) (?:to|with) (?:a |an |the |your )?(?:human|person|someone|somebody|"
    r"sales\w*|rep\w*|agent|people|team|manager)",
    r"real person", r"human being", r"call me( back)?", r"contact me",
    r"hablar con (?:una persona|alguien|ventas|un humano|un agente|el equipo)",
    r"(?:mit )?(?:einem menschen|jemandem|dem vertrieb|einer person) (?:sprechen|reden)",
    r"ruckruf", r"rufen sie mich",
    r"parler (?:a|avec) (?:quelqu'un|un humain|une personne|un conseiller|un commercial)",
    r"rappelez-moi", r"falar com (?:alguem|uma pessoa|um humano|vendas)",
    r"parlare con (?:qualcuno|una persona|un operatore|un commerciale)",
    r"met (?:iemand|een mens|een medewerker) (?:spreken|praten)",
)  # fmt: skip
_PRICING = _words(
    r"price\w*", r"pricing", r"cost\w*", r"how much", r"quote", r"plans?", r"tiers?",
    r"discount\w*", r"licen[cs]e\w*", r"per (?:seat|user|month|year)", r"billing", r"invoice\w*",
    r"precios?", r"cuesta\w*", r"cuanto\w*", r"tarifa\w*", r"planes", r"descuento\w*",
    r"preis\w*", r"kosten?", r"kostet", r"wie ?viel", r"tarif\w*", r"rabatt\w*", r"lizenz\w*",
    r"prix", r"coute\w*", r"combien", r"abonnement\w*", r"remise", r"devis",
    r"precos?", r"custa\w*", r"quanto\w*", r"prezz\w*", r"costa\w*", r"sconto",
    r"prijs\w*", r"kost", r"hoeveel", r"korting",
)  # fmt: skip
_MONEY = re.compile(r"[€$£]|\b(?:eur|usd|gbp|euros?|dollars?)\b")
_POLICY = _words(
    r"data", r"gdpr", r"privacy", r"secur\w*", r"stored?", r"hosted?", r"hosting", r"servers?",
    r"residency", r"encrypt\w*", r"compliance", r"complian\w*", r"iso ?27001", r"soc ?2", r"hipaa",
    r"refunds?", r"cancel\w*", r"contracts?", r"terms", r"sla", r"uptime", r"warranty",
    r"guarantee\w*", r"dpa", r"cookies?", r"datos", r"rgpd", r"privacidad", r"seguridad",
    r"reembolso\w*", r"contrato\w*", r"cancelar", r"garantia", r"daten", r"dsgvo",
    r"datenschutz", r"sicherheit", r"kundig\w*", r"vertrag\w*", r"erstattung", r"gespeichert",
    r"donnees", r"confidentialite", r"securite", r"remboursement\w*", r"contrat\w*",
    r"resili\w*", r"heberge\w*", r"dados", r"seguranca", r"dati", r"sicurezza", r"rimborso",
    r"contratt\w*", r"disdett\w*", r"gegevens", r"avg", r"beveiliging", r"opzeg\w*",
    r"terugbetal\w*",
)  # fmt: skip
_ASKING = _words(
    r"what", r"how", r"do", r"does", r"did", r"can", r"could", r"is", r"are", r"which", r"when",
    r"where", r"why", r"will", r"would", r"should", r"who", r"que", r"como", r"cual\w*",
    r"cuando", r"donde", r"tienen", r"tiene", r"puedo", r"pueden", r"hay", r"was", r"wie",
    r"welche\w*", r"wann", r"wo", r"gibt", r"kann", r"konnen", r"haben", r"bieten", r"quoi",
    r"comment", r"quel\w*", r"quand", r"ou", r"est-ce", r"proposez", r"avez", r"pouvez",
    r"qual", r"quando", r"onde", r"tem", r"posso", r"che", r"come", r"quale", r"dove", r"avete",
    r"wat", r"hoe", r"welke", r"wanneer", r"waar", r"hebben", r"kan", r"kunnen",
)  # fmt: skip
# Subjects no Site sells, asked of sales assistants all the same; a question on anything else
# is the Site's to answer, or a colleague's when its knowledge does not cover it.
_OFF_TOPIC = _words(
    r"weather", r"jokes?", r"poems?", r"recipes?", r"homework", r"football", r"election\w*",
    r"president", r"meaning of life", r"write (?:me )?(?:a|an) (?:essay|story|song|poem)",
    r"who are you voting", r"clima", r"tiempo hace", r"chistes?", r"poemas?", r"recetas?",
    r"wetter", r"witz\w*", r"gedicht\w*", r"rezept\w*", r"meteo", r"blagues?", r"recettes?",
    r"tempo faz", r"piadas?", r"barzellett\w*", r"ricett\w*", r"weer", r"grap(?:je)?s?",
)  # fmt: skip
_SMALL_TALK = _words(
    r"hi", r"hello", r"hey", r"thanks?", r"thank you", r"ok(?:ay)?", r"cool", r"great", r"bye",
    r"good (?:morning|afternoon|evening)", r"how are you", r"hola", r"gracias", r"vale",
    r"adios", r"buen[oa]s(?: dias| tardes)?", r"hallo", r"danke\w*", r"tschuss",
    r"guten (?:tag|morgen)",
    r"bonjour", r"salut", r"merci", r"d'accord", r"au revoir", r"ola", r"obrigad[oa]", r"tchau",
    r"ciao", r"grazie", r"buongiorno", r"hoi", r"bedankt", r"dank (?:je|u)", r"doei",
)  # fmt: skip


def asks(text: str) -> bool:
    """Whether the message asks something: a question mark, or a question's first word."""
    folded = fold(text)
    if "?" in folded:
        return True
    first = folded.split(" ", 1)[0] if folded else ""
    return bool(_ASKING.fullmatch(first))


def classify(text: str, *, new_facts: bool = False, retrieved: bool = False) -> Intent:
    """What `text` asks of the agent. `new_facts`: the message gave facts the lead did not have
    (the extraction's rules, run as it was stored); `retrieved`: some of the Site's knowledge
    is about it (leads/services/retrieval.py)."""
    folded = fold(text)
    if _ABUSE.search(folded):
        return Intent.ABUSE
    if _PERSON.search(folded):
        return Intent.PERSON
    asking = asks(text)
    if _PRICING.search(folded) or (asking and _MONEY.search(folded)):
        return Intent.PRICING
    if _POLICY.search(folded) and (asking or retrieved):
        return Intent.POLICY
    if _OFF_TOPIC.search(folded) and not retrieved:
        return Intent.OFF_TOPIC
    if asking:
        return Intent.QUESTION
    if new_facts:
        return Intent.DETAIL
    if _SMALL_TALK.match(folded) and len(folded.split()) <= 4:
        return Intent.SMALL_TALK
    if retrieved:
        return Intent.QUESTION  # "We need SSO." asks, in its way, whether there is
    return Intent.DETAIL if len(folded.split()) > 3 else Intent.SMALL_TALK
