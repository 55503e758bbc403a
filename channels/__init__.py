"""Input channels of the Rasa server (the WeChat Official Account)."""
