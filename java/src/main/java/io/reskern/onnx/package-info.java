/**
 * ONNX import: {@link io.reskern.onnx.OnnxImporter} turns a ResNet-family ONNX model (torchvision / timm exports) into
 * reskern's fused {@link io.reskern.graph.Graph} plus a {@link io.reskern.weights.WeightSource} over its initializers
 * ({@link io.reskern.onnx.OnnxModel}); {@code Model.builder().onnx(path)} does that and builds the executor.
 *
 * <p>The file is parsed with protobuf-java from classes generated at build time from
 * {@code java/src/main/proto/onnx_subset.proto} (the ONNX fields reskern reads, with their spec field numbers; other
 * fields are skipped). Importing is single-threaded and keeps no global state; the result is immutable. Every failure
 * is a {@link io.reskern.ReskernException}: UNSUPPORTED (a valid model reskern cannot run, naming the node and the
 * attribute), BAD_FILE (malformed or hostile), IO. The importer is fuzzed with Jazzer
 * ({@code tests/src/test/java/io/reskern/fuzz/}).
 */
package io.reskern.onnx;
