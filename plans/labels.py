"""How actions and ratings are named in chat: one wording for every feature that shows them."""

from __future__ import annotations

from core.i18n import _
from plans.rag import rag_emoji, rag_label
from storage.plans import Action


def action_label(action: Action, width: int = 48) -> str:
    """'1.3 School Experience Programme' cut to a button's width."""
    text = " ".join((action.text or "").split())
    label = f"{action.ref} {text}".strip()
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


def rag_text(code: str | None) -> str:
    """'🟠 Amber', or '⚪ No change'."""
    if not code:
        return f"{rag_emoji(None)} {_('No change')}"
    return f"{rag_emoji(code)} {rag_label(code)}"
