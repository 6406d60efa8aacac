"""Recursive evaluation without recursion: nested generators run from one explicit stack.

The builder's evaluator recurses as deeply as a spec nests (``Dense(2)(Dense(2)(...))`` 10,000
deep, defs calling defs), and Python's recursion limit and C stack are process-wide, which a
library must not change. So each recursive step is a generator that *yields* the sub-evaluation
it needs, and ``run`` drives them all from a list: the depth costs heap, not stack.

    def total(e):                      # a recursive function, written for run()
        if isinstance(e, int):
            return e                   # a plain value: no generator needed
        acc = 0
        for x in e:
            acc += yield total(x)      # "call" total(x); its result comes back here
        return acc

    run(total([1, [2, [3]]])) == 6

An exception travels up the generators as it would up a call stack: each ``finally`` runs and
any ``except`` may catch it.
"""

from __future__ import annotations

from types import GeneratorType


def run(step):
    """The result of ``step``: a generator written as above, or a plain value (returned as is)."""
    if type(step) is not GeneratorType:
        return step
    stack = [step]
    value, error = None, None
    while True:
        top = stack[-1]
        try:
            sub = top.send(value) if error is None else top.throw(error)
        except StopIteration as stop:
            stack.pop()
            value, error = stop.value, None
        except BaseException as e:
            stack.pop()
            if not stack:
                raise
            value, error = None, e
        else:
            if type(sub) is GeneratorType:
                stack.append(sub)
                value, error = None, None
            else:  # a sub-step that needed no generator: its value goes straight back
                value, error = sub, None
            continue
        if not stack:
            return value
