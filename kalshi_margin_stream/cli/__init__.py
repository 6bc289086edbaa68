"""The ``kalshi-margin-stream`` command: ``main`` dispatches to one module per subcommand."""

from .main import main

__all__ = ["main"]
