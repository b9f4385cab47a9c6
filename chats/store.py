"""The conversation store: conversations, their turns and feedback, through SQLAlchemy."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from bot.models import Answer, Citation
from chats.models import Conversation, ConversationSummary, FeedbackItem, Rating, Turn

MAX_TITLE_CHARS = 200
MAX_COMMENT_CHARS = 4000


class ChatError(LookupError):
    """A conversation or turn that does not exist; the message names it."""


class ChatStoreError(RuntimeError):
    """The conversation database cannot be opened; the message says what to check."""


# Any fixed number: replicas starting together take this Postgres advisory lock so that only one of them
# creates the tables (two concurrent CREATE TABLEs of the same name fail on Postgres's catalog).
_SCHEMA_LOCK = 0x63697465626F74  # "citebot"


class _Base(DeclarativeBase):
    pass


class _ConversationRow(_Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE_CHARS))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    turns: Mapped[list[_TurnRow]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="_TurnRow.id"
    )


class _TurnRow(_Base):
    __tablename__ = "turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    abstained: Mapped[bool] = mapped_column(Boolean)
    engine: Mapped[str] = mapped_column(String(32))
    # The full citation objects as JSON: everything needed to show the answer again.
    citations: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    rating: Mapped[str | None] = mapped_column(String(8), nullable=True, index=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    rated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    conversation: Mapped[_ConversationRow] = relationship(back_populates="turns")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes; everything stored is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _rating(value: str | None) -> Rating | None:
    return "up" if value == "up" else "down" if value == "down" else None


def _turn(row: _TurnRow) -> Turn:
    return Turn(
        id=row.id, question=row.question, answer=row.answer, abstained=row.abstained, engine=row.engine,
        citations=[Citation.model_validate(c) for c in json.loads(row.citations)], created_at=_utc(row.created_at),
        rating=_rating(row.rating), comment=row.comment,
    )


def _title_from(question: str) -> str:
    one_line = " ".join(question.split())
    return one_line if len(one_line) <= 60 else one_line[:59].rstrip() + "…"


def clean_title(title: str) -> str:
    """A title on one line; ValueError when empty or too long."""
    one_line = " ".join(title.split())
    if not one_line:
        raise ValueError("title is empty")
    if len(one_line) > MAX_TITLE_CHARS:
        raise ValueError(f"title is {len(one_line)} characters long; the limit is {MAX_TITLE_CHARS}")
    return one_line


class ChatStore:
    """Conversations keyed by random ids; every method opens its own short transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ChatStoreError(
                f"CITEBOT_DATABASE_URL={url!r} is not a database URL; use e.g. sqlite:///path/citebot.db or "
                "postgresql+psycopg://user:password@host:5432/citebot"
            ) from exc
        # For messages: never print the password.
        self.location = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            # pool_pre_ping: a server database may restart under a running replica; a dead pooled
            # connection is replaced instead of failing the next request.
            self.engine: Engine = create_engine(url, pool_pre_ping=parsed.get_backend_name() != "sqlite")
        except (ArgumentError, ImportError) as exc:
            raise ChatStoreError(
                f"cannot use the conversation database {self.location}: {exc}. Check the driver part of "
                "CITEBOT_DATABASE_URL (postgresql+psycopg:// for Postgres, sqlite:/// for a file)."
            ) from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            with self.engine.begin() as conn:
                if self.engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
                _Base.metadata.create_all(conn)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise ChatStoreError(
                f"cannot open the conversation database {self.location}: {_first_line(exc)}. Check that the "
                "database server is running and CITEBOT_DATABASE_URL (host, port, user, password, database) "
                "is right; unset it to keep conversations in SQLite under CITEBOT_DATA_DIR."
            ) from exc
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def _get(self, s: Session, conversation_id: str) -> _ConversationRow:
        row = s.get(_ConversationRow, conversation_id)
        if row is None:
            raise ChatError(f"no conversation with id {conversation_id!r}")
        return row

    def create(self, title: str | None = None) -> ConversationSummary:
        """A new, empty conversation with a random id."""
        now = _now()
        row = _ConversationRow(id=secrets.token_urlsafe(16), title=clean_title(title) if title else "New chat",
                               created_at=now, updated_at=now)
        with self._session.begin() as s:
            s.add(row)
        return ConversationSummary(id=row.id, title=row.title, created_at=now, updated_at=now, turns=0)

    def get(self, conversation_id: str) -> Conversation:
        """The conversation with its turns; ChatError when unknown."""
        with self._session() as s:
            row = self._get(s, conversation_id)
            return Conversation(id=row.id, title=row.title, created_at=_utc(row.created_at),
                                updated_at=_utc(row.updated_at), turns=[_turn(t) for t in row.turns])

    def exists(self, conversation_id: str) -> bool:
        """Whether a conversation with this id is stored."""
        with self._session() as s:
            return s.get(_ConversationRow, conversation_id) is not None

    def summaries(self, ids: list[str] | None = None) -> list[ConversationSummary]:
        """Conversations, most recently used first; only `ids` when given."""
        count = select(func.count(_TurnRow.id)).where(_TurnRow.conversation_id == _ConversationRow.id)
        query = select(_ConversationRow, count.scalar_subquery()).order_by(_ConversationRow.updated_at.desc())
        if ids is not None:
            query = query.where(_ConversationRow.id.in_(ids))
        with self._session() as s:
            return [ConversationSummary(id=r.id, title=r.title, created_at=_utc(r.created_at),
                                        updated_at=_utc(r.updated_at), turns=n) for r, n in s.execute(query)]

    def rename(self, conversation_id: str, title: str) -> ConversationSummary:
        """Give the conversation a new title."""
        title = clean_title(title)
        with self._session.begin() as s:
            row = self._get(s, conversation_id)
            row.title = title
        return self.summaries([conversation_id])[0]

    def delete(self, conversation_id: str) -> None:
        """Remove the conversation, its turns and their feedback."""
        with self._session.begin() as s:
            s.delete(self._get(s, conversation_id))

    def add_turn(self, conversation_id: str, answer: Answer) -> Turn:
        """Record a question and the answer shown; the first question becomes the default title."""
        now = _now()
        with self._session.begin() as s:
            conv = self._get(s, conversation_id)
            if not conv.turns and conv.title == "New chat":
                conv.title = _title_from(answer.question)
            conv.updated_at = now
            row = _TurnRow(question=answer.question, answer=answer.answer, abstained=answer.abstained,
                           engine=answer.engine, created_at=now,
                           citations=json.dumps([c.model_dump() for c in answer.citations], ensure_ascii=False))
            conv.turns.append(row)
            s.flush()
            return _turn(row)

    def rate(self, conversation_id: str, turn_id: int, rating: Rating, comment: str | None = None) -> Turn:
        """Store 👍/👎 and an optional comment on one answer (a later rating replaces it)."""
        if comment is not None and len(comment) > MAX_COMMENT_CHARS:
            raise ValueError(f"comment is {len(comment)} characters long; the limit is {MAX_COMMENT_CHARS}")
        with self._session.begin() as s:
            row = s.get(_TurnRow, turn_id)
            if row is None or row.conversation_id != conversation_id:
                raise ChatError(f"conversation {conversation_id!r} has no turn {turn_id}")
            row.rating, row.rated_at = rating, _now()
            row.comment = (comment or "").strip() or None
            return _turn(row)

    def feedback(self, rating: Rating | None = None) -> list[FeedbackItem]:
        """Every rated answer (only `rating` when given), oldest first, each with the history before it."""
        query = select(_TurnRow).where(_TurnRow.rating.is_not(None)).order_by(_TurnRow.rated_at, _TurnRow.id)
        if rating is not None:
            query = query.where(_TurnRow.rating == rating)
        out: list[FeedbackItem] = []
        with self._session() as s:
            for row in s.scalars(query):
                conv = self.get(row.conversation_id)
                before = [t for t in conv.turns if t.id < row.id]
                turn = _turn(row)
                out.append(FeedbackItem(
                    conversation_id=row.conversation_id, turn_id=row.id, rating=turn.rating or "down",
                    comment=row.comment, rated_at=_utc(row.rated_at or row.created_at), question=row.question,
                    answer=row.answer, abstained=row.abstained, engine=row.engine, citations=turn.citations,
                    history=Conversation(id="", title="", created_at=conv.created_at, updated_at=conv.updated_at,
                                         turns=before).history(),
                ))
        return out


def _first_line(exc: SQLAlchemyError) -> str:
    # The driver's own message, without SQLAlchemy's multi-line background links.
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Foreign keys make deletes cascade; WAL lets the page read while an answer is being saved.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()
