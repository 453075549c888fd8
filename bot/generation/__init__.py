"""Generative answers: model backends, retrieval-grounded prompts, the answer guard, training."""
