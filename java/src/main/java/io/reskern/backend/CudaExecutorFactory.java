package io.reskern.backend;

import io.reskern.ConvPolicy;
import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.backend.conv.TuneListener;
import io.reskern.graph.Graph;
import io.reskern.weights.FoldedWeights;

/** Creates CUDA device models (kept apart so the CPU path never touches CUDA classes). */
final class CudaExecutorFactory {
    private CudaExecutorFactory() {
    }

    static DeviceModel load(Graph graph, FoldedWeights weights, Device device, Precision precision, ConvPolicy policy,
                            TuneListener listener) throws ReskernException {
        return new CudaDeviceModel(graph, weights, device, precision, policy, listener);
    }
}
