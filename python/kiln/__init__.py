"""Kiln, a C++ inference engine, from Python (docs/python.md).

``kiln.InferenceSession`` and its companions follow onnxruntime's Python API, so a script written
for onnxruntime runs with ``import kiln as ort``; ``kiln.llm`` runs Llama-family LLMs in the shape
of vLLM's ``LLM``.
"""

from kiln import llm, quantization
from kiln._kiln import __version__
from kiln.errors import (
    Fail,
    InvalidArgument,
    InvalidGraph,
    InvalidModel,
    IoError,
    KilnError,
    NoSuchFile,
    NotImplemented,
    RuntimeException,
)
from kiln.options import ExecutionMode, ExecutionOrder, GraphOptimizationLevel, RunOptions, SessionOptions
from kiln.providers import get_all_providers, get_available_providers, get_device
from kiln.session import InferenceSession, ModelMetadata, NodeArg

# kiln.NotImplemented stays out of `from kiln import *`, which would hide Python's NotImplemented.
__all__ = [
    "__version__",
    "ExecutionMode",
    "ExecutionOrder",
    "Fail",
    "GraphOptimizationLevel",
    "InferenceSession",
    "InvalidArgument",
    "InvalidGraph",
    "InvalidModel",
    "IoError",
    "KilnError",
    "ModelMetadata",
    "NoSuchFile",
    "NodeArg",
    "RunOptions",
    "RuntimeException",
    "SessionOptions",
    "get_all_providers",
    "get_available_providers",
    "get_device",
    "llm",
    "quantization",
]
