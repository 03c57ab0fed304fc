"""The local web app: read transcripts, review the machine's suggestions, apply codes.

It runs on the same library calls as the command line (the store's reads,
``apply_decisions``, ``undo_last``, ``next_segments``, ``project_matrix``). Start it with
``qualcode serve``; build it in code with :func:`qualcode.web.app.create_app`.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(*args, **kwargs):  # noqa: ANN002, ANN003, ANN201
    """See :func:`qualcode.web.app.create_app` (imported on use, so Flask loads only when needed)."""
    from qualcode.web.app import create_app as factory

    return factory(*args, **kwargs)
