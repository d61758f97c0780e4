"""Custom Rasa NLU components (GraphComponents). They run inside the Rasa environment: light imports only."""
