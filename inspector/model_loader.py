"""Load a user's model from ``path/to/file.py:factory`` or ``package.module:factory``.

Every way this can go wrong (missing file, syntax or import error in the user's file, a
missing factory, a factory that raises or returns something else) becomes one ``ModelError``
line naming the file, the line and what to do, never a traceback from importlib.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from inspector.errors import ModelError

USAGE = "give the model as path/to/file.py:factory or package.module:factory"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _where(exc: BaseException, files: Sequence[str | None]) -> str:
    """'file.py, line N' of the deepest traceback frame inside one of ``files``."""
    wanted = {str(Path(f).resolve()) for f in files if f}
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if frame.filename and str(Path(frame.filename).resolve()) in wanted:
            return f"{frame.filename}, line {frame.lineno}"
    return ""


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        hint = " (it is a folder)" if path.is_dir() else ""
        raise ModelError(f"model file {path} not found{hint}; {USAGE}")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    name = f"inspector_user_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModelError(f"cannot import {path}: not a Python file; {USAGE}")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # so the user's file can import its neighbours
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise ModelError(
            f"syntax error in {exc.filename or path}, line {exc.lineno}: {exc.msg}"
        ) from None
    except SystemExit as exc:  # sys.exit()/exit() at import time would end Inspector silently
        sys.modules.pop(name, None)
        where = _where(exc, [str(path)]) or str(path)
        raise ModelError(
            f"importing {path} called sys.exit({exc.code!r}) at {where}; "
            'keep scripts\' top-level code under `if __name__ == "__main__":`'
        ) from None
    except Exception as exc:
        sys.modules.pop(name, None)
        where = _where(exc, [str(path)]) or str(path)
        raise ModelError(f"importing {path} failed at {where}: {_first_line(exc)}") from None
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module


def _import_module(dotted: str) -> ModuleType:
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name and (dotted == exc.name or dotted.startswith(exc.name + ".")):
            raise ModelError(
                f"module {dotted!r} not found; install it or run from the folder "
                f"that contains it (or {USAGE})"
            ) from None
        error: Exception = exc
    except SyntaxError as exc:
        raise ModelError(f"syntax error in {exc.filename}, line {exc.lineno}: {exc.msg}") from None
    except SystemExit as exc:
        raise ModelError(
            f"importing {dotted} called sys.exit({exc.code!r}); keep scripts' top-level code "
            'under `if __name__ == "__main__":`'
        ) from None
    except Exception as exc:
        error = exc
    frames = [
        f.filename
        for f in traceback.extract_tb(error.__traceback__)
        if "importlib" not in f.filename and f.filename != __file__
    ]
    where = _where(error, frames[-1:]) or dotted
    raise ModelError(f"importing {dotted} failed at {where}: {_first_line(error)}")


def _callables(module: ModuleType) -> list[str]:
    return sorted(
        n
        for n, v in vars(module).items()
        if callable(v)
        and not n.startswith("_")
        and getattr(v, "__module__", None) == module.__name__
    )


def _registry_hint() -> str:
    """'registry models: a, b, ... or tv:<torchvision name>; ' when the registry imports."""
    try:
        from inspector.models import list_models

        names = ", ".join(list_models())
    except Exception:  # the registry is optional for loading user targets
        return ""
    return f"not a registry model ({names}, or tv:<torchvision name>); otherwise "


def _resolve(target: str) -> tuple[Callable, str | None]:
    """The factory named by ``target`` and the file it was defined in."""
    left, sep, attr = target.rpartition(":")
    if not sep or not left or not attr:
        raise ModelError(f"unknown model {target!r}: {_registry_hint()}{USAGE}")
    is_file = left.endswith(".py") or "/" in left or "\\" in left
    module = _import_file(Path(left).expanduser()) if is_file else _import_module(left)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            found = ", ".join(_callables(module)) or "none"
            raise ModelError(f"{left} has no attribute {attr!r}; callables defined there: {found}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ModelError(
            f"{target} is a {type(obj).__name__}, not a callable that returns an nn.Module"
        )
    return obj, getattr(module, "__file__", None)


def load_model(target: str | Callable[..., nn.Module], **kwargs: Any) -> nn.Module:
    """Build a model from a factory target (string), an ``nn.Module`` class or a callable.

    ``kwargs`` are passed to the factory (``--model-arg k=v``). Raises ``ModelError`` with a
    one-line message for every user mistake.
    """
    if isinstance(target, str):
        factory, source = _resolve(target.strip())
        label = target
    elif callable(target):
        factory, source = target, getattr(sys.modules.get(target.__module__), "__file__", None)
        label = getattr(target, "__qualname__", repr(target))
    else:
        raise ModelError(f"cannot build a model from {type(target).__name__}; {USAGE}")
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    try:
        model = factory(**kwargs)
    except SystemExit as exc:
        where = _where(exc, [source])
        at = f" at {where}" if where else ""
        raise ModelError(f"{label}({args}) called sys.exit({exc.code!r}){at}") from None
    except Exception as exc:
        where = _where(exc, [source])
        at = f" at {where}" if where else ""
        hint = " (check the --model-arg names and values)" if isinstance(exc, TypeError) else ""
        raise ModelError(f"{label}({args}) raised{at}: {_first_line(exc)}{hint}") from None
    if not isinstance(model, nn.Module):
        raise ModelError(
            f"{label}({args}) returned {type(model).__name__}, not an nn.Module; "
            "the factory must return the model instance"
        )
    return model


def example_input(
    shape: Sequence[int], batch: int = 2, dtype: torch.dtype = torch.float32, high: int = 2
) -> torch.Tensor:
    """A batch for a per-example ``shape``: random floats, or token ids in [0, high)."""
    shape = tuple(int(s) for s in shape)
    if dtype.is_floating_point:
        return torch.randn(batch, *shape, dtype=dtype)
    return torch.randint(0, high, (batch, *shape), dtype=dtype)


def check_input(model: nn.Module, x: torch.Tensor, *, require_logits: bool = True) -> None:
    """Run ``model`` on batch ``x``; ModelError naming the shape tried and the failing layer.

    ``require_logits`` also insists on (batch, classes) output, as training needs.
    """
    from inspector.train.forward_check import check_forward

    if require_logits:
        check_forward(model, x)
        return
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    except Exception:
        check_forward(model, x)  # raises the message that names the layer
    finally:
        model.train(was_training)


def check_input_shape(
    model: nn.Module,
    shape: Sequence[int],
    *,
    require_logits: bool = True,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``check_input`` on a random batch of per-example ``shape``; returns that batch."""
    x = example_input(shape, dtype=dtype)
    check_input(model, x, require_logits=require_logits)
    return x
