"""Dialogue policy: Rasa domain, intent flows, and the decision for each turn."""
