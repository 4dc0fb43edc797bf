"""Write a file atomically: a temporary file in the same folder, then ``os.replace``.

A reader (or a crash) never sees a half-written file: the path holds either the old
content or the new. Used for every file the grader writes: exercises, reports, results.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_bytes", "write_text"]


def write_bytes(path: Path | str, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` (creating its folder), permissions ``mode``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path | str, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` with ``text`` in UTF-8, ``\\n`` line ends kept as they are."""
    write_bytes(path, text.encode("utf-8"), mode)
