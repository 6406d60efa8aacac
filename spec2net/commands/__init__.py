"""One module per command of the ``spec2net`` CLI (see spec2net.cli)."""
