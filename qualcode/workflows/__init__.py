"""Workflows: the library calls the CLI and the web app make, joining the store to the pure
coding and analysis modules (read from the store, compute, write back or return frames)."""
