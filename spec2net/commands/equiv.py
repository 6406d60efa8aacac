"""spec2net equiv FILE [--backends numpy,keras,torch] [--train STEPS]: do the backends agree?"""

from __future__ import annotations

from ..cli import UsageError, add_memory_option, add_spec_options, at_least, load_net

HELP = "run random weights and inputs through every backend and compare (exit 0 agree, 1 not, 2 missing)"


def add_arguments(p):
    p.add_argument("file", metavar="FILE")
    p.add_argument("--backends", default="numpy,keras,torch", help="comma-separated (default: all three)")
    p.add_argument("--train", type=at_least(0), default=0, metavar="STEPS",
                   help="also compare after STEPS full-batch training steps (dropout rates set to 0)")
    p.add_argument("--seed", type=at_least(0), default=0, help="seeds the weights, inputs and targets")
    p.add_argument("--batch", type=at_least(1), default=4, help="samples in the random batch (default 4)")
    add_memory_option(p)
    add_spec_options(p)


def run(args) -> int:
    from .. import Net, budget
    from ..equiv import (
        ADAPTERS,
        UNKNOWN_LENGTH,
        diff,
        random_inputs,
        random_targets,
        tolerance,
        without_dropout,
    )

    names = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in names if b not in ADAPTERS]
    if unknown or len(names) < 2:
        raise UsageError(f"--backends takes two or more of {', '.join(ADAPTERS)}; got {args.backends!r}")
    missing = [(b, ADAPTERS[b].available()[1]) for b in names if not ADAPTERS[b].available()[0]]
    for b, why in missing:
        print(f"spec2net equiv: backend {b} is not available: {why}")
    if missing:
        return 2
    inference_only = [b for b in names if not ADAPTERS[b].trains]
    if args.train and inference_only:  # refused before any comparison prints
        raise UsageError(f"--train: {', '.join(inference_only)} runs inference only; compare it without --train")
    net = load_net(args)
    if args.train:
        if net.ir.compile is None:
            raise UsageError(f"--train needs a `compile` block in model '{net.name}'")
        net = Net(without_dropout(net.ir), sources=net.sources)
    tol = tolerance(net.ir)
    # The budget before anything is drawn: a huge dimension is a located error, never a MemoryError.
    budget.check(net.ir, "train" if args.train else "run", args.batch, UNKNOWN_LENGTH,
                 max_memory=args.max_memory, sources=net.sources)
    inputs = random_inputs(net.ir, args.batch, args.seed)
    weights = net.init_weights(seed=args.seed, max_memory=0)  # just checked, for the larger task
    ok = _compare(net, names, weights, inputs, tol, "")
    if args.train:
        data = {**inputs, **random_targets(net.ir, args.batch, args.seed)}
        trained = {b: ADAPTERS[b].train(net, data, weights, args.train) for b in names}
        ref = trained[names[0]]
        for b in names[1:]:
            worst = max((diff(trained[b][k], ref[k]) + (k,) for k in ref), key=lambda t: t[0])
            good = worst[0] <= tol
            ok &= good
            print(f"after {args.train} step(s): {names[0]} vs {b}: weights max abs {worst[0]:.3g} "
                  f"(at {worst[2]}), max rel {worst[1]:.3g}  {'ok' if good else 'DIFFERENT'}")
        ok &= _compare(net, names, None, inputs, tol, f"after {args.train} step(s): ", trained)
    print(f"verdict: {' and '.join(names)} {'agree' if ok else 'DISAGREE'} (tolerance {tol:g} absolute)")
    return 0 if ok else 1


def _compare(net, names, weights, inputs, tol, prefix, per_backend=None) -> bool:
    from ..equiv import ADAPTERS, diff, first_divergence

    results = {b: ADAPTERS[b].run(net, inputs, per_backend[b] if per_backend else weights) for b in names}
    ok = True
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for out in net.output_names:
                abs_d, rel_d = diff(results[b][0][out], results[a][0][out])
                good = abs_d <= tol
                ok &= good
                print(f"{prefix}{a} vs {b}: output {out}: max abs {abs_d:.3g}, max rel {rel_d:.3g}  "
                      f"{'ok' if good else 'DIFFERENT'}")
            if not all(diff(results[b][0][o], results[a][0][o])[0] <= tol for o in net.output_names):
                node, d = first_divergence(net.ir, results[a][1], results[b][1], tol)
                if node is not None:  # the call's own line: a shared layer's second call is not its first
                    calls = f", call {node.call_index + 1} of {len(node.layer.nodes)}" if len(node.layer.nodes) > 1 else ""
                    print(f"{prefix}{a} vs {b}: first diverging layer: '{node.layer.name}' ({node.layer.type}"
                          f"{calls}) at {node.span.file}:{node.span.line} (max abs {d:.3g})")
    return ok
