"""citebot: answers about news articles, every claim cited to the passage it came from."""
