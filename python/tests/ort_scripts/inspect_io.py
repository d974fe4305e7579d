# Inspecting a model's inputs and outputs: names, shapes (symbolic dims as strings), types.
import sys

import kiln as ort

session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
for kind, args in (("input", session.get_inputs()), ("output", session.get_outputs())):
    for arg in args:
        print(f"{kind} name={arg.name} shape={arg.shape} type={arg.type}")

first = session.get_inputs()[0]
assert first.name == "image" and first.shape == ["batch", 1, 8, 8] and first.type == "tensor(float)"
assert session.get_outputs()[0].shape == ["batch", 10]
print("providers:", session.get_providers())
print("available:", ort.get_available_providers(), "device:", ort.get_device())
