"""Breakup Coach: the application (settings, storage, services, scheduler, Telegram wiring)."""
