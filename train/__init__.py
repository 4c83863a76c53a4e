"""Training and evaluation of LLaVA-style models on scitune instruction data."""
