"""Use cases: a session and the content in, a plain result out. No Telegram objects here."""
