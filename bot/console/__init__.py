"""The support agent console: handoff queue, takeover, live chat, customer context, analytics.

Imports nothing at package level: :mod:`bot.config` reads :mod:`bot.console.settings`.
"""
