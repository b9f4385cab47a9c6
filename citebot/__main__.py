"""`python -m citebot`: the same command as `citebot` (the background upgrade worker starts this way)."""

from citebot.cli import app

app()
