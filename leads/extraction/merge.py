"""Settling each field from its candidates: staff have the last word, the visitor's corrections
supersede, confidence decides the rest."""

from __future__ import annotations

from dataclasses import dataclass, field

from leads.extraction.facts import Candidate, Value, same_value


@dataclass(frozen=True)
class Resolution:
    """What a conversation's candidates add up to.

    `values` holds each field's current value; `current[f]` the candidates behind it;
    `superseded[i] = j` says candidate j corrected candidate i; `conflicts` names fields where
    different values stand uncorrected side by side (the current one won on confidence).
    """

    candidates: list[Candidate]
    values: dict[str, Value] = field(default_factory=dict)
    current: dict[str, list[int]] = field(default_factory=dict)
    superseded: dict[int, int] = field(default_factory=dict)
    conflicts: set[str] = field(default_factory=set)


def resolve(candidates: list[Candidate]) -> Resolution:
    """Settle every field of `candidates` (from any extractor, in any order, except that staff
    corrections of one field come in the order they were made)."""
    result = Resolution(candidates=list(candidates))
    by_field: dict[str, list[int]] = {}
    for index, candidate in enumerate(result.candidates):
        by_field.setdefault(candidate.field, []).append(index)
    for name, indices in by_field.items():
        _resolve_field(result, name, indices)
    return result


def _resolve_field(result: Resolution, name: str, indices: list[int]) -> None:
    cands = result.candidates
    staff = [i for i in indices if cands[i].extractor == "staff"]
    if staff:
        # A rep's correction is never overwritten by what is read later, only by another rep's:
        # the last one made stands. Staff speak in no turn, so only their order tells.
        last = staff[-1]
        for j in indices:
            if j != last:
                result.superseded[j] = last
        result.current[name] = [last]
        value = cands[last].value
        if value is not None:  # None: staff cleared the field
            result.values[name] = value
        return
    order = sorted(indices, key=lambda i: (cands[i].turn, cands[i].position))
    live: list[list[int]] = []  # groups of candidates that say the same value
    for i in order:
        candidate = cands[i]
        if candidate.correction:
            # "sorry, my email is actually …": everything said before with another value goes.
            for group in [
                g for g in live if not same_value(name, cands[g[0]].value, candidate.value)
            ]:
                for j in group:
                    result.superseded[j] = i
                live.remove(group)
        for group in live:
            if same_value(name, cands[group[0]].value, candidate.value):
                group.append(i)
                break
        else:
            live.append([i])
    if not live:
        return
    if len(live) > 1:
        result.conflicts.add(name)

    def strength(group: list[int]) -> tuple[float, int, int]:
        latest = max(group, key=lambda i: (cands[i].turn, cands[i].position))
        return (max(cands[i].confidence for i in group), cands[latest].turn, cands[latest].position)

    winner = max(live, key=strength)
    result.values[name] = _best_spelling(cands, winner)
    result.current[name] = winner


def _best_spelling(cands: list[Candidate], group: list[int]) -> Value:
    """Of equal values ("acme corp" and "Acme Corp"), the one the surest extractor wrote."""
    best = max((cands[i] for i in group), key=lambda c: c.confidence)
    return best.value  # type: ignore[return-value]  # None is staff's, settled before this
