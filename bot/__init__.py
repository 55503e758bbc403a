"""Shared code and knowledge of the conversation side (Rasa server, channels, action server)."""
