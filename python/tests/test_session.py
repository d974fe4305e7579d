"""kiln.InferenceSession as onnxruntime's: inspection, running, options, profiling, providers."""

import json
import pathlib
import warnings

import numpy as np
import pytest

import kiln
import onnx_models
from conftest import DIGITS


@pytest.fixture(scope="module")
def heldout():
    return np.load(DIGITS / "heldout_images.npy"), np.load(DIGITS / "heldout_labels.npy")


@pytest.fixture(scope="module")
def digits(digits_model):
    return kiln.InferenceSession(digits_model)


def test_digits_match_a_numpy_reference_and_classify_97_of_100(digits, digits_model, heldout):
    images, labels = heldout
    (logits,) = digits.run(None, {"image": images})
    assert logits.shape == (100, 10) and logits.dtype == np.float32
    np.testing.assert_allclose(logits, onnx_models.digits_reference(digits_model, images), rtol=1e-4, atol=1e-4)
    assert int((logits.argmax(axis=1) == labels).sum()) == 97


def test_inputs_and_outputs_are_described_as_onnxruntime_does(digits):
    (image,) = digits.get_inputs()
    (logits,) = digits.get_outputs()
    assert (image.name, image.type, image.shape) == ("image", "tensor(float)", ["batch", 1, 8, 8])
    assert (logits.name, logits.type, logits.shape) == ("logits", "tensor(float)", ["batch", 10])
    assert repr(image) == "NodeArg(name='image', type='tensor(float)', shape=['batch', 1, 8, 8])"
    assert digits.get_overridable_initializers() == []


def test_unknown_dims_are_none_and_an_unknown_rank_is_empty(tmp_path):
    session = kiln.InferenceSession(onnx_models.save(onnx_models.dims(), tmp_path / "dims.onnx"))
    described = {i.name: (i.type, i.shape) for i in session.get_inputs()}
    assert described == {"named": ("tensor(int64)", ["batch", 4]), "unnamed": ("tensor(double)", [2, None]),
                         "rankless": ("tensor(float)", [])}


def test_model_metadata(tmp_path):
    session = kiln.InferenceSession(onnx_models.save(onnx_models.with_metadata(), tmp_path / "meta.onnx"))
    meta = session.get_modelmeta()
    assert (meta.producer_name, meta.graph_name, meta.domain) == ("kiln-tests", "metadata_graph", "ai.kiln.test")
    assert (meta.description, meta.graph_description, meta.version) == ("a model about itself", "the graph's own words", 7)
    assert meta.custom_metadata_map == {"author": "tests", "license": "none"}


def test_run_returns_the_outputs_named_in_order(tmp_path):
    session = kiln.InferenceSession(onnx_models.save(onnx_models.add_and_mul(), tmp_path / "am.onnx"))
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.full((2, 3), 0.5, np.float32)
    prod, total = session.run(["prod", "sum"], {"a": a, "b": b})
    np.testing.assert_array_equal(prod, a * b)
    np.testing.assert_array_equal(total, a + b)
    for everything in (None, []):
        total, prod = session.run(everything, {"a": a, "b": b})
        np.testing.assert_array_equal(total, a + b)
    (only,) = session.run(["sum"], {"a": a, "b": b}, kiln.RunOptions())
    np.testing.assert_array_equal(only, a + b)


def test_lists_and_scalars_are_converted_to_the_inputs_dtype(tmp_path):
    session = kiln.InferenceSession(onnx_models.save(onnx_models.add_and_mul(), tmp_path / "am.onnx"))
    (total,) = session.run(["sum"], {"a": [[1, 2, 3], [4, 5, 6]], "b": np.ones((2, 3), np.float32)})
    assert total.dtype == np.float32
    np.testing.assert_array_equal(total, [[2, 3, 4], [5, 6, 7]])


def test_a_session_from_bytes_or_a_path_object_runs_as_from_a_file_name(digits_model, heldout):
    images = heldout[0][:5]
    expected = kiln.InferenceSession(digits_model).run(None, {"image": images})[0]
    from_bytes = kiln.InferenceSession(pathlib.Path(digits_model).read_bytes())
    from_path = kiln.InferenceSession(pathlib.Path(digits_model))
    np.testing.assert_array_equal(from_bytes.run(None, {"image": images})[0], expected)
    np.testing.assert_array_equal(from_path.run(None, {"image": images})[0], expected)


