"""Bundled sinks: where coaching lands (the terminal, the SQLite log)."""
