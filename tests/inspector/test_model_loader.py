"""Loading user models: every bad input gives one ModelError line naming what to fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from inspector.errors import ModelError
from inspector.model_loader import check_input_shape, load_model

torch.set_num_threads(1)

GOOD = """
from torch import nn


class Net(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.fc = nn.Linear(width * 6 * 6, 2)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


def build(width=4):
    return Net(width)


def broken(width=4):
    raise ValueError("width must be even")


def not_a_model():
    return {"layers": 3}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(target, **kwargs) -> str:
    with pytest.raises(ModelError) as info:
        load_model(target, **kwargs)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_file_factory_class_and_callable(tmp_path):
    path = write(tmp_path, "net.py", GOOD)
    model = load_model(f"{path}:build", width=6)
    assert isinstance(model, nn.Module) and model.conv.out_channels == 6
    assert isinstance(load_model(f"{path}:Net"), nn.Module)
    assert isinstance(load_model("torch.nn:Identity"), nn.Identity)
    linear = load_model(nn.Linear, in_features=2, out_features=3)
    assert linear.out_features == 3
    assert isinstance(load_model(lambda: nn.ReLU()), nn.ReLU)


def test_user_file_can_import_its_neighbours(tmp_path):
    write(tmp_path, "loader_test_blocks.py", "from torch import nn\nBlock = nn.Identity\n")
    path = write(
        tmp_path,
        "main_net.py",
        "from loader_test_blocks import Block\n\ndef build():\n    return Block()\n",
    )
    assert isinstance(load_model(f"{path}:build"), nn.Identity)


def test_missing_file_and_bad_target_form(tmp_path):
    message = error_of(f"{tmp_path}/nope.py:build")
    assert "nope.py not found" in message and "path/to/file.py:factory" in message
    assert "unknown model 'just_a_name'" in error_of("just_a_name")
    assert "not found" in error_of("surely_missing_pkg_4242.net:build")


def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "bad.py", "from torch import nn\n\ndef build(:\n    return nn.ReLU()\n")
    message = error_of(f"{path}:build")
    assert "syntax error" in message and "bad.py" in message and "line 3" in message


def test_import_error_in_user_file_names_line_and_error(tmp_path):
    path = write(tmp_path, "imports.py", "import torch\nimport surely_missing_mod_4242\n")
    message = error_of(f"{path}:build")
    assert "imports.py, line 2" in message and "surely_missing_mod_4242" in message
    path = write(tmp_path, "divides.py", "x = 1\ny = 1 / 0\n")
    message = error_of(f"{path}:build")
    assert "divides.py, line 2" in message and "ZeroDivisionError" in message


def test_missing_attribute_lists_the_callables(tmp_path):
    path = write(tmp_path, "net.py", GOOD)
    message = error_of(f"{path}:make_model")
    assert "'make_model'" in message
    assert "Net" in message and "build" in message and "broken" in message
    assert "nn" not in message.split("there:")[1]  # imported names are not listed


def test_factory_raising_and_wrong_result(tmp_path):
    path = write(tmp_path, "net.py", GOOD)
    message = error_of(f"{path}:broken")
    assert "ValueError: width must be even" in message and "net.py, line" in message
    message = error_of(f"{path}:build", depth=3)
    assert "unexpected keyword argument 'depth'" in message
    message = error_of(f"{path}:not_a_model")
    assert "returned dict, not an nn.Module" in message


def test_check_input_shape_names_shape_and_layer(tmp_path):
    model = load_model(f"{write(tmp_path, 'net.py', GOOD)}:build")
    x = check_input_shape(model, (3, 8, 8))
    assert tuple(x.shape) == (2, 3, 8, 8)
    with pytest.raises(ModelError) as info:
        check_input_shape(model, (1, 8, 8))
    message = str(info.value)
    assert "(2, 1, 8, 8)" in message and "'conv'" in message
    # without require_logits any output is accepted, but a bad shape still fails
    check_input_shape(nn.Conv2d(1, 1, 3), (1, 5, 5), require_logits=False)
    with pytest.raises(ModelError, match="must return class logits"):
        check_input_shape(nn.Conv2d(1, 1, 3), (1, 5, 5))