@pytest.mark.parametrize("level", list(kiln.GraphOptimizationLevel))
@pytest.mark.parametrize("threads", [1, 2])
def test_every_optimization_level_and_thread_count_computes_the_same_logits(digits_model, heldout, level, threads):
    options = kiln.SessionOptions()
    options.graph_optimization_level = level
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = kiln.InferenceSession(digits_model, sess_options=options)
    images = heldout[0]
    (logits,) = session.run(["logits"], {"image": images})
    np.testing.assert_allclose(logits, onnx_models.digits_reference(digits_model, images), rtol=1e-4, atol=1e-4)
    assert session.get_session_options().graph_optimization_level == level


def test_session_options_are_copied_when_the_session_is_made(digits_model):
    options = kiln.SessionOptions()
    options.intra_op_num_threads = 2
    session = kiln.InferenceSession(digits_model, sess_options=options)
    options.intra_op_num_threads = 1
    assert session.get_session_options().intra_op_num_threads == 2


def test_session_options_have_onnxruntime_defaults_and_refuse_wrong_types():
    options = kiln.SessionOptions()
    assert options.graph_optimization_level == kiln.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert options.execution_mode == kiln.ExecutionMode.ORT_SEQUENTIAL
    assert (options.intra_op_num_threads, options.enable_profiling, options.optimized_model_filepath) == (0, False, "")
    with pytest.raises(TypeError, match="intra_op_num_threads must be an int"):
        options.intra_op_num_threads = "2"
    with pytest.raises(TypeError, match="graph_optimization_level must be one of"):
        options.graph_optimization_level = 5
    options.graph_optimization_level = 99
    assert options.graph_optimization_level is kiln.GraphOptimizationLevel.ORT_ENABLE_ALL
    with pytest.raises(AttributeError):
        options.no_such_option = 1


def test_a_free_dimension_override_fixes_the_dim(digits_model, heldout):
    options = kiln.SessionOptions()
    options.add_free_dimension_override_by_name("batch", 4)
    session = kiln.InferenceSession(digits_model, sess_options=options)
    assert session.get_inputs()[0].shape == [4, 1, 8, 8]
    (logits,) = session.run(None, {"image": heldout[0][:4]})
    assert logits.shape == (4, 10)
    with pytest.raises(kiln.InvalidArgument, match=r"input 'image' must have shape float32 \[4,1,8,8\], got \[5,1,8,8\]"):
        session.run(None, {"image": heldout[0][:5]})


def test_the_optimized_model_is_written_and_runs_alike(digits_model, heldout, tmp_path):
    options = kiln.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    images = heldout[0][:8]
    expected = kiln.InferenceSession(digits_model, sess_options=options).run(None, {"image": images})[0]
    plain = kiln.SessionOptions()
    plain.graph_optimization_level = kiln.GraphOptimizationLevel.ORT_DISABLE_ALL
    reloaded = kiln.InferenceSession(options.optimized_model_filepath, sess_options=plain)
    np.testing.assert_allclose(reloaded.run(None, {"image": images})[0], expected, rtol=1e-5, atol=1e-5)


def test_an_engine_file_runs_from_its_path_or_its_bytes(digits_model, heldout, tmp_path):
    options = kiln.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "digits.kiln")
    images = heldout[0][:8]
    expected = kiln.InferenceSession(digits_model, sess_options=options).run(None, {"image": images})[0]
    for engine in (options.optimized_model_filepath, (tmp_path / "digits.kiln").read_bytes()):
        session = kiln.InferenceSession(engine)
        assert [(i.name, i.shape) for i in session.get_inputs()] == [("image", ["batch", 1, 8, 8])]
        np.testing.assert_array_equal(session.run(None, {"image": images})[0], expected)


