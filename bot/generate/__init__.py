"""The LLM engines: the prompt, the OpenAI-compatible and llama.cpp engines, and citation verification."""
