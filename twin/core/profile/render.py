"""The profile as text: ``profile.md`` for the user, and the persona lines for prompts (pure)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from twin.core.profile.model import KIND_TITLES, KINDS, PERSONA_ORDER, Fact

PERSONA_HEADER = "What I know about myself from my diaries:"

_STATUS_MARK = {"accepted": "✓", "edited": "✎", "proposed": "?", "rejected": "✗"}


def _where(path: str, root: str) -> str:
    if root:
        try:
            return os.path.relpath(path, root) if path.startswith(root) else path
        except ValueError:
            return path
    return path


def markdown(facts: Sequence[Fact], *, built_at: str = "", model: str = "", root: str = "") -> str:
    """The readable profile: facts by kind, each with its status, id, history and sources."""
    out = ["# My profile", ""]
    meta = ", ".join(p for p in (f"built {built_at}" if built_at else "", f"model {model}" if model else "") if p)
    if meta:
        out += [f"_{meta}. ✓ accepted · ✎ edited · ? proposed (review with `twin profile`)._", ""]
    for kind in KINDS:
        group = [f for f in facts if f.kind == kind]
        if not group:
            continue
        out += [f"## {KIND_TITLES[kind]}", ""]
        for f in group:
            rel = f" ({f.relation})" if f.relation else ""
            flag = " — *new entries say more*" if f.changed else ""
            out.append(f"- {_STATUS_MARK.get(f.status, '?')} **{f.subject}**{rel}: {f.statement} `{f.id}`{flag}")
            if len(f.history) > 1:
                for h in f.history:
                    span = h.first if h.first == h.last else f"{h.first} – {h.last}"
                    out.append(f"    - {span}: {h.statement}")
            cites = ", ".join(f"{s.date or 'undated'} {_where(s.path, root)}" for s in f.sources[:8])
            more = f" and {len(f.sources) - 8} more" if len(f.sources) > 8 else ""
            out.append(f"    - sources: {cites}{more}")
        out.append("")
    if len(out) <= 4:
        out.append("No facts yet: run `twin profile build`.")
    return "\n".join(out).rstrip() + "\n"


def persona_line(f: Fact) -> str:
    rel = f" ({f.relation})" if f.relation else ""
    return f"- {f.subject}{rel}: {f.statement}"


def persona_text(facts: Sequence[Fact], max_tokens: int, count: Callable[[str], int]) -> str:
    """Accepted and edited facts, most important kinds first, within ``max_tokens`` ("" if none fit)."""
    chosen = [f for f in facts if f.in_persona]
    chosen.sort(key=lambda f: (PERSONA_ORDER.index(f.kind), -len(f.sources), f.subject))
    if not chosen or max_tokens <= 0:
        return ""
    lines = [PERSONA_HEADER]
    used = count(PERSONA_HEADER + "\n")
    if used > max_tokens:
        return ""
    for f in chosen:
        line = persona_line(f)
        cost = count(line + "\n")
        if used + cost > max_tokens:
            continue  # a shorter fact further down may still fit
        lines.append(line)
        used += cost
    return "\n".join(lines) if len(lines) > 1 else ""


PERIOD_HEADER = "What held then, from my profile (dated; a later statement replaces an earlier one):"


def _span_text(first: str, until: str, last: str) -> str:
    if first and until:
        return f"from {first} until {until}"
    if first:
        return f"from {first}, last noted {last}" if last and last != first else f"noted {first}"
    return f"until {until}" if until else "undated"


def period_text(facts: Sequence[Fact], since: str, until: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """The accepted facts' statements that held in ``since``..``until`` (ISO dates, "" = open),
    each with its span, within ``max_tokens`` ("" when none held or fit).

    A fact with one statement shows the text the user accepted; one whose statement changed
    over time shows each statement of the period with its own span."""
    chosen = [f for f in facts if f.in_persona]
    chosen.sort(key=lambda f: (PERSONA_ORDER.index(f.kind), f.subject))
    lines = [PERIOD_HEADER]
    used = count(PERIOD_HEADER + "\n")
    for f in chosen:
        held = f.held_during(since, until)
        if not held:
            continue
        rel = f" ({f.relation})" if f.relation else ""
        for h in held:
            text = f.statement if len(f.history) == 1 else h.statement
            line = f"- {f.subject}{rel}: {text} ({_span_text(h.valid_from, h.valid_until, h.last)})"
            cost = count(line + "\n")
            if used + cost > max_tokens:
                continue
            lines.append(line)
            used += cost
    return "\n".join(lines) if len(lines) > 1 else ""
