"""The class store's tables: a class, its students, their drawings. No migrations: three plain tables.

Written with SQLAlchemy Core, so the same tables live in SQLite (one machine) and PostgreSQL (several app
servers sharing one class). Times are seconds since the epoch (UTC), the same in both.
"""

from __future__ import annotations

from sqlalchemy import (
                        Boolean,
                        Column,
                        Float,
                        ForeignKey,
                        Integer,
                        LargeBinary,
                        MetaData,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
)

metadata = MetaData()

classes = Table(
    "vp_classes", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False, unique=True),  # the short join code students type
    Column("teacher_hash", String(64), nullable=False),  # sha256 of the teacher's secret (a long random token)
    Column("pin_hash", String(200)),  # a PIN the teacher chose, salted and stretched (keys.hash_pin); optional
    Column("activity", String(16), nullable=False),
    Column("labels", Text, nullable=False),  # JSON list: what the class is asked to draw
    Column("created_at", Float, nullable=False),
)

students = Table(
    "vp_students", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_id", Integer, ForeignKey("vp_classes.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("pseudonym", String(16), nullable=False),  # how exports and figures name a student
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the rejoin token
    Column("nickname", String(40), nullable=False, default=""),  # shown on the teacher's screen only
    Column("prompt", String(40)),  # the label this student is asked to draw now
    Column("joined_at", Float, nullable=False),
    UniqueConstraint("class_id", "pseudonym"),
)

drawings = Table(
    "vp_drawings", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_id", Integer, ForeignKey("vp_classes.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("student_id", Integer, ForeignKey("vp_students.id", ondelete="CASCADE"), nullable=False),
    # The client's id for this submission: a submit sent twice (a retry, a reload) is stored once.
    Column("submission_id", String(64), nullable=False),
    Column("label", String(40), nullable=False),  # the label the student was asked for
    Column("activity", String(16), nullable=False),
    Column("strokes", Text, nullable=False),  # JSON, as the canvas sends them: [{"points": [[x, y], ...], "width"}]
    Column("png", LargeBinary, nullable=False),  # the canvas' own 280x280 picture
    Column("created_at", Float, nullable=False),
    Column("hidden", Boolean, nullable=False, default=False),  # hidden by the teacher: left out of every figure
    UniqueConstraint("student_id", "submission_id"),
)

# A wrong PIN typed for a class, kept for ``store.PIN_WINDOW_S``: the store, not a server's memory, counts them, so
# the limit holds across the app servers that share a class.
pin_guesses = Table(
    "vp_pin_guesses", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_id", Integer, ForeignKey("vp_classes.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", Float, nullable=False),
)
