"""👎 answers as evaluation cases in the dev-set schema, for a person to label before `citebot eval` runs them."""

from __future__ import annotations

from typing import Any

from chats.models import FeedbackItem


def feedback_case(item: FeedbackItem) -> dict[str, Any]:
    """One dev-set line: `answerable` is left empty (null) and `answers`/`evidence` blank for a person to fill in.

    The answer that was given, its citations and the comment travel along so the person labelling sees what
    went wrong; `citebot eval` ignores them.
    """
    return {
        "id": f"feedback-{item.turn_id}",
        "question": item.question,
        "history": [m.model_dump() for m in item.history],
        "answerable": None,
        "answers": [],
        "evidence": [],
        "answer_given": item.answer,
        "citations_given": [c.model_dump() for c in item.citations],
        "engine_given": item.engine,
        "comment": item.comment,
        "conversation_id": item.conversation_id,
    }
