"""The offline reader: question analysis on spaCy (expected answer type, constraints), candidate typing by NER,
ranking, the short answer, outlets and abstention with its reason; the extractive engine on top."""
