"""Post-training INT8 quantization in the shape of ``onnxruntime.quantization`` (docs/quantization.md).

``quantize_static`` writes a standard QDQ model calibrated on a ``CalibrationDataReader`` (or, a
Kiln extension, on a folder of ``.npy`` samples); ``quantize_dynamic`` writes onnxruntime's dynamic
form. Both outputs run in Kiln and in onnxruntime.
"""

from enum import Enum
import os

from kiln import _kiln

__all__ = [
    "CalibrationDataReader",
    "CalibrationMethod",
    "QuantFormat",
    "QuantType",
    "quantize_dynamic",
    "quantize_static",
]


class QuantType(Enum):
    QInt8 = 0
    QUInt8 = 1


class QuantFormat(Enum):
    QDQ = 1


class CalibrationMethod(Enum):
    MinMax = 0
    Entropy = 1
    Percentile = 2


class CalibrationDataReader:
    """Hands out calibration samples, one ``{input name: array}`` per ``get_next()``, then None."""

    def get_next(self):
        raise NotImplementedError

    def __iter__(self):
        while (sample := self.get_next()) is not None:
            yield sample


def _path(model):
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model)
    raise TypeError(f"expected a model path, got {type(model).__name__}")


def _exclusions(nodes_to_exclude, op_types_to_quantize, all_types):
    exclude = list(nodes_to_exclude or [])
    if op_types_to_quantize is not None:
        exclude += [t for t in all_types if t not in op_types_to_quantize]
    return exclude


_STATIC_TYPES = ["Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Mul", "Concat", "AveragePool",
                 "GlobalAveragePool", "Resize", "Sigmoid", "LeakyRelu", "HardSigmoid", "HardSwish",
                 "MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"]


def quantize_static(model_input, model_output, calibration_data_reader, quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=None, per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, nodes_to_exclude=None,
                    calibrate_method=CalibrationMethod.MinMax, extra_options=None, calibration_count=0,
                    keep_float_first_last=False):
    """Quantizes ``model_input`` to a QDQ model at ``model_output``.

    ``calibration_data_reader`` is a ``CalibrationDataReader`` (any object with ``get_next()``),
    an iterable of ``{input name: array}``, or the path of a folder of ``.npy`` samples.
    ``extra_options={"CalibPercentile": 99.99}`` sets the percentile method's share.
    """
    if quant_format != QuantFormat.QDQ:
        raise NotImplementedError("kiln writes QuantFormat.QDQ models only")
    if weight_type != QuantType.QInt8:
        raise NotImplementedError("kiln quantizes weights to QuantType.QInt8 (symmetric) only")
    percentile = float((extra_options or {}).get("CalibPercentile", 99.999))
    if isinstance(calibration_data_reader, (str, os.PathLike)):
        samples = os.fspath(calibration_data_reader)
    elif hasattr(calibration_data_reader, "get_next"):
        samples = list(iter(calibration_data_reader.get_next, None))
    else:
        samples = list(calibration_data_reader)
    _kiln._quantize_static(
        _path(model_input), _path(model_output), samples,
        method=CalibrationMethod(calibrate_method).name.lower(), percentile=percentile,
        int8_activations=QuantType(activation_type) == QuantType.QInt8, per_channel=bool(per_channel),
        exclude=_exclusions(nodes_to_exclude, op_types_to_quantize, _STATIC_TYPES),
        keep_float=bool(keep_float_first_last), count=int(calibration_count))


def quantize_dynamic(model_input, model_output, op_types_to_quantize=None, per_channel=True,
                     weight_type=QuantType.QInt8, nodes_to_exclude=None):
    """Quantizes ``model_input``'s MatMul, Gemm and Conv weights to int8, activations at run time."""
    if weight_type != QuantType.QInt8:
        raise NotImplementedError("kiln quantizes weights to QuantType.QInt8 (symmetric) only")
    _kiln._quantize_dynamic(_path(model_input), _path(model_output), per_channel=bool(per_channel),
                            exclude=list(nodes_to_exclude or []),
                            op_types=list(op_types_to_quantize or ["MatMul", "Gemm", "Conv"]))
