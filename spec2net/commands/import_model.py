"""spec2net import MODEL.keras -o OUT.net [--weights-out W.npz]: a Keras model file as a spec and weights."""

from __future__ import annotations

import sys
from pathlib import Path

from ..cli import UsageError, add_memory_option
from ..fileio import atomic_write_many, check_output_paths, shown
from ..weights import WeightsError, weights_bytes, weights_format

NO_LIMIT = 1 << 62  # --max-memory 0
HELP = "read a Keras 3 .keras (or legacy .h5) model file into a spec and a weights file"


def add_arguments(p):
    p.add_argument("file", metavar="MODEL.keras", help="a Keras 3 .keras file, or a legacy .h5 one")
    p.add_argument("-o", "--output", required=True, metavar="OUT.net", help="the spec ('-': stdout)")
    p.add_argument("--weights-out", metavar="W.npz",
                   help="the weights file (.npz or .safetensors; default: OUT.npz beside the spec)")
    add_memory_option(p)


def run(args) -> int:
    from ..budget import resolve
    from ..importer import ModelFileError, import_model

    weights_out = args.weights_out
    if weights_out is None and args.output != "-":
        weights_out = str(Path(args.output).with_suffix(".npz"))
    outputs = {"-o": args.output} if args.output != "-" else {}
    if weights_out is not None:
        outputs["--weights-out"] = weights_out
    check_output_paths(outputs, {"MODEL": args.file})
    try:
        if weights_out is not None:
            weights_format(weights_out)  # a wrong suffix is known before the model is read
        imported = import_model(args.file, resolve(args.max_memory) or NO_LIMIT)
        files = [(weights_out, weights_bytes(weights_out, imported.weights))] if weights_out is not None else []
    except (ModelFileError, WeightsError) as e:
        raise UsageError(str(e)) from None
    if args.output == "-":
        sys.stdout.write(imported.text)
    else:
        files.insert(0, (args.output, imported.text))
    try:
        atomic_write_many(files)
    except OSError as e:
        raise UsageError(f"{shown(e.filename or args.output)}: cannot write: {e.strerror or e}") from None
    return 0
