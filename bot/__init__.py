"""Telegram bot, CLI and settings: the application layer over index/ and corpus/."""
