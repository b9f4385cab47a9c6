"""Support and coverage judging: does a passage back a statement, or answer a question? Shared by the reader,
the generative engines' verification and the evaluation."""
