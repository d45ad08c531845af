"""qa: source-grounded extractive question answering."""
