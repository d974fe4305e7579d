"""Bad arguments raise Kiln's errors with Kiln's messages, as the class of their code; options Kiln
cannot honour are refused naming the option."""

import numpy as np
import pytest

import kiln
import onnx_models


@pytest.fixture(scope="module")
def digits(digits_model):
    return kiln.InferenceSession(digits_model)


def test_error_classes_are_kiln_errors_and_the_matching_builtins():
    assert issubclass(kiln.KilnError, RuntimeError)
    for cls, builtin in ((kiln.InvalidArgument, ValueError), (kiln.NotImplemented, NotImplementedError),
                         (kiln.IoError, OSError), (kiln.InvalidModel, kiln.KilnError),
                         (kiln.RuntimeException, kiln.KilnError)):
        assert issubclass(cls, kiln.KilnError) and issubclass(cls, builtin)
    assert (kiln.Fail, kiln.InvalidGraph, kiln.NoSuchFile) == (kiln.KilnError, kiln.InvalidModel, kiln.IoError)


def test_a_star_import_leaves_pythons_not_implemented_alone():
    namespace = {}
    exec("from kiln import *", namespace)
    assert "NotImplemented" not in namespace and namespace["KilnError"] is kiln.KilnError


def test_a_wrong_input_name_lists_the_inputs(digits):
    with pytest.raises(kiln.InvalidArgument, match="the model has no input 'pixels'; its inputs are: image"):
        digits.run(None, {"pixels": np.zeros((1, 1, 8, 8), np.float32)})


def test_a_missing_input_is_named(digits):
    with pytest.raises(ValueError, match=r"input 'image' \(float32 \[batch,1,8,8\]\) was not given"):
        digits.run(None, {})


def test_a_wrong_dtype_is_refused_not_converted(digits):
    with pytest.raises(kiln.InvalidArgument, match=r"input 'image' must be float32 \[batch,1,8,8\], got float64 \[1,1,8,8\]"):
        digits.run(None, {"image": np.zeros((1, 1, 8, 8), np.float64)})


def test_a_wrong_shape_is_refused(digits):
    with pytest.raises(kiln.InvalidArgument, match=r"input 'image' must have shape float32 \[batch,1,8,8\], got \[1,1,9,9\]"):
        digits.run(None, {"image": np.zeros((1, 1, 9, 9), np.float32)})


def test_an_unknown_output_name_lists_the_outputs(digits):
    with pytest.raises(kiln.InvalidArgument, match="the model has no output 'probs'; its outputs are: logits"):
        digits.run(["probs"], {"image": np.zeros((1, 1, 8, 8), np.float32)})


def test_arrays_of_dtypes_kiln_has_no_tensors_of_are_refused(digits):
    with pytest.raises(kiln.NotImplemented, match="input 'image' is a numpy array of dtype complex64"):
        digits.run(None, {"image": np.zeros((1, 1, 8, 8), np.complex64)})
    with pytest.raises(TypeError, match="input names must be str"):
        digits.run(None, {0: np.zeros((1, 1, 8, 8), np.float32)})
    with pytest.raises(TypeError, match="input_feed must be a dict"):
        digits.run(None, [np.zeros((1, 1, 8, 8), np.float32)])


def test_a_missing_file_is_an_os_error_naming_it(tmp_path):
    with pytest.raises(OSError, match="no_such.onnx") as raised:
        kiln.InferenceSession(str(tmp_path / "no_such.onnx"))
    assert isinstance(raised.value, kiln.IoError)


def test_bytes_that_are_not_a_model_are_an_invalid_model():
    with pytest.raises(kiln.InvalidModel, match="not a valid ONNX model"):
        kiln.InferenceSession(b"\x00\x01 certainly not protobuf")


def test_an_op_kiln_lacks_is_not_implemented_naming_it(tmp_path):
    with pytest.raises(NotImplementedError, match="Frobnicate"):
        kiln.InferenceSession(onnx_models.save(onnx_models.unsupported_op(), tmp_path / "frob.onnx"))


def test_the_model_argument_must_be_a_path_or_bytes():
    with pytest.raises(TypeError, match="Unable to load from type"):
        kiln.InferenceSession(12345)


