"""Liveness and readiness probes for load balancers. Open to everyone; they touch no case."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select, text

from conduct.crypto import CryptoError, current_vault
from conduct.crypto.models import DataKey

from .api_docs import documented
from .db import db
from .schemas import HealthOut, ReadinessOut

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
@documented(answer=HealthOut)
def healthz():
    """Alive: the process answers."""
    return jsonify(HealthOut().dump({"status": "ok"}))


@blueprint.get("/readyz")
@documented(answer=ReadinessOut, also={503: "not ready: `checks` names the check that failed"})
def readyz():
    """Ready: the database answers and the keys open what the database holds."""
    checks = {"database": "ok", "keys": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        current_app.logger.warning("readiness: database unreachable")
        checks["database"] = "unavailable"
    else:
        try:
            sample = db.session.scalars(select(DataKey).limit(1)).first()
            if sample is not None:
                current_vault().data_key(db.session, sample.case_id)
        except CryptoError:
            current_app.logger.warning("readiness: the KEK does not open the database's keys")
            checks["keys"] = "wrong"
        except Exception:
            db.session.rollback()
            current_app.logger.warning("readiness: schema not ready")
            checks["database"] = "not_migrated"
    ready = all(value == "ok" for value in checks.values())
    answer = {"status": "ready" if ready else "not_ready", "checks": checks}
    return jsonify(ReadinessOut().dump(answer)), 200 if ready else 503
