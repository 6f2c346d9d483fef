package io.reskern.backend;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ResNetSpec;
import io.reskern.ReskernException;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;
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

    /** @param precision FP32, or BF16 (convs on the AVX512_BF16 kernel; {@link Executors#checkCpuPrecision} first) */
    CpuDeviceModel(Graph graph, FoldedWeights weights, Precision precision) throws ReskernException {
        super(graph, Device.CPU, precision);
        int prec = precision == Precision.BF16 ? CpuOps.PREC_BF16 : CpuOps.PREC_FP32;
        try {
            Plan nominal = nominalPlan(graph);
            for (Node n : graph.nodes()) {
                if (n instanceof Node.Conv c) {
                    FoldedWeights.Conv fw = weights.conv(c);
                    int r = c.kernel();
                    // packed for its stride and the output size it has at the usual input size: 3x3 stride-1 convs of
                    // 64..256 channels get a Winograd layout (F(4x4,3x3) up to 128 channels, F(2x2,3x3) above), and
                    // of up to 512 channels F(2x2,3x3) where the output is 14x14 or larger (reskern_cpu.h)
                    long pixels = nominal == null ? 0 : (long) nominal.height(c.output()) * nominal.width(c.output());
                    // (bf16: dense convs in bf16, except Winograd ones of up to 256 channels, and grouped ones: reskern_cpu.h)
                    long packedSize = CpuOps.convPackedSizePrec(c.cout(), c.cin(), r, r, c.groups(), c.stride(), pixels,
                            prec);
                    if (packedSize <= 0) {
                        throw new ReskernException(ReskernException.ErrorCode.INVALID_ARGUMENT, "cannot pack " + c);
                    }
                    FloatPointer raw = new FloatPointer(fw.weightKrsc());
                    try {
                        FloatPointer packed = alloc(packedSize);
                        CpuExecutor.check(CpuOps.convPackPrec(raw.address(), c.cout(), c.cin(), r, r, c.groups(), c.stride(),
                                        pixels, prec, packed.address()),
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

    /**
     * The shapes at the input size a model of this kind usually gets (CIFAR stems 32x32, everything else 224x224), or
     * null if the graph has no valid plan there. Only a hint for the weight layout: any input size still runs.
     */
    static Plan nominalPlan(Graph graph) {
        int px = graph.spec() != null && graph.spec().stem() == ResNetSpec.Stem.CIFAR ? 32 : 224;
        try {
            if (graph.fixedInputSize() != null) {
                return graph.plan(1, graph.fixedInputSize().height(), graph.fixedInputSize().width());
            }
            return graph.plan(1, px, px);
        } catch (RuntimeException e) {
            return null;
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
