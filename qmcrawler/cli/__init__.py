"""The `qmcrawler` command: `main` makes the click group; one module per group of commands.

Each command is a thin wrapper over one library call.
"""
