"""spec2net graph: a picture of a model (SVG, Graphviz dot, self-contained HTML), laid out in Python."""
