"""onnxruntime's SessionOptions and RunOptions, and the enums they take.

Every setting onnxruntime has can be set. Those Kiln has no meaning for are accepted only where
onnxruntime's own CPU provider ignores them too (logging, inter-op threads under sequential
execution, use_deterministic_compute); any other setting Kiln cannot honour makes InferenceSession
(or run, for RunOptions) raise kiln.NotImplemented naming the setting.
"""

import enum

from kiln import _kiln
from kiln.errors import NotImplemented as KilnNotImplemented
from kiln.errors import RuntimeException


class GraphOptimizationLevel(enum.IntEnum):
    ORT_DISABLE_ALL = 0
    ORT_ENABLE_BASIC = 1
    ORT_ENABLE_EXTENDED = 2
    ORT_ENABLE_LAYOUT = 3  # onnxruntime 1.22 and later
    ORT_ENABLE_ALL = 99


# onnxruntime's levels as Kiln's (src/passes): none, basic, extended (fusions), and the NCHWc
# layout on top, which is all Kiln has beyond the fusions.
_KILN_LEVEL = {
    GraphOptimizationLevel.ORT_DISABLE_ALL: 0,
    GraphOptimizationLevel.ORT_ENABLE_BASIC: 1,
    GraphOptimizationLevel.ORT_ENABLE_EXTENDED: 2,
    GraphOptimizationLevel.ORT_ENABLE_LAYOUT: 3,
    GraphOptimizationLevel.ORT_ENABLE_ALL: 3,
}


class ExecutionMode(enum.IntEnum):
    ORT_SEQUENTIAL = 0
    ORT_PARALLEL = 1


class ExecutionOrder(enum.IntEnum):
    DEFAULT = 0
    PRIORITY_BASED = 1
    MEMORY_EFFICIENT = 2


# The microseconds idle workers poll before sleeping when onnxruntime's
# session.intra_op.allow_spinning is "1": enough to bridge a network's back-to-back parallel
# regions (docs/architecture.md, thread pool).
_SPIN_WAIT_US = 100


class _Setting:
    """One typed attribute with onnxruntime's default: assigning a value of another type raises
    TypeError, as onnxruntime's pybind11 properties do."""

    def __init__(self, kind, default):
        self.kind, self.default = kind, default

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        return self if obj is None else obj._values.get(self.name, self.default)

    def __set__(self, obj, value):
        if isinstance(self.kind, type) and issubclass(self.kind, enum.IntEnum):
            try:
                value = self.kind(value)
            except ValueError:
                raise TypeError(f"{self.name} must be one of {[m.name for m in self.kind]}, got {value!r}") from None
        elif self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{self.name} must be an int, got {value!r}")
        elif not isinstance(value, self.kind):
            raise TypeError(f"{self.name} must be a {self.kind.__name__}, got {value!r}")
        obj._values[self.name] = value


def _config_entry(options, key):
    """The value of config entry `key`, failing as onnxruntime does when there is none."""
    if key not in options._config:
        raise RuntimeError(f"{type(options).__name__} does not have configuration with key: {key}")
    return options._config[key]


def _unsupported(setting, value, reason):
    raise KilnNotImplemented(f"{setting} = {value!r} is not supported by Kiln: {reason}")


