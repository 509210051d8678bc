"""ONNX export of the separation graph and the query encoders into a model package."""
