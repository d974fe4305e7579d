"""Each script of ort_scripts/, written for onnxruntime, runs unchanged with `import kiln as ort`
in a fresh interpreter and a scratch directory, and prints what onnxruntime would."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

import onnx_models
from conftest import DIGITS

SCRIPTS = pathlib.Path(__file__).parent / "ort_scripts"


def run_script(name, *args, cwd):
    source = (SCRIPTS / name).read_text()
    assert len(re.findall(r"^import kiln as ort$", source, re.M)) == 1
    assert "kiln" not in source.replace("import kiln as ort", "")
    done = subprocess.run([sys.executable, str(SCRIPTS / name), *map(str, args)], cwd=cwd, env=dict(os.environ),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_every_script_has_a_test():
    tested = set(re.findall(r'run_script\("([a-z_]+\.py)"', pathlib.Path(__file__).read_text()))
    assert tested == {p.name for p in SCRIPTS.glob("*.py")}


def test_basic_inference(tmp_path, digits_model):
    out = run_script("basic_inference.py", digits_model, DIGITS / "heldout_images.npy", DIGITS / "heldout_labels.npy",
                     cwd=tmp_path)
    assert out == "accuracy: 97/100\n"


def test_session_options(tmp_path, digits_model):
    out = run_script("session_options.py", digits_model, cwd=tmp_path)
    assert [line.split(":")[0] for line in out.splitlines()] == [
        "ORT_DISABLE_ALL", "ORT_ENABLE_BASIC", "ORT_ENABLE_EXTENDED", "ORT_ENABLE_ALL"]


def test_inspect_io(tmp_path, digits_model):
    out = run_script("inspect_io.py", digits_model, cwd=tmp_path)
    assert "input name=image shape=['batch', 1, 8, 8] type=tensor(float)\n" in out
    assert "output name=logits shape=['batch', 10] type=tensor(float)\n" in out
    assert "providers: ['CPUExecutionProvider']\n" in out


def test_model_metadata(tmp_path):
    model = onnx_models.save(onnx_models.with_metadata(), tmp_path / "meta.onnx")
    out = run_script("model_metadata.py", model, cwd=tmp_path)
    assert out == ("producer_name: kiln-tests\ngraph_name: metadata_graph\ndomain: ai.kiln.test\n"
                   "description: a model about itself\ngraph_description: the graph's own words\nversion: 7\n"
                   "custom: author=tests\ncustom: license=none\n")


def test_run_output_names(tmp_path):
    model = onnx_models.save(onnx_models.add_and_mul(), tmp_path / "am.onnx")
    out = run_script("run_output_names.py", model, cwd=tmp_path)
    assert out == "sum: [[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]\nprod: [[0.0, 2.0, 4.0], [6.0, 8.0, 10.0]]\n"


def test_profiling(tmp_path, digits_model):
    out = run_script("profiling.py", digits_model, cwd=tmp_path)
    profile = re.search(r"^profile: (.+)$", out, re.M).group(1)
    assert (tmp_path / profile).is_file()


def test_optimized_model(tmp_path, digits_model):
    run_script("optimized_model.py", digits_model, cwd=tmp_path)
    assert (tmp_path / "optimized_model.onnx").stat().st_size > 0


def test_free_dimension_override(tmp_path, digits_model):
    out = run_script("free_dimension_override.py", digits_model, cwd=tmp_path)
    assert out == "input shape: [1, 1, 8, 8]\noutput shape: (1, 10)\n"


def test_from_bytes(tmp_path, digits_model):
    assert run_script("from_bytes.py", digits_model, cwd=tmp_path) == "same outputs: True\n"


def test_threads_share_session(tmp_path, digits_model):
    assert "16 runs on 4 threads match" in run_script("threads_share_session.py", digits_model, cwd=tmp_path)


@pytest.mark.parametrize("name", sorted(p.name for p in SCRIPTS.glob("*.py")))
def test_scripts_name_onnxruntime_api_only(name):
    source = (SCRIPTS / name).read_text()
    used = set(re.findall(r"\bort\.([A-Za-z_]+)", source))
    assert used <= {"InferenceSession", "SessionOptions", "GraphOptimizationLevel", "ExecutionMode",
                    "get_available_providers", "get_device"}, used
