"""A tiny rasa-sdk actions package, so the real-server test does not depend on the shop actions."""
