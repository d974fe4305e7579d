# get_modelmeta(): what the model file says about itself.
import sys

import kiln as ort

session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
meta = session.get_modelmeta()
print("producer_name:", meta.producer_name)
print("graph_name:", meta.graph_name)
print("domain:", meta.domain)
print("description:", meta.description)
print("graph_description:", meta.graph_description)
print("version:", meta.version)
for key, value in sorted(meta.custom_metadata_map.items()):
    print(f"custom: {key}={value}")
