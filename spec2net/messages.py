"""Every diagnostic text spec2net prints, each an ``ErrorMessage`` with its stable code.

As mypy's ``message_registry.py``: call sites pass a constant and its fields, never text,
so the wording lives here and tests can rely on the codes. Several messages may share a
code (the code names a kind of mistake; docs/errors.md has one section per code).

    >>> NO_OUTPUT.format(name="m")
    "model 'm' declares no output"

A module that finds an error far from any span raises ``Problem(MESSAGE, **fields)``; the
caller that knows the span turns it into a Diagnostic (``diagnostics.from_problem``).
Fields named ``hint`` are optional endings (``"; did you mean 'x'?"`` or ``""``).
"""

from __future__ import annotations

from typing import NamedTuple


class ErrorMessage(NamedTuple):
    code: str
    template: str
    severity: str = "error"

    def format(self, **fields) -> str:
        return self.template.format(**fields)


class Problem(Exception):
    """An error found where no span is known: ``raise Problem(RESHAPE_FIT, total=6, target=(4,))``."""

    def __init__(self, message: ErrorMessage, **fields):
        super().__init__(message.format(**fields))
        self.message, self.fields = message, fields

    @property
    def code(self) -> str:
        return self.message.code


def _m(code: str, template: str, severity: str = "error") -> ErrorMessage:
    return ErrorMessage(code, template, severity)


# -- the file's bytes and syntax ---------------------------------------------------------------------
ENCODING_UTF16 = _m("encoding", "file is not valid UTF-8 text (it looks like UTF-16; save it as UTF-8)")
ENCODING_BYTE = _m("encoding", "file is not valid UTF-8 text (byte 0x{byte:02x})")
BINARY = _m("binary", "file looks binary (it contains NUL bytes), not a .net spec")
EMPTY = _m("empty", "file declares no model")
UNEXPECTED_CHARACTER = _m("syntax", "unexpected character {char}")
UNCLOSED_STRING = _m("syntax", "string is not closed before the end of the line")
EXPECTED_SEPARATOR = _m("syntax", "expected a new line or ';' before {found}")
UNCLOSED_BRACKET = _m("syntax", "expected {closer} to close the {what} opened at {line}:{col}, found {found}")
UNEXPECTED_TOKEN = _m("syntax", "unexpected {found}{expected}")  # expected: "; expected a name, ')'" or ""
FLOAT_TOO_LARGE = _m("syntax", "the number {text} is too large for a 64-bit float (the largest is about 1.8e308)")
INT_TOO_LARGE = _m("syntax", "the integer {text} does not fit in 64 bits (the largest is {largest}); "
                             "write it as a float, like 1e20, if a float is meant")
INCOMPLETE_ESCAPE = _m("syntax", "incomplete escape '\\{char}' in a string: \\x takes 2 hex digits, \\u 4, "
                                 "\\U 8, \\N a {{name}}")
UNKNOWN_ESCAPE = _m("syntax", "unknown escape '\\{char}' in a string; write '\\\\' for a backslash")
UNKNOWN_CHARACTER_NAME = _m("syntax", "unknown character name in '\\N{{{name}}}'")
NOT_A_CHARACTER = _m("syntax", "'{escape}' is not a character")
ATTRIBUTE_ACCESS = _m("syntax", "unexpected character '.': a spec has no attribute access; write a layer or "
                                "function by its name alone (Dense, not layers.Dense), and compile and fit "
                                "as blocks (compile {{ ... }}), not as methods")
PYTHON_STATEMENT = _m("syntax", "'{word}' is Python; a spec {instead}")
DEF_COLON = _m("syntax", "unexpected ':': a def's body is a block, def NAME(x) {{ ...; return h }}, not ':' and "
                         "indentation")
SINGLE_QUOTE = _m("syntax", "unexpected character \"'\": strings take double quotes, like \"same\"")

# -- Keras habits (docs/from-keras.md) ---------------------------------------------------------------
PYTHON_LITERAL = _m("from-keras", "'{name}' is Python's; the spec writes {spec}")
KERAS_INPUT = _m("from-keras", "Input(...) is Keras's; a spec declares an input as a statement: "
                               "input NAME: {type} (in a sequential: input {type})")
