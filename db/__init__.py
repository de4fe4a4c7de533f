"""Database plumbing shared by every store: how files are opened, migrated and closed."""
