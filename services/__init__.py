"""Application services: everything the bot and the command line share, without Telegram."""
