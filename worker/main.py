"""`pivotal worker`: the webhook worker."""

from __future__ import annotations

import sys

from app.settings import Settings


def run_worker(settings: Settings) -> None:
    """Webhook delivery is not built yet: say so instead of pretending to run."""
    print('{"error": {"message": "webhook delivery is not available in this version"}}', file=sys.stderr)
    sys.exit(2)
