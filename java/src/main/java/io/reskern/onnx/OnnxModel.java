package io.reskern.onnx;

import io.reskern.graph.Graph;
import io.reskern.weights.WeightSource;
import java.util.List;

/**
 * An imported ONNX model: the fused {@link Graph} ({@code spec() == null}) and its initializers as a
 * {@link WeightSource}, ready for {@link io.reskern.weights.FoldedWeights#load} and the executors.
 *
 * @param graph      the fused graph
 * @param weights    the initializers, under the graph's tensor names
 * @param opset      the default-domain opset version of the file
 * @param producer   producer name and version from the file (may be empty)
 * @param inputName  name of the graph input (the image)
 * @param inputShape declared input shape, {@code -1} for a symbolic or unknown dimension (reskern runs any N, H, W)
 * @param outputName name of the graph output (the logits)
 */
public record OnnxModel(Graph graph, WeightSource weights, long opset, String producer, String inputName,
                        List<Long> inputShape, String outputName) {
}
