"""The `qmcrawler` command: `main` makes the click group; one module per group of commands, one thin wrapper per library call."""
