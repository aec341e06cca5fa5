"""Writes models/gather_int64.onnx: y = Gather(table, idx) with table float32 [4, 2] = [[0, 1], [10, 11], [20, 21],
[30, 31]], input idx int64 [n], output y float32 [n, 2]. An index outside 0..3 (or -4..-1) makes onnxruntime refuse
the run: the ONNX runtime's tests use it for a request that passes validation but fails in the session.
Made with Debian's python3-onnx 1.12: /usr/bin/python3 test-fixtures/make_gather_onnx.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

table = numpy_helper.from_array(np.array([[0, 1], [10, 11], [20, 21], [30, 31]], dtype=np.float32), name="table")
graph = helper.make_graph(
    [helper.make_node("Gather", ["table", "idx"], ["y"], axis=0)],
    "gather_int64",
    [helper.make_tensor_value_info("idx", TensorProto.INT64, ["n"])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
    [table],
)
model = helper.make_model(graph, producer_name="aidos-test-fixtures", opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 7
onnx.checker.check_model(model)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", "gather_int64.onnx")
onnx.save(model, out)
print(out, os.path.getsize(out), "bytes")
