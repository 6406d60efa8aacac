"""The keras backend."""
