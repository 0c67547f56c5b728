"""A trained look for runtimes outside stylereel: ONNX (ONNX Runtime, Flame, any engine that
reads ONNX). `ExportGraph` is the network as such a runtime sees it: named inputs, the look's
strength (and a multi-look model's mix) as inputs of their own, one RGB output."""
