"""Sources beyond files: pages fetched from URLs and the entries of RSS/Atom feeds, saved as files for the pipeline."""