KERAS_MODEL = _m("from-keras", "{name}(...) is Keras's; a spec declares a model as a block: `model NAME {{ input "
                               "...; output ... }}` or `sequential NAME {{ ... }}`")

# -- names and calls ---------------------------------------------------------------------------------
NAME_DEFINED = _m("name-defined", "name '{name}' is not defined{hint}")
UNKNOWN_LAYER = _m("unknown-layer", "unknown layer or function '{name}'{hint}")
UNKNOWN_ARG = _m("unknown-arg", "{owner} has no argument '{name}'{hint}")
MISSING_ARG = _m("missing-arg", "{owner} needs the argument '{name}'")
DUPLICATE_ARG = _m("duplicate-arg", "{owner} got the argument '{name}' twice")
TOO_MANY_ARGS = _m("too-many-args", "{owner} takes at most {n} positional argument(s), got {got}")
ARG_TYPE = _m("arg-type", "{owner}: expected {expected}. Received: {name}={value}")
ARG_RANGE = _m("arg-range", "{owner}: expected {expected}. Received: {name}={value}")
UNKNOWN_VALUE = _m("unknown-value", "unknown {kind} '{name}'{hint}")
NOT_CALLABLE = _m("not-callable", "{what} cannot be called; only layers and def blocks can")
# The `expected` of ARG_RANGE for a layer's name= (builder.LAYER_NAME is the rule).
LAYER_NAME_RULE = "a name of letters, digits, '_', '.' and '-' that does not start with '_' or '-'"

# -- tensors, shapes and dtypes (the registry's shape rules raise Problem with these) -----------------
APPLIED_TO_ONE = _m("not-tensor", "a layer is applied to exactly one tensor (or a list for a merge), "
                                  "got {n} arguments")
TAKES_ONE_TENSOR = _m("not-tensor", "{layer} takes one tensor, got {what}{hint}")
TAKES_A_LIST = _m("not-tensor", "{layer} takes a list of tensors, like {layer}([a, b])")
NOT_A_TENSOR = _m("not-tensor", "expected a tensor, got {value}{hint}")
UNPACK_FIRST = _m("unpack", "this layer gives {n} tensors; unpack them first: {names} = ...")
UNPACK_COUNT = _m("unpack", "{n} names but the value gives {got} tensor(s){hint}")
NEEDS_FLOAT = _m("dtype", "{layer} needs a float input, got {dtype} (only Embedding, Flatten and Reshape "
                          "take integers)")
NEEDS_INTEGER = _m("dtype", "{layer} needs an integer input (token ids), got {dtype}")
UNKNOWN_DTYPE = _m("dtype", "unknown dtype '{name}'{hint}")
TOO_MANY_VALUES = _m("shape", "{layer} would give {what}; no backend can index more than 2**63 - 1 values")
SHARED_MISFIT = _m("shape", "layer '{name}' is shared, but input {type} does not fit the weights it built "
                            "for its first input")
STATE_COUNT = _m("shape", "{layer} takes {n} initial state tensor(s) ({names}), got {got}")
STATE_SHAPE = _m("shape", "{layer}: initial state {which} must have shape {want}, got {got}")
STATE_NOT_LIST = _m("not-tensor", "initial_state is a list of tensors, like initial_state=[{names}], "
                                  "got {value}")
MASK_IGNORED = _m("mask-ignored", "{layer} called with initial_state ignores its input's mask, as Keras 3 "
                                  "does (the mask still passes on to later layers)", "warning")
WRAPS_RECURRENT = _m("arg-type", "Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU), got {layer}")
WRAPS_PER_STEP = _m("arg-type", "TimeDistributed wraps a layer of one input and one output, got {layer}")
WRAPPED_TWICE = _m("arg-type", "layer '{name}' is already {what}; a wrapped layer is written inline, "
                               "like Bidirectional(LSTM(8))")
WRAPPED_APPLIED = _m("not-callable", "layer '{name}' is wrapped by '{wrapper}' and cannot be applied on its own")
BACKWARD_DIRECTION = _m("arg-range", "Bidirectional: backward_layer must run the other way from layer: set "
                                     "go_backwards on one of them (both have go_backwards={value})")
