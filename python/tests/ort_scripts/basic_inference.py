# Basic inference: load a model, feed a numpy array by the input's name, read the output.
import sys

import numpy as np

import kiln as ort

model_path, images_path, labels_path = sys.argv[1:4]
session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
input_name = session.get_inputs()[0].name
output_name = session.get_outputs()[0].name

images = np.load(images_path).astype(np.float32)
labels = np.load(labels_path)
logits = session.run([output_name], {input_name: images})[0]
predictions = np.argmax(logits, axis=1)
correct = int((predictions == labels).sum())
print(f"accuracy: {correct}/{len(labels)}")
assert correct == 97, correct
