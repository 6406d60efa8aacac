"""What generated modules import at run time: plain Python and NumPy (plus torch for the torch
runtime), nothing else of spec2net, so ``build --standalone`` can inline it."""
