"""The web adapters: a FastAPI JSON API and a Gradio chat page, both thin over bot.answer."""
