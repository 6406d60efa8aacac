"""spec2net backends: numpy (the reference interpreter), keras and torch code generators."""
