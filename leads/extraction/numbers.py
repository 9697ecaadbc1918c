"""Numbers as visitors write them: digits with any grouping, number words, and multipliers."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Number words of the languages the rules read, 0-20 and the tens; compounds are summed
# ("twenty-five", "vingt-cinq"); enough for seats and months, which is where words appear.
_WORDS: dict[str, int] = {}
for _lang in (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty",
    "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn "
    "fünfzehn sechzehn siebzehn achtzehn neunzehn zwanzig",
    "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze "
    "seize dix-sept dix-huit dix-neuf vingt",
    "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
    "dieciséis diecisiete dieciocho diecinueve veinte",
    "zero um dois três quatro cinco seis sete oito nove dez onze doze treze catorze quinze "
    "dezesseis dezessete dezoito dezenove vinte",
    "zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici "
    "quattordici quindici sedici diciassette diciotto diciannove venti",
    "nul een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien "
    "vijftien zestien zeventien achttien negentien twintig",
):
    for _value, _word in enumerate(_lang.split()):
        _WORDS.setdefault(_word, _value)
_WORDS.update({"une": 1, "una": 1, "uma": 1, "één": 1, "a": 1, "an": 1})
for _value, _words in {
    30: "thirty dreißig trente treinta trinta trenta dertig",
    40: "forty vierzig quarante cuarenta quarenta quaranta veertig",
    50: "fifty fünfzig cinquante cincuenta cinquenta cinquanta vijftig",
    60: "sixty sechzig soixante sesenta sessenta sessanta zestig",
    70: "seventy siebzig septante setenta settanta zeventig",
    80: "eighty achtzig huitante ochenta oitenta ottanta tachtig",
    90: "ninety neunzig nonante noventa novanta negentig",
    100: "hundred hundert cent cien cem cento honderd",
    12: "dozen",
}.items():
    for _word in _words.split():
        _WORDS[_word] = _value

NUMBER_WORD = (
    r"(?:"
    + "|".join(sorted((re.escape(w) for w in _WORDS if len(w) > 2), key=len, reverse=True))
    + r")(?:[- ](?:"
    + "|".join(sorted((re.escape(w) for w in _WORDS if len(w) > 2), key=len, reverse=True))
    + r"))?"
)
# A count in digits ("1,200") or words ("twenty-five"); used inside larger patterns.
COUNT = rf"(?:\d{{1,3}}(?:[,.  ]\d{{3}})+|\d+|{NUMBER_WORD})"


def count_value(text: str) -> int | None:
    """The integer a count spells: "32", "1,200", "twenty-five", "vingt-cinq"."""
    text = text.strip().casefold()
    digits = re.sub(r"[,.  ]", "", text)
    if digits.isdigit():
        return int(digits)
    total = 0
    for part in re.split(r"[- ]", text):
        if part not in _WORDS:
            return None
        total += _WORDS[part]
    return total


_MULTIPLIERS = {
    "k": 1_000,
    "thousand": 1_000,
    "mil": 1_000,
    "mille": 1_000,
    "tsd": 1_000,
    "tausend": 1_000,
    "m": 1_000_000,
    "mm": 1_000_000,
    "mn": 1_000_000,
    "million": 1_000_000,
    "millions": 1_000_000,
    "mio": 1_000_000,
    "millones": 1_000_000,
    "milhões": 1_000_000,
    "milioni": 1_000_000,
    "grand": 1_000,
    "lakh": 100_000,
    "lakhs": 100_000,
    "lac": 100_000,
    "crore": 10_000_000,
    "crores": 10_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
MULTIPLIER = (
    r"(?:" + "|".join(sorted(map(re.escape, _MULTIPLIERS), key=len, reverse=True)) + r")\b\.?"
)


def amount_value(number: str, multiplier: str | None = None) -> Decimal | None:
    """The amount "20.000", "15 000", "1,200.50", "7.5" with "k" and the like spell."""
    text = re.sub(r"[  ]", " ", number.strip())
    if re.fullmatch(r"\d{1,2}(?:,\d{2})+,\d{3}", text):
        plain = text.replace(",", "")  # Indian grouping: 3,50,000
    elif re.fullmatch(r"\d{1,3}(?:([,. '])\d{3})+", text):
        plain = re.sub(r"[,. ']", "", text)  # grouping only: 20.000, 1,200, 15 000, 30'000
    elif re.fullmatch(r"\d{1,3}(?:,\d{3})+\.\d{1,2}|\d+\.\d{1,2}", text):
        plain = text.replace(",", "")  # 1,200.50 or 7.5
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d{1,2}|\d+,\d{1,2}", text):
        plain = text.replace(".", "").replace(",", ".")  # 1.200,50 or 7,5
    elif re.fullmatch(r"\d+", text):
        plain = text
    else:
        return None
    try:
        value = Decimal(plain)
    except InvalidOperation:
        return None
    if multiplier:
        value *= _MULTIPLIERS[multiplier.casefold().rstrip(".")]
    return Decimal(int(value)) if value == value.to_integral() else value
