"""Form filling: checking and normalising the answers people give to form questions."""