FORWARD_GOES_BACKWARDS = _m("arg-range", "Bidirectional: its layer runs forward (go_backwards=false); the "
                                         "backward copy sets go_backwards itself")
BACKWARD_DIFFERS = _m("arg-range", "Bidirectional: layer and backward_layer need the same {arg}")
BACKWARD_UNITS = _m("arg-range", "Bidirectional: merge_mode=\"{mode}\" needs layer and backward_layer of the same "
                                 "units, got {fwd} and {bwd}")
TIME_DISTRIBUTED_BN = _m("arg-type", "TimeDistributed cannot wrap BatchNormalization: Keras calls it once per "
                                     "step, each with its own batch statistics in training; apply "
                                     "BatchNormalization to the whole sequence instead")
NEEDS_STEPS = _m("shape", "{layer} needs an input of steps (rank >= 2 per sample), got shape {shape}")
TIME_DISTRIBUTED_MASK = _m("shape", "TimeDistributed cannot take a masked input of shape {shape}: Keras passes "
                                    "the (batch, steps) mask on unchanged, which does not fit its outputs' steps")
BAD_DIMENSION = _m("shape", "a dimension is a positive integer or ?, got {value}")
TENSOR_COUNT = _m("shape", "{layer} takes one tensor, got {n}")
MERGE_COUNT = _m("shape", "{layer} needs {want} tensors, got {n}")
NEEDS_RANK = _m("shape", "{layer} needs an input of rank >= 1 per sample, got shape {shape}")
NEEDS_LAST_DIM = _m("shape", "{layer} needs a known last dimension, got shape {shape}")
NEEDS_SEQUENCE = _m("shape", "{layer} needs a rank-2 input per sample (timesteps, features), got shape {shape}")
NEEDS_FEATURES = _m("shape", "{layer} needs a known number of features, got shape {shape}")
NEEDS_AXIS_SIZE = _m("shape", "{layer} needs a known size on axis {axis}, got shape {shape}")
AXIS_OUT_OF_RANGE = _m("shape", "{layer}: axis {axis} is out of range for an input of rank {rank} per sample")
AXIS_IS_BATCH = _m("shape", "{layer}: axis {axis} is the batch axis")
MERGE_RANKS = _m("shape", "{layer} needs inputs of one rank, got shapes {shapes}")
MERGE_SHAPES = _m("shape", "{layer} needs inputs of one shape, got shapes {shapes}")
CONCAT_SIZES = _m("shape", "Concatenate along axis {axis} needs equal sizes on every other axis, "
                           "got shapes {shapes}")
RESHAPE_FIT = _m("shape", "Reshape cannot fit {total} values per sample into {target}")
RESHAPE_COUNT = _m("shape", "Reshape: target_shape {target} holds {known} values but the input {shape} "
                            "holds {total} per sample")
NEEDS_VECTOR = _m("shape", "{layer} needs a rank-1 input per sample (features), got shape {shape}")
PERMUTE_RANK = _m("shape", "Permute: dims {dims} order {n} axes but the input {shape} has {rank} per sample")
MASKING_RANK = _m("shape", "Masking needs a sequence (rank >= 2 per sample: steps, ..., features), got shape "
                           "{shape}; it masks the steps whose features all equal mask_value")
AXIS_TWICE = _m("shape", "{layer}: axis {axis} is given twice")
SOFTMAX_MASK = _m("shape", "Softmax cannot take a masked input: Keras broadcasts the mask (batch, steps) "
                           "against the input from the right, which fails or masks the wrong values; "
                           "use Activation(softmax), which passes the mask on")
SHARED_AXIS = _m("shape", "PReLU: shared_axes count the per-sample axes from 1 to {rank} (the batch is 0), "
                          "got {axis}")
NEEDS_SPATIAL = _m("shape", "{layer} needs a rank-{rank} input per sample ({dims}, channels), got shape {shape}")
WINDOW_EMPTY = _m("shape", "{layer}: a window of {window} with strides {strides} does not fit the input "
                           "{shape} with padding \"valid\" (the output would be empty)")
GROUPS_CHANNELS = _m("shape", "{layer}: the input's {channels} channels do not divide into groups={groups}")
GROUPS_FILTERS = _m("arg-range", "{layer}: filters={filters} do not divide into groups={groups}")
STRIDED_DILATION = _m("arg-range", "{layer}: strides > 1 together with dilation_rate > 1 is not supported "
                                   "(as in Keras); got strides={strides}, dilation_rate={dilation}")

