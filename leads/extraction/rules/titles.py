"""Job titles: which words name a job, and the title (and company) a visitor gives for theirs.

"Head of Support at Brightwater", "Leiter Vertrieb bei der Kranich GmbH", "directora
financiera", "Founder & CEO of Lumen Pantry".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from leads.extraction import wordlists
from leads.extraction.rules.common import Found
from leads.extraction.rules.runs import TOKEN, Run, is_cap, run_at

TITLE_WORDS = wordlists.words("job_titles")
# German and Dutch join titles into one word: "Projektleiterin", "IT-Administrator".
TITLE_SUFFIXES = wordlists.ordered("title_suffixes")
_TITLE_CONNECTORS = wordlists.words("title_connectors")
# Titles that take a department: "Head of Sales" is a title, not Head at "Sales".
_DEPARTMENT_HEADS = wordlists.words("department_heads")
_TITLE_STOP = wordlists.words("title_stops")
# Where a title ends and the company begins: "Head of Support at Acme", "Leiter bei der X".
_PREP = re.compile(
    r"\s+(?:over at|at|@|bei der|bei dem|bei|beim|von der|chez|da|na|no|en|presso|bij|with)"
    r"\s+(?=[^\W\d_]*[A-ZÀ-Þ])"
)
_OF = re.compile(
    r"\s+(?:(?:of|de|di|du|van|del|della)\s+(?:l'|la\s+|le\s+)?|d'|de\s+l')(?=[A-ZÀ-Þ])"
)


def title_word(word: str) -> bool:
    """Whether `word` names a job: "Manager", "CEO", "Projektleiterin", "IT-Administrator"."""
    key = word.casefold().strip(".,()")
    if key in TITLE_WORDS:
        return True
    return any(key.endswith(s) and len(key) > len(s) + 2 for s in TITLE_SUFFIXES) or any(
        part in TITLE_WORDS for part in key.split("-")[1:]
    )


def is_title(run: Run | None) -> bool:
    """Whether a run of capitalised words is a job title ("Operations Manager"), not a name."""
    return run is not None and any(title_word(w) for w in run.words)


def title_at(text: str, pos: int) -> tuple[str, int, int] | None:
    """(title, start, end) of the job title at `pos`, in either case: "VP of Engineering",
    "directora financiera", "Teamleiterin Reservierung"."""
    words: list[str] = []
    end = pos
    for match in TOKEN.finditer(text, pos):
        if text[end : match.start()].strip():
            break
        word = match.group().rstrip(".")
        key = word.casefold()
        lower_title = words and not is_cap(words[0])
        if key in _TITLE_STOP or (
            (is_cap(words[0]) if words else False)
            and not (is_cap(word) or word.isupper() or key in _TITLE_CONNECTORS or title_word(word))
        ):
            break
        if not words and not (is_cap(word) or title_word(word) or key in ("senior", "junior")):
            # "a product manager at …": lowercase words up to a job word.
            ahead = [m.group().rstrip(".,") for m in TOKEN.finditer(text, match.start())][:4]
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


def role_and_company(text: str, pos: int, base: float) -> Iterator[Found]:
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
    title = title_at(title_text, 0)
    if title is None:
        return
    value, t_start, t_end = title
    if org_pos is not None and t_end >= len(title_text.rstrip()):
        org = run_at(text, org_pos, "org")
        if org is not None and not is_title(org):
            yield Found("company", org.text, org.start, org.end, base)
    yield Found("job_title", value, pos + t_start, pos + t_end, base)
