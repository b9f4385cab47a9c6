"""The offline reader's steps: question analysis (expected answer type, constraints) on a real NLP pipeline."""
