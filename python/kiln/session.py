"""InferenceSession: onnxruntime's session API over kiln::Session (include/kiln/session.h)."""

import copy
import os

from kiln import _kiln, providers
from kiln.errors import NotImplemented as KilnNotImplemented
from kiln.options import SessionOptions

# ONNX's TensorProto data types (kiln::DType's numbers) as onnxruntime spells tensor types.
_ONNX_TYPE_NAMES = {
    0: "undefined", 1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    8: "string", 9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 16: "bfloat16",
}


class NodeArg:
    """A model input or output as onnxruntime describes it: `shape` holds ints for fixed dims,
    strings for named symbolic ones and None for a dim of unknown size with no name ([] when even
    the rank is unknown); `type` is 'tensor(float)', 'tensor(int64)', ..."""

    def __init__(self, info):
        self.name = info.name
        self.type = f"tensor({_ONNX_TYPE_NAMES.get(info.dtype, 'undefined')})"
        if info.shape is None:
            self.shape = []
        else:
            names = info.dim_names
            self.shape = [d if d >= 0 else (names[i] if i < len(names) and names[i] else None)
                          for i, d in enumerate(info.shape)]

    def __repr__(self):
        return f"NodeArg(name={self.name!r}, type={self.type!r}, shape={self.shape!r})"


class ModelMetadata:
    """What the model file says about itself (onnxruntime's ModelMetadata)."""

    _FIELDS = ("producer_name", "producer_version", "graph_name", "graph_description", "domain", "description",
               "version", "custom_metadata_map")

    def __init__(self, meta):
        for name in self._FIELDS:
            setattr(self, name, getattr(meta, name))


class InferenceSession:
    """Runs an ONNX model or a Kiln engine file (`kiln build`) on Kiln's CPU provider.

    path_or_bytes: a file name, or the model file's bytes. sess_options: a kiln.SessionOptions.
    providers / provider_options: as onnxruntime takes them; a provider other than
    'CPUExecutionProvider' is warned about and the session runs on the CPU, as onnxruntime does
    with a provider its build lacks. The keyword argument disabled_optimizers names Kiln passes
    not to run (`kiln passes` lists them).
    """

    def __init__(self, path_or_bytes, sess_options=None, providers=None, provider_options=None, **kwargs):
        disabled_optimizers = kwargs.pop("disabled_optimizers", None)
        if kwargs:
            raise TypeError(f"InferenceSession got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if isinstance(path_or_bytes, (str, os.PathLike)):
            self._model_path, self._model_bytes = os.fspath(path_or_bytes), None
        elif isinstance(path_or_bytes, bytes):
            self._model_path, self._model_bytes = None, path_or_bytes
        else:
            raise TypeError(f"Unable to load from type '{type(path_or_bytes)}'")
        self._sess_options = copy.copy(sess_options) if sess_options is not None else SessionOptions()
        self._disabled_optimizers = disabled_optimizers
        self._create(providers, provider_options)

    def _create(self, providers_, provider_options):
        self._providers, self._provider_options = providers.normalize(providers_, provider_options)
        native = self._sess_options._native(self._disabled_optimizers)
        if self._model_path is not None:
            self._sess = _kiln.Session(self._model_path, native)
        else:
            self._sess = _kiln.Session.from_bytes(self._model_bytes, native)
        self._inputs = [NodeArg(i) for i in self._sess.inputs]
        self._outputs = [NodeArg(o) for o in self._sess.outputs]
        self._overridable = [NodeArg(i) for i in self._sess.overridable_initializers]

    def get_inputs(self):
        return list(self._inputs)

    def get_outputs(self):
        return list(self._outputs)

    def get_overridable_initializers(self):
        return list(self._overridable)

    def get_modelmeta(self):
        return ModelMetadata(self._sess.metadata)

    def get_providers(self):
        return list(self._providers)

    def get_provider_options(self):
        return dict(zip(self._providers, self._provider_options))

    def get_session_options(self):
        return copy.copy(self._sess_options)

    def get_cpu_level(self):
        """Kiln's own: the instruction set of the kernels ('scalar', 'avx2' or 'avx512')."""
        return self._sess.cpu_level

    def set_providers(self, providers=None, provider_options=None):
        """Creates the session again with these providers, as onnxruntime does."""
        self._create(providers, provider_options)

    def disable_fallback(self):
        """onnxruntime's switch for retrying a failed run on the CPU provider; Kiln always runs there."""

    def enable_fallback(self):
        """See disable_fallback."""

    def run(self, output_names, input_feed, run_options=None):
        """The outputs named (every output when None or empty), in order, as numpy arrays.

        An input array that is C-contiguous and of the input's dtype is read in place; lists and
        other arrays are converted once. An array of another dtype is refused, naming the input.
        Outputs are arrays over Kiln's own buffers, not copies.
        """
        if run_options is not None:
            run_options._check()
        if not isinstance(input_feed, dict):
            raise TypeError(f"input_feed must be a dict of input name to array, got {type(input_feed).__name__}")
        return self._sess.run(list(output_names or []), input_feed)

    def end_profiling(self):
        """Writes the profile (SessionOptions.enable_profiling) and returns its file name; '' when
        profiling is off or has already ended."""
        return self._sess.end_profiling()

    def io_binding(self):
        raise KilnNotImplemented("io_binding is not supported by Kiln: inputs are read in place and outputs are "
                                 "returned without copies by run()")

