"""Custom actions of the bot, served by the Rasa SDK action server (port 5055)."""
