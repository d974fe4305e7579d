"""Execution providers, as onnxruntime names them.

Kiln has one, its CPU provider, reported as 'CPUExecutionProvider'. A session asked for a provider
that is not available (CUDA, TensorRT, ...) does what onnxruntime does when that provider is not
available in its build: it warns and runs on the CPU.
"""

import collections.abc
import warnings

CPU = "CPUExecutionProvider"

# onnxruntime's get_all_providers(): every provider it can be built with, in its order.
_ALL_PROVIDERS = [
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "MIGraphXExecutionProvider",
    "ROCMExecutionProvider",
    "OpenVINOExecutionProvider",
    "DnnlExecutionProvider",
    "VitisAIExecutionProvider",
    "QNNExecutionProvider",
    "NnapiExecutionProvider",
    "VSINPUExecutionProvider",
    "JsExecutionProvider",
    "CoreMLExecutionProvider",
    "ArmNNExecutionProvider",
    "ACLExecutionProvider",
    "DmlExecutionProvider",
    "RknpuExecutionProvider",
    "WebNNExecutionProvider",
    "WebGpuExecutionProvider",
    "XnnpackExecutionProvider",
    "CANNExecutionProvider",
    "AzureExecutionProvider",
    CPU,
]


def get_available_providers():
    """The providers this build runs: Kiln's CPU provider."""
    return [CPU]


def get_all_providers():
    """Every provider onnxruntime knows of (only get_available_providers() can run here)."""
    return list(_ALL_PROVIDERS)


def get_device():
    """The device Kiln computes on."""
    return "CPU"


def normalize(providers, provider_options):
    """onnxruntime's checks of InferenceSession's providers and provider_options: the same
    ValueErrors for malformed arguments and the same UserWarning for a provider that is not
    available. Returns the providers the session runs with and their options."""
    if providers is None:
        return [CPU], [{}]
    if not isinstance(providers, collections.abc.Sequence) or isinstance(providers, str):
        raise ValueError("'providers' should be a sequence.")
    if provider_options is not None:
        if not isinstance(provider_options, collections.abc.Sequence):
            raise ValueError("'provider_options' should be a sequence.")
        if len(providers) != len(provider_options):
            raise ValueError("'providers' and 'provider_options' should be the same length if both are given.")
        if not all(isinstance(provider, str) for provider in providers):
            raise ValueError("Only string values for 'providers' are supported if 'provider_options' is given.")
        if not all(isinstance(options, dict) for options in provider_options):
            raise ValueError("'provider_options' values must be dicts.")
        pairs = list(zip(providers, provider_options))
    else:
        pairs = []
        for provider in providers:
            if isinstance(provider, str):
                pairs.append((provider, {}))
            elif (isinstance(provider, tuple) and len(provider) == 2 and isinstance(provider[0], str)
                  and isinstance(provider[1], dict)):
                pairs.append(provider)
            else:
                raise ValueError("'providers' values must be either strings or (string, dict) tuples.")
    seen = set()
    for name, _ in pairs:
        if name in seen:
            warnings.warn(f"Duplicate provider '{name}' encountered, ignoring.")
            continue
        seen.add(name)
        if name not in get_available_providers():
            warnings.warn(f"Specified provider '{name}' is not in available provider names."
                          f"Available providers: '{', '.join(get_available_providers())}'")
    # The CPU provider always runs, as onnxruntime appends it; it reports no options, as
    # onnxruntime's CPU provider does (it ignores those it is given).
    return [CPU], [{}]
