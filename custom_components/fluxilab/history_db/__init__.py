"""The history database: sessions, audit, unknown cards and the history's documents.

HA-free (SQLAlchemy Core): ``schema.py`` the tables, ``migration.py`` the versioned
schema, ``database.py`` every query, run on the database's own worker thread,
``records.py`` the typed entries those queries return. The
history (access/history.py) is its only user.
"""

from .database import (
    AuditQuery,
    Checkpoint,
    HistoryDatabase,
    ImportBatch,
    ImportPrefixes,
    Loaded,
    SessionQuery,
    redact_url,
    sqlite_url,
)
from .migration import SchemaTooNewError
from .records import (
    AuditEntry,
    LiveAudit,
    LiveSession,
    MemberEntries,
    SessionRecord,
    UnknownCard,
)
from .schema import PERSONAL_FIELDS

__all__ = [
    "PERSONAL_FIELDS",
    "AuditEntry",
    "AuditQuery",
    "Checkpoint",
    "HistoryDatabase",
    "ImportBatch",
    "ImportPrefixes",
    "LiveAudit",
    "LiveSession",
    "Loaded",
    "MemberEntries",
    "SchemaTooNewError",
    "SessionQuery",
    "SessionRecord",
    "UnknownCard",
    "redact_url",
    "sqlite_url",
]
