"""The spec2net grammar, installed as the ``spec2net.grammar`` package data."""
