"""Model folders built once and shared: made readable by every user before they are renamed into place."""

from __future__ import annotations

from pathlib import Path


def make_readable(folder: Path) -> None:
    """0755 for the folder, 0644 for its files: mkdtemp and some writers (safetensors) create them private, and a
    container builds its models as root for the user it runs as."""
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
