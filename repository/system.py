"""Small facts about this machine that several stores need."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """True if a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
