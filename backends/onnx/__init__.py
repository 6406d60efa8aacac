"""The ONNX backend: the IR written as an ONNX graph with the onnx package."""
