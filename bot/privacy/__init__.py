"""Personal data in the bot: redaction where text leaves a conversation, erasure, retention."""