# -- arithmetic (spec2net.arith) ------------------------------------------------------------------------
ARITH_OPERAND = _m("arith", "'{op}' needs numbers, got {value}{hint}")
DIVISION_BY_ZERO = _m("arith", "division by zero: {expr}")
INT_OVERFLOW = _m("arith", "{expr} gives an integer past 64 bits (the largest is {largest}); write a float, "
                           "like 1e20, if a float is meant")
FLOAT_OVERFLOW = _m("arith", "{expr} is too large for a 64-bit float (the largest is about 1.8e308)")
COMPLEX_POWER = _m("arith", "{expr} has no real value (a negative number to a fractional power)")
INT_FROM_FLOAT = _m("arith", "{owner}: expected {expected}, but {name}={value} is a float made by arithmetic"
                             "{at}; `/` always gives a float, `//` divides integers")
DIM_FROM_FLOAT = _m("arith", "a dimension is a positive integer or ?, but {value} is a float made by "
                             "arithmetic{at}; `/` always gives a float, `//` divides integers")

# -- defs, lets and -D ---------------------------------------------------------------------------------
RECURSION = _m("recursion", "def '{name}' calls itself (through {path}); recursion is not allowed")
EXPANSION = _m("expansion", "{what} expands to more than {limit} layers and def calls (through {path}); "
                            "a def that calls others several times over grows exponentially")
NO_SUCH_LET = _m("define", "-D {name}: the spec has no `let {name}`{hint}")
DEFINE_RANGE = _m("define", "-D {name}: {value} is out of range; numbers are 64-bit integers and finite "
                            "64-bit floats, as in a spec")
LET_NOT_CONSTANT = _m("statement", "`let {name}` must be a constant (a number, string, list, or a function "
                                   "such as relu or l2(0.01)), not a layer or tensor")
DEF_WITHOUT_RETURN = _m("statement", "def '{name}' has no `return`; a def ends with `return VALUE`")
AFTER_RETURN = _m("statement", "this statement follows the `return` of def '{name}' and would never run")
NOT_IN_DEF = _m("statement", "`{what}` cannot appear inside def '{name}'; a def holds assignments and "
                             "one `return`")
RETURN_OUTSIDE_DEF = _m("statement", "`return` only ends a def block")

# -- models and their statements --------------------------------------------------------------------
RESULT_UNUSED = _m("statement", "this result is never used; bind it (x = ...) or declare it as an output")
SECOND_SECTION = _m("statement", "a second `{kind}` block; a model has at most one")
SEQUENTIAL_STATEMENT = _m("statement", "a sequential body holds `input`, layers, `compile` and `fit`; "
                                       "use `model` for named tensors")
SEQUENTIAL_LINE = _m("statement", "each line of a sequential is a layer, like Dense(8)")
SEQUENTIAL_INPUTS = _m("statement", "a sequential has one input")
STRUCTURAL_LATER = _m("statement", "{key} only sets the input of a sequential's first layer, when it has "
                                   "no `input` line")
INPUT_COLON = _m("statement", "expected ':' after the input's name: input {name}: [...]")
INPUT_NAME = _m("statement", "an input of a model needs a name: input NAME: float32[...]")
NO_INPUT = _m("no-input", "sequential '{name}' needs `input float32[...]` or input_shape=/input_dim= on "
                          "its first layer")
NO_OUTPUT = _m("no-output", "model '{name}' declares no output")
MODEL_NAME = _m("model-name", "model name '{name}' starts with '_'; Keras runs a model in a root name scope, "
                              "whose name starts with a letter, a digit or '.'")
NO_SUCH_MODEL = _m("model", "no model named '{name}' (the file declares {models}){hint}")
DUPLICATE_NAME = _m("duplicate-name", "{what} named '{name}' in model '{model}' (the other at {other})")
DUPLICATE_DEF = _m("duplicate-def", "def '{name}' is declared twice (the other at {other})")
DUPLICATE_INPUT = _m("duplicate-input", "input '{name}' is declared twice (the other at {other})")
DUPLICATE_OUTPUT = _m("duplicate-output", "output '{name}' is declared twice")
DUPLICATE_MODEL = _m("duplicate-model", "model '{name}' is declared twice (the other at {other})")
UNUSED_INPUT = _m("unused-input", "input '{name}' is not used by any output", "warning")
UNUSED_LAYER = _m("unused-layer", "layer '{name}' is not used by any output", "warning")

