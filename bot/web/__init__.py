"""The bot's web files: the demo page, the widget script and styles, product pictures."""
