"""Telegram handlers, thin on purpose: parse the update -> ask the index (off the event loop)
-> render -> send. `bot.app.build_application` registers them."""
