"""Subcommands of the kalshi-margin-stream CLI, one module each."""
