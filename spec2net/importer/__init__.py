"""spec2net import: a Keras 3 `.keras` (or legacy `.h5`) model file read into a spec and a weights file."""
