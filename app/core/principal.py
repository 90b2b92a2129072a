"""Who is calling: resolved from the API key by app/http/auth.py, passed to every repository."""

from __future__ import annotations

from typing import NamedTuple


class Principal(NamedTuple):
    """The key, its workspace, and the mode its objects live in."""

    key_id: str
    workspace_id: str
    livemode: bool