def test_unknown_keyword_arguments_are_refused(digits_model):
    with pytest.raises(TypeError, match="unexpected keyword arguments: colour"):
        kiln.InferenceSession(digits_model, colour="blue")


@pytest.mark.parametrize("providers, provider_options, message", [
    ("CPUExecutionProvider", None, "'providers' should be a sequence."),
    (["CPUExecutionProvider"], [{}, {}], "'providers' and 'provider_options' should be the same length"),
    ([("CPUExecutionProvider", {})], [{}], "Only string values for 'providers' are supported"),
    (["CPUExecutionProvider"], ["x"], "'provider_options' values must be dicts."),
    ([3], None, "'providers' values must be either strings or \\(string, dict\\) tuples."),
])
def test_malformed_providers_raise_onnxruntimes_value_errors(digits_model, providers, provider_options, message):
    with pytest.raises(ValueError, match=message):
        kiln.InferenceSession(digits_model, providers=providers, provider_options=provider_options)


def _options(**settings):
    options = kiln.SessionOptions()
    for name, value in settings.items():
        setattr(options, name, value)
    return options


@pytest.mark.parametrize("options, message", [
    (_options(execution_mode=kiln.ExecutionMode.ORT_PARALLEL), "execution_mode = .*ORT_PARALLEL.* is not supported"),
    (_options(execution_order=kiln.ExecutionOrder.PRIORITY_BASED), "execution_order = .* is not supported"),
    (_options(enable_cpu_mem_arena=False), "enable_cpu_mem_arena = False is not supported"),
    (_options(enable_mem_pattern=False), "enable_mem_pattern = False is not supported"),
    (_options(enable_mem_reuse=False), "enable_mem_reuse = False is not supported"),
])
def test_settings_kiln_cannot_honour_are_refused_by_name(digits_model, options, message):
    with pytest.raises(kiln.NotImplemented, match=message):
        kiln.InferenceSession(digits_model, sess_options=options)


def test_config_entries_and_denotations_kiln_does_not_read_are_refused(digits_model):
    options = kiln.SessionOptions()
    options.add_session_config_entry("session.disable_prepacking", "1")
    with pytest.raises(kiln.NotImplemented, match="session config entry 'session.disable_prepacking' = '1'"):
        kiln.InferenceSession(digits_model, sess_options=options)
    options = kiln.SessionOptions()
    options.add_free_dimension_override_by_denotation("DATA_BATCH", 1)
    with pytest.raises(kiln.NotImplemented, match="add_free_dimension_override_by_denotation"):
        kiln.InferenceSession(digits_model, sess_options=options)
    with pytest.raises(kiln.NotImplemented, match="register_custom_ops_library"):
        kiln.SessionOptions().register_custom_ops_library("libcustom.so")
    with pytest.raises(RuntimeError, match="does not have configuration with key: nothing"):
        kiln.SessionOptions().get_session_config_entry("nothing")


def test_an_unknown_free_dimension_is_refused_naming_the_known_ones(digits_model):
    options = kiln.SessionOptions()
    options.add_free_dimension_override_by_name("rows", 2)
    with pytest.raises(kiln.InvalidArgument, match="no input dim is named 'rows'; the inputs' named dims are: batch"):
        kiln.InferenceSession(digits_model, sess_options=options)


def test_run_options_kiln_cannot_honour_are_refused(digits):
    image = {"image": np.zeros((1, 1, 8, 8), np.float32)}
    options = kiln.RunOptions()
    options.only_execute_path_to_fetches = True
    with pytest.raises(kiln.NotImplemented, match="only_execute_path_to_fetches"):
        digits.run(None, image, options)
    options = kiln.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    with pytest.raises(kiln.NotImplemented, match="run config entry 'memory.enable_memory_arena_shrinkage'"):
        digits.run(None, image, options)
    options = kiln.RunOptions()
    options.terminate = True
    with pytest.raises(kiln.RuntimeException, match="terminate flag"):
        digits.run(None, image, options)
    with pytest.raises(kiln.NotImplemented, match="io_binding"):
        digits.io_binding()
