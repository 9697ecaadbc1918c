"""What of a model's writing reaches the visitor (pure: no Django): whole sentences, each
checked by the reply guard (leads/claims.py) before any of it is shown.

The model's text comes in as it streams; a sentence goes out once it is finished and passes
every check, so the widget never shows words that are later withdrawn. A sentence that fails
is kept back (`withheld`, with its reasons, for staff) and the rest stands; what a spent token
budget cut short mid-sentence is kept back too. At most `max_sentences` go
out: the reply stays within the Site's length.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from leads.claims import sentence_failures
from llm.sentences import sentence_ends

# A withheld sentence's reasons beyond the claims guard's (leads.claims.Failure).
UNFINISHED = "unfinished"  # the model never ended it
ASKS = "asks"  # a question where the product asks the questions
LONG = "long"  # more words than the part the model writes may have


@dataclass
class SentenceGate:
    visitor: str  # what the visitor wrote in the conversation
    passages: list[str]  # the Site's passages the reply was given
    language: str | None  # the visitor's (None: not checked)
    max_sentences: int
    asking: bool = True  # whether a sentence may ask something
    max_words: int | None = None  # a sentence's most words (None: any)
    passed: list[str] = field(default_factory=list)
    withheld: list[tuple[str, list[str]]] = field(default_factory=list)
    _buffer: str = ""

    @property
    def full(self) -> bool:
        return len(self.passed) >= self.max_sentences

    def feed(self, text: str) -> list[str]:
        """The sentences `text` finishes that may be said, in order."""
        self._buffer += text
        released, start = [], 0
        for end in sentence_ends(self._buffer):
            released += self._checked(self._buffer[start:end])
            start = end
        self._buffer = self._buffer[start:]
        return released

    def finish(self, *, ended: bool = True) -> list[str]:
        """The last sentence, when the model `ended` its text (a sentence it finished without
        a full stop is still whole) and it passes; what a spent token budget cut short is
        never said."""
        rest, self._buffer = self._buffer.strip(), ""
        if not rest or self.full:
            return []
        if ended:
            return self._checked(rest)
        self.withheld.append((rest, [UNFINISHED]))
        return []

    def _checked(self, sentence: str) -> list[str]:
        sentence = " ".join(sentence.split())  # a chat line: no line breaks inside a sentence
        if not sentence or self.full:
            return []
        failures: list[str] = [
            str(f)
            for f in sentence_failures(
                sentence, visitor=self.visitor, passages=self.passages, language=self.language
            )
        ]
        if not self.asking and sentence.rstrip("\"')»”").endswith("?"):
            failures.append(ASKS)
        if self.max_words is not None and len(sentence.split()) > self.max_words:
            failures.append(LONG)
        if failures:
            self.withheld.append((sentence, failures))
            return []
        self.passed.append(sentence)
        return [sentence]

    def again(self) -> SentenceGate:
        """A gate for the model's next try at the same part: what this one withheld stays
        on record."""
        return replace(self, passed=[], withheld=list(self.withheld), _buffer="")

    def withheld_record(self) -> list[dict[str, object]]:
        """The kept-back sentences as a reply stores them for staff."""
        return [{"sentence": s, "failures": f} for s, f in self.withheld]


def joined(sentences: Iterable[str], *, after: str = "") -> str:
    """`sentences` as they continue text `after` in a stream: one space between sentences."""
    out: list[str] = []
    for sentence in sentences:
        out.append(f" {sentence}" if after or out else sentence)
    return "".join(out)
