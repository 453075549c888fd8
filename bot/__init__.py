"""Concierge: a self-hosted customer-service bot for online shops."""

__version__ = "0.1.0"
