package io.reskern.backend;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import io.reskern.nativelib.CpuOps;
import io.reskern.weights.FoldedWeights;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * CPU weights: conv weights packed once for the micro-kernels, epilogue and FC parameters in native memory; shared by
 * every {@link CpuExecutor} made from it.
 */
final class CpuDeviceModel extends BaseDeviceModel {
    private final List<Pointer> owned = new ArrayList<>();

    CpuDeviceModel(Graph graph, FoldedWeights weights) throws ReskernException {
        super(graph, Device.CPU, Precision.FP32);
        try {
            for (Node n : graph.nodes()) {
                if (n instanceof Node.Conv c) {
                    FoldedWeights.Conv fw = weights.conv(c);
                    int r = c.kernel();
                    // packed for its stride: 3x3 stride-1 convs of 64..256 channels get a Winograd layout (F(4x4,3x3)
                    // up to 128 channels, F(2x2,3x3) above)
                    long packedSize = CpuOps.convPackedSizeEx(c.cout(), c.cin(), r, r, c.groups(), c.stride());
                    if (packedSize <= 0) {
                        throw new ReskernException(ReskernException.ErrorCode.INVALID_ARGUMENT, "cannot pack " + c);
                    }
                    FloatPointer raw = new FloatPointer(fw.weightKrsc());
                    try {
                        FloatPointer packed = alloc(packedSize);
                        CpuExecutor.check(CpuOps.convPackEx(raw.address(), c.cout(), c.cin(), r, r, c.groups(), c.stride(), packed.address()),
                                "pack " + c.convName());
                        putParams(n, packed.address(), copy(fw.scale()), copy(fw.shift()));
                    } finally {
                        raw.close();
                    }
                } else if (n instanceof Node.BnRelu b) {
                    FoldedWeights.Affine a = weights.affine(b);
                    putParams(n, copy(a.scale()), copy(a.shift()));
                } else if (n instanceof Node.Fc f) {
                    FoldedWeights.Fc fc = weights.fc(f);
                    putParams(n, copy(fc.weight()), copy(fc.bias()));
                }
            }
        } catch (ReskernException | RuntimeException | OutOfMemoryError e) {
            close();
            throw CpuExecutor.asReskern(e, "weights of " + graph.name());
        }
    }

    private FloatPointer alloc(long elems) {
        FloatPointer p = CpuExecutor.allocFloats(elems);
        owned.add(p);
        bytes += elems * 4;
        return p;
    }

    private long copy(float[] data) {
        FloatPointer p = alloc(data.length);
        p.put(data, 0, data.length);
        return p.address();
    }

    @Override
    Executor createContext() {
        return new CpuExecutor(this);
    }

    @Override
    void freeWeights() {
        for (Pointer p : owned) {
            p.close();
        }
        owned.clear();
    }
}