class SessionOptions:
    """Settings for InferenceSession, with onnxruntime's names and defaults."""

    __slots__ = ("_values", "_dim_overrides", "_denotation_overrides", "_config")

    intra_op_num_threads = _Setting(int, 0)  # threads a run uses, the calling one included; 0: one per core
    inter_op_num_threads = _Setting(int, 0)
    execution_mode = _Setting(ExecutionMode, ExecutionMode.ORT_SEQUENTIAL)
    execution_order = _Setting(ExecutionOrder, ExecutionOrder.DEFAULT)
    graph_optimization_level = _Setting(GraphOptimizationLevel, GraphOptimizationLevel.ORT_ENABLE_ALL)
    optimized_model_filepath = _Setting(str, "")
    enable_profiling = _Setting(bool, False)
    profile_file_prefix = _Setting(str, "kiln_profile")
    log_severity_level = _Setting(int, 2)
    log_verbosity_level = _Setting(int, 0)
    logid = _Setting(str, "")
    enable_cpu_mem_arena = _Setting(bool, True)
    enable_mem_pattern = _Setting(bool, True)
    enable_mem_reuse = _Setting(bool, True)
    use_deterministic_compute = _Setting(bool, False)

    def __init__(self):
        self._values = {}
        self._dim_overrides = {}
        self._denotation_overrides = {}
        self._config = {}

    def __copy__(self):
        other = SessionOptions()
        other._values = dict(self._values)
        other._dim_overrides = dict(self._dim_overrides)
        other._denotation_overrides = dict(self._denotation_overrides)
        other._config = dict(self._config)
        return other

    def add_free_dimension_override_by_name(self, dim_name, dim_value):
        """Fixes the inputs' symbolic dim `dim_name` to `dim_value`."""
        self._dim_overrides[str(dim_name)] = int(dim_value)

    def add_free_dimension_override_by_denotation(self, dim_denotation, dim_value):
        self._denotation_overrides[str(dim_denotation)] = int(dim_value)

    def add_session_config_entry(self, config_key, config_value):
        self._config[str(config_key)] = str(config_value)

    def get_session_config_entry(self, config_key):
        return _config_entry(self, config_key)

    def register_custom_ops_library(self, library_path):
        _unsupported("register_custom_ops_library", library_path, "Kiln runs only the ops it implements (`kiln ops`)")

    def add_initializer(self, name, ort_value):
        _unsupported("add_initializer", name, "initializers come from the model file")

    def add_external_initializers(self, names, ort_values):
        _unsupported("add_external_initializers", names, "initializers come from the model file")

    def _native(self, disabled_optimizers=None):
        """These settings as kiln::SessionOptions; kiln.NotImplemented naming the first setting Kiln
        cannot honour."""
        if self.execution_mode != ExecutionMode.ORT_SEQUENTIAL:
            _unsupported("execution_mode", self.execution_mode,
                         "Kiln runs a graph's nodes one after another, each on intra_op_num_threads threads")
        if self.execution_order != ExecutionOrder.DEFAULT:
            _unsupported("execution_order", self.execution_order, "Kiln runs nodes in its own topological order")
        for setting in ("enable_cpu_mem_arena", "enable_mem_pattern", "enable_mem_reuse"):
            if not getattr(self, setting):
                _unsupported(setting, False, "a run always draws its intermediate tensors from Kiln's planned arena")
        if self._denotation_overrides:
            _unsupported("add_free_dimension_override_by_denotation", self._denotation_overrides,
                         "Kiln reads no dim denotations; use add_free_dimension_override_by_name")
        if self.intra_op_num_threads < 0:
            raise ValueError(f"intra_op_num_threads must not be negative, got {self.intra_op_num_threads}")
        native = _kiln.SessionOptions()
        native.threads = self.intra_op_num_threads
        native.optimization_level = _KILN_LEVEL[self.graph_optimization_level]
        native.optimized_model_path = self.optimized_model_filepath
        native.enable_profiling = self.enable_profiling
        native.profile_file_prefix = self.profile_file_prefix
        native.dim_overrides = dict(self._dim_overrides)
        native.disabled_passes = list(disabled_optimizers or [])
        for key, value in self._config.items():
            _apply_config_entry(native, key, value)
        return native


def _apply_config_entry(native, key, value):
    if key == "session.intra_op.allow_spinning" and value in ("0", "1"):
        native.spin_wait_us = _SPIN_WAIT_US if value == "1" else 0
    elif key == "session.load_model_format" and value == "ONNX":
        pass
    elif key == "kiln.cpu_level":
        native.cpu_level = value
    elif key == "kiln.spin_wait_us":
        native.spin_wait_us = int(value)
    else:
        _unsupported(f"session config entry '{key}'", value,
                     "Kiln reads session.intra_op.allow_spinning ('0' or '1'), session.load_model_format "
                     "('ONNX'), kiln.cpu_level and kiln.spin_wait_us")


class RunOptions:
    """Settings for one InferenceSession.run, with onnxruntime's names and defaults."""

    __slots__ = ("_values", "_config")

    log_severity_level = _Setting(int, 2)
    log_verbosity_level = _Setting(int, 0)
    logid = _Setting(str, "")
    run_tag = _Setting(str, "")
    terminate = _Setting(bool, False)
    only_execute_path_to_fetches = _Setting(bool, False)

    def __init__(self):
        self._values = {}
        self._config = {}

    def add_run_config_entry(self, config_key, config_value):
        self._config[str(config_key)] = str(config_value)

    def get_run_config_entry(self, config_key):
        return _config_entry(self, config_key)

    def _check(self):
        """kiln.NotImplemented naming a setting Kiln cannot honour; a RuntimeException when
        terminate is set, as onnxruntime refuses to start such a run."""
        if self.only_execute_path_to_fetches:
            _unsupported("RunOptions.only_execute_path_to_fetches", True, "a run computes every node of the graph")
        for key, value in self._config.items():
            _unsupported(f"run config entry '{key}'", value, "Kiln reads no run config entries")
        if self.terminate:
            raise RuntimeException("Exiting due to terminate flag being set to true.")