def test_profiling_writes_a_chrome_trace_with_every_node(digits_model, heldout, tmp_path):
    options = kiln.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = str(tmp_path / "digits")
    session = kiln.InferenceSession(digits_model, sess_options=options)
    session.run(None, {"image": heldout[0][:2]})
    path = session.end_profiling()
    assert pathlib.Path(path).name.startswith("digits") and path.endswith(".json")
    events = json.loads(pathlib.Path(path).read_text())
    names = {e.get("name", "") for e in (events if isinstance(events, list) else events["traceEvents"])}
    assert any("Conv" in name for name in names) and any("Gemm" in name for name in names)
    assert session.end_profiling() == ""
    assert kiln.InferenceSession(digits_model).end_profiling() == ""


def test_overridable_initializers_are_listed_and_may_be_fed(tmp_path):
    session = kiln.InferenceSession(onnx_models.save(onnx_models.overridable_bias(), tmp_path / "bias.onnx"))
    (bias,) = session.get_overridable_initializers()
    assert (bias.name, bias.type, bias.shape) == ("bias", "tensor(float)", [3])
    x = np.array([10, 20, 30], np.float32)
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], [11, 22, 33])
    np.testing.assert_array_equal(session.run(None, {"x": x, "bias": np.full(3, 0.5, np.float32)})[0], [10.5, 20.5, 30.5])


def test_the_cpu_provider_is_the_one_available():
    assert kiln.get_available_providers() == ["CPUExecutionProvider"]
    assert "CUDAExecutionProvider" in kiln.get_all_providers()
    assert kiln.get_device() == "CPU"
    assert kiln.__version__.count(".") == 2


def test_an_unavailable_provider_warns_and_falls_back_to_the_cpu(digits_model, heldout):
    with pytest.warns(UserWarning, match="Specified provider 'CUDAExecutionProvider' is not in available provider "
                                         "names.Available providers: 'CPUExecutionProvider'"):
        session = kiln.InferenceSession(digits_model, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert session.get_providers() == ["CPUExecutionProvider"]
    assert session.get_provider_options() == {"CPUExecutionProvider": {}}
    assert session.run(None, {"image": heldout[0][:1]})[0].shape == (1, 10)
    with pytest.warns(UserWarning, match="TensorrtExecutionProvider"):
        session.set_providers([("TensorrtExecutionProvider", {"device_id": 0})])
    assert session.get_providers() == ["CPUExecutionProvider"]


def test_the_cpu_provider_and_its_options_are_taken_quietly(digits_model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        session = kiln.InferenceSession(digits_model, providers=["CPUExecutionProvider"],
                                        provider_options=[{"arena_extend_strategy": "kSameAsRequested"}])
    assert session.get_providers() == ["CPUExecutionProvider"]


def test_spinning_and_kiln_config_entries_are_honoured(digits_model, heldout):
    options = kiln.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    options.add_session_config_entry("kiln.cpu_level", "scalar")
    assert options.get_session_config_entry("kiln.cpu_level") == "scalar"
    session = kiln.InferenceSession(digits_model, sess_options=options)
    assert session.get_cpu_level() == "scalar"
    images = heldout[0][:10]
    np.testing.assert_allclose(session.run(None, {"image": images})[0],
                               onnx_models.digits_reference(digits_model, images), rtol=1e-4, atol=1e-4)


def test_disabled_optimizers_name_kiln_passes(digits_model):
    kiln.InferenceSession(digits_model, disabled_optimizers=["FoldConstants"])
    with pytest.raises(kiln.InvalidArgument, match="no optimizer pass is named 'ConstantFolding'"):
        kiln.InferenceSession(digits_model, disabled_optimizers=["ConstantFolding"])


def test_settings_onnxruntime_also_ignores_on_the_cpu_are_accepted(digits_model):
    options = kiln.SessionOptions()
    options.log_severity_level = 0
    options.log_verbosity_level = 1
    options.logid = "test"
    options.use_deterministic_compute = True
    options.inter_op_num_threads = 4
    run_options = kiln.RunOptions()
    run_options.log_severity_level = 3
    run_options.run_tag = "tagged"
    session = kiln.InferenceSession(digits_model, sess_options=options)
    assert session.run(None, {"image": np.zeros((1, 1, 8, 8), np.float32)}, run_options)[0].shape == (1, 10)
