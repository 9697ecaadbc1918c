"""The language a visitor writes in, for replies in it (pure: no Django).

py3langid (langid.py's model, 4.6 MB, microseconds a message) restricted to the languages
the product's phrases are written in. A message too short to tell ("ok", "Hi", a name, an
email address) keeps the conversation's language; a greeting says its own. Below
`MIN_CONFIDENCE` the conversation's language stands too: a reply switching language on a
word it misread is worse than one staying in the visitor's.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

LANGUAGES = ("en", "es", "de", "fr", "pt", "it", "nl")
# As a prompt names them ("Reply in Spanish.").
NAMES = {
    "en": "English",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
}
DEFAULT = "en"
MIN_CONFIDENCE = 0.7
MIN_WORDS = 3
_WORD = re.compile(r"[^\W\d_]+")
_INVERTED = re.compile("[¿¡]")
# Greetings and thanks that name their language however short the message.
_SAID = {
    "en": ("hi", "hello", "hey", "thanks", "thank you", "good morning", "good afternoon"),
    "es": ("hola", "gracias", "buenos días", "buenas tardes", "buenas"),
    "de": ("hallo", "danke", "guten tag", "guten morgen", "moin", "servus"),
    "fr": ("bonjour", "salut", "merci", "bonsoir"),
    "pt": ("olá", "oi", "obrigado", "obrigada", "bom dia", "boa tarde"),
    "it": ("ciao", "grazie", "buongiorno", "buonasera", "salve"),
    "nl": ("hoi", "dank je", "dank u", "bedankt", "goedemorgen", "goedendag"),
}


@cache
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def _greeting_language(words: list[str]) -> str | None:
    said = " ".join(words[:2])
    for language, phrases in _SAID.items():
        if any(said == p or said.startswith(p + " ") or words[0] == p for p in phrases):
            return language
    return None


def language_of(text: str, *, previous: str | None = None) -> str:
    """The language of `text` (one of LANGUAGES), `previous` (the conversation's so far) when
    the text is too short or too unclear to tell, else DEFAULT."""
    fallback = previous if previous in LANGUAGES else DEFAULT
    words = [w.casefold() for w in _WORD.findall(text)]
    if not words:
        return fallback
    if len(words) < MIN_WORDS:
        return _greeting_language(words) or fallback
    if _INVERTED.search(text):  # "¿" and "¡" are Spanish alone
        return "es"
    language, confidence = _identifier().classify(text)
    return str(language) if confidence >= MIN_CONFIDENCE else fallback


def folded(text: str) -> str:
    """`text` in lower case without accents: "Español" reads as "espanol"."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in plain if not unicodedata.combining(c))


# Words every text has ("the", "de", "und", "est"), folded, from spaCy's lists for the
# languages replies are evaluated in: sharing only those says nothing of what two texts are about.
STOP_WORDS = frozenset(
    folded(word)
    for language in ("en", "es", "de", "fr")
    for word in importlib.import_module(f"spacy.lang.{language}.stop_words").STOP_WORDS
)
