"""Tabular data (CSV and Parquet) as named arrays, for tabular models (spec2net.datasets).

Columns are named after the model's inputs and outputs:

    x            one value per sample: x holds shape (n,)
    x.0, x.1     a vector per sample: x.K is element K, x holds shape (n, 2)
    x.0.0, ...   an array per sample: x.I.J is element [I, J], x holds shape (n, I+1, J+1)

Every index from 0 needs its column, in any column order; columns no array asked for are not
read. A Parquet column may also hold a list per sample (each of one length): ``x`` of lists of
3 numbers is x of shape (n, 3). Cells are numbers as Python's ``float`` reads them (``nan`` and
``inf`` are numbers, refused later by the data checks as Keras's fit would train on them);
the arrays take the spec's dtype where the caller gives one, else float64 (CSV) or the
column's type (Parquet).
"""

from __future__ import annotations

import array
import csv
import io
import operator

import numpy as np

from .budget import show_size
from .fileio import PathError, open_regular, shown

CELL = 8  # bytes a CSV cell takes while read (a float64)
MISSING_PYARROW = "reading .parquet data needs pyarrow: pip install 'spec2net[data]'"


def layout(path, columns: list, keys) -> dict:
    """``{name: (per-sample dims, [column positions in C order])}`` from the column names (only
    names in ``keys``; None: all): ``layout(p, ["x.0", "x.1", "y"], None)["x"] == ((2,), [0, 1])``."""
    groups: dict = {}
    for pos, column in enumerate(columns):
        name, _, rest = column.partition(".")
        parts = rest.split(".")
        index = tuple(int(p) for p in parts) if rest and all(p.isascii() and p.isdigit() for p in parts) else None
        if index is None:  # "x" or a name that is not NAME.INDEX
            name, index = column, ()
        if keys is not None and name not in keys:
            continue
        cells = groups.setdefault(name, {})
        if index in cells:
            raise PathError(f"{shown(path)}: columns {columns[cells[index]]!r} and {column!r} both give "
                            f"array {name!r} element {index or 'its value'}")
        cells[index] = pos
    out = {}
    for name, cells in groups.items():
        ranks = sorted({len(i) for i in cells})
        if len(ranks) > 1:
            by_rank: dict = {}
            for i, p in cells.items():
                by_rank.setdefault(len(i), columns[p])
            raise PathError(f"{shown(path)}: array {name!r}: columns {by_rank[ranks[0]]!r} and "
                            f"{by_rank[ranks[1]]!r} give it different shapes; name its columns either "
                            f"{name!r} or {name}.0, {name}.1, ...")
        dims = tuple(max(i[d] for i in cells) + 1 for d in range(ranks[0]))
        missing = next((i for i in np.ndindex(dims) if i not in cells), None)
        if missing is not None:
            last = ".".join(str(d - 1) for d in dims)
            raise PathError(f"{shown(path)}: array {name!r}: no column {name}.{'.'.join(map(str, missing))} "
                            f"(its columns go up to {name}.{last}: every index from 0 needs one)")
        out[name] = (dims, [cells[i] for i in np.ndindex(dims)])
    return out


def typed(a: np.ndarray, dtype) -> np.ndarray:
    """``a`` as ``dtype`` (None: as it is), unless that would change a value: a float that is not
    a whole number, or out of the integer type's range, stays as it is for the data checks to
    name (``expected int32 (integers), got 1.5 at index (3, 0)``)."""
    if dtype is None:
        return a
    dtype = np.dtype(dtype)
    if dtype.kind in "iu" and a.dtype.kind == "f":
        info = np.iinfo(dtype)
        if not np.all(np.isfinite(a) & (a == np.round(a)) & (a >= info.min) & (a <= info.max)):
            return a
    return a.astype(dtype, copy=False)


