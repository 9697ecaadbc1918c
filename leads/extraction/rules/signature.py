"""An email-style sign-off: the name under "Cheers," and the title and company under it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from leads.extraction.rules.common import Found
from leads.extraction.rules.names import is_name
from leads.extraction.rules.runs import run_at
from leads.extraction.rules.titles import is_title, title_at

_SIGN_OFF = re.compile(
    r"^(?:cheers|thanks|thank you|many thanks|regards|kind regards|best regards|best|warm regards|"
    r"sincerely|br|mit freundlichen grüßen|viele grüße|beste grüße|lg|cordialement|bien à vous|"
    r"saludos|un saludo|atenciosamente|abraços|cordiali saluti|saluti|met vriendelijke groet|"
    r"groeten|-+|—)[,.!]?$",
    re.IGNORECASE,
)


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
        run = run_at(name_line, 0, "name")
        if run is None or not is_name(run) or run.end < len(name_line.rstrip(" ,")):
            continue
        yield Found("name", run.text, start + run.start, start + run.end, 0.85)
        if i + 2 < len(lines):
            role_line, role_start = lines[i + 2], offsets[i + 2]
            parts = re.split(r"\s*[|,–—/]\s*|\s+(?:at|@)\s+", role_line.strip(), maxsplit=1)
            title = title_at(parts[0], 0)
            if title is not None and title[2] >= len(parts[0].rstrip()):
                yield Found("job_title", title[0], role_start, role_start + title[2], 0.85)
                if len(parts) > 1:
                    org_pos = role_start + role_line.index(parts[1])
                    org = run_at(text, org_pos, "org")
                    if org is not None and not is_title(org):
                        yield Found("company", org.text, org.start, org.end, 0.85)
