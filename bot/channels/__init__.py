"""Input channels: where shoppers' messages come from and where replies go."""