# -- compile and fit ---------------------------------------------------------------------------------
COMPILE_NEEDS = _m("compile", "`compile` needs `{key} = ...`")
COMPILE_REFERENCE = _m("compile", "{kind}: expected {expected}")
ONE_CLIP = _m("compile", "{second} cannot be set with {first}: Keras 3 allows at most one of clipnorm, "
                         "clipvalue and global_clipnorm")
KEY_NAMES_NO_OUTPUT = _m("compile", "{kind} key '{key}' names no output{hint}; outputs: {outputs}")
DICT_MISSES_OUTPUTS = _m("compile", "the {kind} dict has no entry for output(s) {names}")
LOSS_WEIGHTS_COUNT = _m("compile", "loss_weights lists {numbers} for {outputs}")
LOSS_WEIGHTS_TYPE = _m("compile", "loss_weights is a dict {{output: weight}} or a list")
LOSS_WEIGHTS_KEY = _m("compile", "loss_weights key '{key}' names no output{hint}")
LOSS_WEIGHT_VALUE = _m("compile", "loss weight of '{key}' must be a finite number >= 0")
LOSS_NEEDS_CLASSES = _m("compile", "{loss} needs a class axis, but output '{output}' has shape {shape} "
                                   "(use binary_crossentropy for one unit)")
LOSS_AXIS = _m("compile", "{loss}(axis={axis}) needs an axis of output '{output}' {shape} other than the batch "
                           "(1..{rank} or -{rank}..-1){why}")
LOSS_NEEDS_FLOAT = _m("compile", "output '{output}' is {dtype}; a loss needs a float output")
LIST_PER_OUTPUT = _m("compile", "the {kind} list has {items} for {outputs}; a list gives one per output, in "
                                "output order ({names}), or write a dict {{output: {kind}}}")
MONITOR_UNKNOWN = _m("compile", "{callback} monitors '{name}', which the history does not log{hint}; "
                                "it logs {keys}")
MONITOR_MODE = _m("compile", "{callback} cannot tell whether '{name}' should fall or rise (Keras raises a "
                             "ValueError at the first epoch's end): write mode=min or mode=max")
PLATEAU_SCHEDULE = _m("compile", "reduce_lr_on_plateau sets the learning rate, but the optimizer's is a "
                                 "schedule (Keras refuses to set it); give the optimizer a number")
MONITOR_NO_VALIDATION = _m("compile", "{callback} monitors '{name}', but `fit` has no validation_split: it "
                                      "does nothing unless validation data is given at run time (Keras "
                                      "warns at every epoch)", "warning")

# -- resources (spec2net.budget) ----------------------------------------------------------------------
MEMORY = _m("memory", "{task} of model '{model}' would need about {total} ({parts}), over the {budget} memory "
                      "budget; the biggest layer is '{layer}' ({type}: {weights} of weights, {activations} of "
                      "activations); a larger budget: --max-memory {need} (max_memory= in Python)")

# -- the ONNX backend (spec2net build --backend onnx, docs/onnx.md) -----------------------------------
ONNX_TOO_LARGE = _m("onnx-unsupported", "model '{model}' has {size} of weights, over the 2 GiB that one ONNX file "
                                        "holds (protobuf's limit for one message); the biggest layer is '{layer}' "
                                        "({type}: {weights} of weights)")

# Not a diagnostic: the line that ends a list cut at diagnostics.MAX_SHOWN diagnostics.
MORE = "... and {counts}"  # counts: "2,900 more errors", "2 more errors and 1 warning", "50 more warnings"


def all_messages() -> dict[str, ErrorMessage]:
    """Every ErrorMessage constant of this module, by its name."""
    return {k: v for k, v in globals().items() if isinstance(v, ErrorMessage)}


# Every code, in the order of docs/errors.md's sections.
CODES = tuple(dict.fromkeys(m.code for m in all_messages().values()))
