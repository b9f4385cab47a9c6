"""The bot: retrieval, follow-up resolution, answer engines and citation checking."""
