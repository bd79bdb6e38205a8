"""GET /api/v1/audit/checkpoint: the latest signed checkpoint of the audit log, as text."""

from __future__ import annotations

from flask import Blueprint, g

from conduct.core.api_docs import documented
from conduct.core.permissions import requires

from .checkpoints import read_latest_checkpoint

blueprint = Blueprint("audit_checkpoint", __name__, url_prefix="/api/v1/audit")


CHECKPOINT_TEXT = {
    "type": "string",
    "description": "a signed note: the C2SP tlog-checkpoint body (origin, tree size, base64 "
    "root hash, one per line), an empty line, and the Ed25519 signature line (docs/audit.md)",
}


@blueprint.get("/checkpoint")
@documented(
    answer=CHECKPOINT_TEXT,
    media_type="text/plain",
    errors={404: "the log has no checkpoint yet"},
)
@requires("audit:read")
def latest_checkpoint():
    """The signed note (C2SP tlog-checkpoint body and Ed25519 signature line)."""
    note = read_latest_checkpoint(g.actor)
    return note, 200, {"Content-Type": "text/plain; charset=utf-8"}
