"""Citation-checked evaluation: answer accuracy, abstention, and ALCE-style citation recall and precision."""
