"""Kiln's errors: one class per kiln::ErrorCode (include/kiln/error.h), each a KilnError, which is
a RuntimeError; the message is Kiln's own and names the input, node or op. Where Python has a
matching built-in the class is that too, so ``except ValueError`` catches a bad argument.

onnxruntime's names are aliases, so that ``except ort.InvalidArgument`` style handlers keep
working under ``import kiln as ort``.
"""


class KilnError(RuntimeError):
    """Any error Kiln raises."""


class InvalidArgument(KilnError, ValueError):
    """A caller passed something wrong: input names, dtypes, shapes, options."""


class InvalidModel(KilnError):
    """The model file is malformed or inconsistent."""


class NotImplemented(KilnError, NotImplementedError):  # noqa: A001 (onnxruntime's name)
    """A valid model or call uses something Kiln does not support (op, opset, dtype, option)."""


class IoError(KilnError, OSError):
    """A file could not be read or written."""


class RuntimeException(KilnError):
    """A failure while running: a kernel met data it cannot handle, memory ran out."""


# onnxruntime's names for the same failures.
Fail = KilnError
InvalidGraph = InvalidModel
NoSuchFile = IoError
