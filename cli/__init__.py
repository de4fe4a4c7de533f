"""The `newsbot` command line: one module per group of commands, `cli.main` ties them together."""
