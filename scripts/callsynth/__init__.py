"""Call synthesis shared by the tests and the scripts: TTS speech and WAV helpers (``speech``), short two-party
calls (``shortcalls``) and record factories (``factories``). Importable from ``scripts/`` (a script's own folder is
on its path; pytest adds it through ``pythonpath`` in pyproject.toml)."""
