"""``inspector summary``: the parameter / shape / receptive-field table of a model, no training.

Totals count every parameter tensor once (shared modules and tied weights are flagged), and
each spatial layer shows its exact theoretical receptive field and jump.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from inspector.cli.args import count_int, parse_kv, parse_shape
from inspector.errors import InspectorError
from inspector.text_safety import escape_terminal

GENERATED = ("shapes", "sequence")  # cheap to make; a few examples are enough for a summary
MAX_NOTES = 6


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "summary",
        help="print a model's layers, shapes, parameters and receptive fields",
        description="Print the per-layer table (output shape, parameters counted once per "
        "tensor, mult-adds, receptive field and jump) of a registry model, tv:<torchvision "
        "name> or your own factory. Example: inspector summary tv:resnet18 --input-shape "
        "3,224,224",
    )
    p.add_argument(
        "model", help="registry name, tv:<name>, path/to/file.py:factory or package.module:factory"
    )
    p.add_argument(
        "--input-shape",
        default=None,
        metavar="C,H,W",
        help="one example's shape (default: the --data example's shape)",
    )
    p.add_argument("--model-arg", action="append", metavar="K=V", help="model keyword argument")
    p.add_argument(
        "--data",
        default=None,
        help="take the input shape (and the model's "
        "channels/classes) from this dataset (default: shapes)",
    )
    p.add_argument("--data-arg", action="append", metavar="K=V", help="dataset option")
    p.add_argument("--data-root", default=None, help="where torchvision datasets live")
    p.add_argument(
        "--num-classes",
        type=count_int,
        default=10,
        help="classes for registry models when only --input-shape is given",
    )
    p.add_argument(
        "--vocab-size",
        type=count_int,
        default=None,
        help="inputs are token ids in [0, N) (sequence models with --input-shape L)",
    )
    p.add_argument("--json", action="store_true", help="print both records as JSON")
    p.set_defaults(handler=run)


def _shape_info(shape: tuple[int, ...], args: argparse.Namespace, model_args: dict):
    """A DataInfo for --input-shape alone, so registry models get matching kwargs."""
    from inspector.data import DataInfo

    names = tuple(str(i) for i in range(args.num_classes))
    if args.vocab_size or len(shape) == 1:
        vocab = args.vocab_size or int(model_args.get("vocab_size", 0))
        return DataInfo(
            "input-shape",
            "sequence",
            args.num_classes,
            names,
            vocab_size=vocab,
            seq_len=shape[0],
            input_shape=shape,
        )
    return DataInfo(
        "input-shape",
        "image",
        args.num_classes,
        names,
        in_channels=shape[0],
        image_size=shape[-1],
        input_shape=shape,
    )


def _example(args: argparse.Namespace, model_args: dict):
    """(data info, one-example batch) from --data and/or --input-shape."""
    import torch

    from inspector.model_loader import example_input

    shape = parse_shape(args.input_shape) if args.input_shape else None
    if args.data or shape is None:
        from inspector.data import load_data

        name = args.data or "shapes"
        options = parse_kv(args.data_arg, "--data-arg")
        if name.lower() in GENERATED:
            options = {"n_train": 4, "n_test": 4, **options}
        bundle = load_data(name, root=args.data_root, **options)
        info = bundle.info
        x = bundle.train[0][0].unsqueeze(0)
        if shape is not None:
            x = example_input(shape, batch=1, dtype=x.dtype, high=info.vocab_size or 2)
        return info, x
    info = _shape_info(shape, args, model_args)
    if info.kind == "sequence":
        return info, example_input(shape, batch=1, dtype=torch.long, high=info.vocab_size or 2)
    return info, example_input(shape, batch=1)


def _fmt_shape(shape: list[int] | None) -> str:
    return "x".join(str(s) for s in shape) if shape else "-"


def _fmt_pair(values: list | None) -> str:
    if values is None:
        return "?"
    values = [int(v) if float(v).is_integer() else v for v in values]
    return "x".join(str(v) for v in values)


def format_table(table: dict, rf: dict | None) -> str:
    """The terminal table: one line per layer, then totals and the shared/tied notes."""
    fields = {r["name"]: r for r in (rf or {}).get("layers", [])}
    header = ["name", "type", "output shape", "params", "trainable", "mult-adds", "rf", "jump"]
    lines = [header]
    for row in _merged(table["rows"], (rf or {}).get("layers", [])):
        f = fields.get(row["name"])
        rf_text = jump_text = ""
        if f is not None:
            rf_text = _fmt_pair(f["rf"]) + (" global" if f["global"] else "")
            jump_text = "" if f["global"] else _fmt_pair(f["jump"])
        if "params" not in row:  # a functional op (F.max_pool2d...) that only has a field
            name, kind = escape_terminal(row["name"]), escape_terminal(row["type"])
            lines.append([name, kind, "", "", "", "", rf_text, jump_text])
            continue
        lines.append(
            [
                escape_terminal(row["name"] or "(model)"),
                escape_terminal(row["type"]),
                _fmt_shape(row["output_shape"]),
                f"{row['params']:,}",
                f"{row['trainable']:,}",
                f"{row['mult_adds']:,}",
                rf_text,
                jump_text,
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {3, 4, 5}
    out = [
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out + [""] + [escape_terminal(line) for line in notes(table, rf)])


def _merged(rows: list[dict], fields: list[dict]) -> list[dict]:
    """Table rows with the receptive-field-only rows (functional ops) slotted in order."""
    names = {r["name"] for r in rows}
    after: dict[str | None, list[dict]] = {}
    anchor: str | None = None
    for f in fields:
        if f["name"] in names:
            anchor = f["name"]
        elif not f["global"] or f["type"][:1].islower():  # a functional op, or a 2nd call
            after.setdefault(anchor, []).append(f)
    out = list(after.get(None, []))
    for r in rows:
        out.append(r)
        out += after.get(r["name"], [])
    return out


def notes(table: dict, rf: dict | None) -> list[str]:
    t = table["totals"]
    lines = [
        f"params: {t['params']:,} (trainable {t['trainable']:,}, frozen {t['frozen']:,}), "
        "each tensor counted once",
        f"mult-adds per example: {t['mult_adds']:,}",
    ]
    if t.get("torchinfo_params") is not None and t["torchinfo_params"] != t["params"]:
        lines.append(
            f"torchinfo would report {t['torchinfo_params']:,} params: it counts a tied "
            "tensor once per module that holds it"
        )
    extra: list[str] = []
    params = {r["name"]: r["params"] for r in table["rows"]}
    for s in t["shared_modules"]:
        names = s["aliases"][:2] + (
            [f"{len(s['aliases']) - 2} more"] if len(s["aliases"]) > 3 else s["aliases"][2:]
        )
        alias = f" (also registered as {', '.join(names)})" if names else ""
        counted = (
            f"; its {params[s['name']]:,} parameters are counted once"
            if params.get(s["name"])
            else ""
        )
        extra.append(
            f"shared: {s['name'] or '(model)'}{alias} runs {s['calls']}x per forward{counted}"
        )
    for tie in t["tied_params"]:
        extra.append(f"tied: {' = '.join(tie['params'])} ({tie['numel']:,} params counted once)")
    if len(extra) > MAX_NOTES:
        extra = extra[:MAX_NOTES] + [f"... and {len(extra) - MAX_NOTES} more shared/tied notes"]
    lines += extra
    spatial = [r for r in (rf or {}).get("layers", []) if r["rf"] and not r["global"]]
    if spatial:
        last = spatial[-1]
        lines.append(
            f"receptive field: {last['name']} sees {_fmt_pair(last['rf'])} px of the "
            f"{_fmt_pair((rf or {}).get('input_size'))} input (jump "
            f"{_fmt_pair(last['jump'])})"
        )
    lines += [f"note: {w}" for w in (rf or {}).get("warnings", [])]
    return lines


def run(args: argparse.Namespace) -> int:
    from inspector.model_build import build_model
    from inspector.model_loader import check_input, load_model
    from inspector.probes.param_summary import param_summary
    from inspector.probes.receptive_field import receptive_field

    model_args = parse_kv(args.model_arg, "--model-arg")
    info, x = _example(args, model_args)
    if ":" in args.model and not args.model.startswith("tv:"):  # a user target: no registry
        model = load_model(args.model, **model_args)
    else:
        model, _meta = build_model(args.model, info, model_args)
    check_input(model, x, require_logits=False)
    try:
        table = param_summary(model, x)
        rf: dict[str, Any] | None = receptive_field(model, x) if x.dim() >= 3 else None
    except Exception as exc:  # the forward already passed once; say what broke the probe
        raise InspectorError(
            f"could not summarise {args.model}: {type(exc).__name__}: {exc}"
        ) from None
    if args.json:
        print(json.dumps({"architecture": table, "receptive_field": rf}, indent=1))
    else:
        print(f"{escape_terminal(args.model)} on input {_fmt_shape(table['input_shape'])}")
        print(format_table(table, rf))
    return 0