def read_csv(path, keys, max_bytes: int, dtypes: dict) -> dict:
    """The arrays of a CSV file with a header row (the module's docstring says how columns are
    named); a cell that is not a number is refused with its row and column."""
    with open_regular(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        try:
            header = [c.strip() for c in next(reader, [])]
            if not header:
                raise PathError(f"{shown(path)}: empty: a CSV data file starts with a header row naming its "
                                "columns after the model's inputs and outputs")
            shapes = layout(path, header, keys)
            getters = {name: operator.itemgetter(*cols) for name, (_, cols) in shapes.items()}
            values = {name: array.array("d") for name in shapes}
            cells, n = sum(len(cols) for _, cols in shapes.values()), 0
            for row in reader:
                if not row:  # a blank line, as at the end of many files
                    continue
                if len(row) != len(header):
                    raise PathError(f"{shown(path)}: row {n + 1} (line {reader.line_num}) has {len(row)} cells, "
                                    f"the header {len(header)}")
                for name, get in getters.items():
                    got = get(row)
                    try:
                        values[name].extend(map(float, got) if isinstance(got, tuple) else (float(got),))
                    except ValueError:
                        _bad_cell(path, header, shapes[name][1], row, n + 1, reader.line_num, name)
                n += 1
                if max_bytes and n * cells * CELL > max_bytes:
                    raise PathError(f"{shown(path)}: its arrays take over {show_size(max_bytes)} by row {n}, the "
                                    "memory budget (--max-memory raises it; a directory of .npy files is "
                                    "read a batch at a time)")
        except UnicodeDecodeError as e:
            raise PathError(f"{shown(path)}: not UTF-8 text (byte {e.start} of a line cannot be decoded)") from None
        except csv.Error as e:
            raise PathError(f"{shown(path)}: line {reader.line_num}: not readable as CSV ({e})") from None
    return {name: typed(np.frombuffer(values[name], np.float64).reshape(n, *dims), dtypes.get(name))
            for name, (dims, _) in shapes.items()}


def _bad_cell(path, header, cols, row, n, line, name) -> None:
    for c in cols:
        try:
            float(row[c])
        except ValueError:
            cell = row[c].strip()
            found = f"{cell!r} is not a number" if cell else "the cell is empty"
            raise PathError(f"{shown(path)}: row {n} (line {line}), column {header[c]!r} (array {name!r}): "
                            f"{found}") from None


def read_parquet(path, keys, max_bytes: int, dtypes: dict) -> dict:
    """The arrays of a Parquet file (pyarrow), only the columns asked for, refused from the
    file's metadata when they would not fit in ``max_bytes``."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise PathError(f"{shown(path)}: {MISSING_PYARROW}") from None
    with open_regular(path) as f:
        try:
            pf = pq.ParquetFile(f)
        except Exception as e:  # noqa: BLE001  (a corrupt or foreign file: say so, never a traceback)
            raise PathError(f"{shown(path)}: not a readable .parquet file ({type(e).__name__}: {e})") from None
        schema, meta = pf.schema_arrow, pf.metadata
        shapes = layout(path, schema.names, keys)
        used = [p for _, cols in shapes.values() for p in cols]
        leaf = np.cumsum([0, *(_leaves(schema.field(i).type) for i in range(len(schema.names)))])
        values = [sum(meta.row_group(g).column(int(leaf[p])).num_values for g in range(meta.num_row_groups))
                  for p in used]
        need = sum(values) * CELL + max(values, default=0) * CELL  # the arrays, and one column as Arrow reads it
        if max_bytes and need > max_bytes:
            raise PathError(f"{shown(path)}: its arrays would take {show_size(need)}, over the "
                            f"{show_size(max_bytes)} memory budget (--max-memory raises it); nothing was read")
        out = {}
        for name, (dims, cols) in shapes.items():
            parts = [_column(path, pf, schema.names[p]) for p in cols]
            if dims:  # one scalar column per element
                bad = next((schema.names[p] for p, a in zip(cols, parts) if a.ndim != 1), None)
                if bad:
                    raise PathError(f"{shown(path)}: column {bad!r} holds lists: an element column holds one "
                                    "number per row")
                a = np.stack(parts, axis=1).reshape(meta.num_rows, *dims)
            else:
                a = parts[0]
            out[name] = typed(a, dtypes.get(name))
    return out


def _leaves(t) -> int:
    """The Parquet leaf columns an Arrow type takes (a struct one per field, a list its items')."""
    import pyarrow as pa

    if pa.types.is_struct(t):
        return sum(_leaves(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_map(t):
        return _leaves(t.key_type) + _leaves(t.item_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _leaves(t.value_type)
    return 1


def _column(path, pf, column: str) -> np.ndarray:
    """One column as an array: numbers, or lists of one length per level (an extra axis each)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pf.read(columns=[column]).column(0).combine_chunks()
    n, dims = len(values), []
    while True:
        if values.null_count:
            first = int(np.argmax(values.is_null().to_numpy(zero_copy_only=False)))
            raise PathError(f"{shown(path)}: column {column!r} has {values.null_count} missing values, the first "
                            f"at {'row' if not dims else 'element'} {first + 1}")
        t = values.type
        if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
            break
        lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
        if len(lengths) and (lengths != lengths[0]).any():
            other = int(np.argmax(lengths != lengths[0]))
            rows = f" (rows 1 and {other + 1})" if not dims else ""
            raise PathError(f"{shown(path)}: column {column!r} holds lists of different lengths, {lengths[0]} and "
                            f"{lengths[other]}{rows}: an array needs one shape per sample")
        dims.append(int(lengths[0]) if len(lengths) else 0)
        values = pc.list_flatten(values)
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or pa.types.is_boolean(values.type)):
        raise PathError(f"{shown(path)}: column {column!r} holds {values.type} values: expected numbers")
    return values.to_numpy(zero_copy_only=False).reshape(n, *dims)
