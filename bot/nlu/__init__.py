"""Natural-language understanding: sentence encoder, intent classifier, entity extractors."""
