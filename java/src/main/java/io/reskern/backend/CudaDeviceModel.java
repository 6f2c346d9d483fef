package io.reskern.backend;

import io.reskern.ConvPolicy;
import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.backend.conv.TuneListener;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import io.reskern.nativelib.CudaOps;
import io.reskern.weights.FoldedWeights;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Weights of a graph on one GPU, uploaded once in the model's precision (conv weights; scale/shift and FC stay fp32),
 * shared by every {@link CudaExecutor} made from it.
 */
final class CudaDeviceModel extends BaseDeviceModel {
    final int dtype;
    final int math;
    final ConvPolicy policy;
    final TuneListener tuneListener;
    /** Host weights kept for the contexts' cuDNN copies (cudnn/best only; null with own kernels). */
    final FoldedWeights foldedForCudnn;
    private final List<Long> allocs = new ArrayList<>();

    CudaDeviceModel(Graph graph, FoldedWeights weights, Device device, Precision precision, ConvPolicy policy,
                    TuneListener tuneListener) throws ReskernException {
        super(graph, device, precision);
        this.policy = policy;
        this.tuneListener = tuneListener;
        this.foldedForCudnn = policy.usesCudnn() ? weights : null;
        this.dtype = switch (precision) {
            case FP16 -> CudaOps.F16;
            case BF16 -> CudaOps.BF16;
            default -> CudaOps.F32;
        };
        this.math = precision == Precision.TF32 ? CudaOps.MATH_TF32 : CudaOps.MATH_EXACT;
        try {
            CudaExecutor.check(CudaOps.setDevice(device.index()), "select " + device);
            for (Node n : graph.nodes()) {
                if (n instanceof Node.Conv c) {
                    FoldedWeights.Conv fw = weights.conv(c);
                    putParams(n, upload(fw.weightKrsc(), dtype), upload(fw.scale(), CudaOps.F32),
                            upload(fw.shift(), CudaOps.F32));
                } else if (n instanceof Node.BnRelu b) {
                    FoldedWeights.Affine a = weights.affine(b);
                    putParams(n, upload(a.scale(), CudaOps.F32), upload(a.shift(), CudaOps.F32));
                } else if (n instanceof Node.Fc f) {
                    FoldedWeights.Fc fc = weights.fc(f);
                    putParams(n, upload(fc.weight(), CudaOps.F32), upload(fc.bias(), CudaOps.F32));
                }
            }
        } catch (ReskernException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private long malloc(long size) throws ReskernException {
        PointerPointer<?> pp = new PointerPointer<>(1);
        CudaExecutor.check(CudaOps.malloc(pp, Math.max(size, 256)), "cudaMalloc " + size + " bytes of weights on " + device());
        long p = pp.get(0).address();
        allocs.add(p);
        return p;
    }

    /** Copies fp32 host data to a new device buffer, converted to {@code toDtype} (synchronous, default stream). */
    private long upload(float[] data, int toDtype) throws ReskernException {
        FloatPointer host = new FloatPointer(data);
        try {
            long f32 = malloc(4L * data.length);
            CudaExecutor.check(CudaOps.memcpyH2D(f32, host.address(), 4L * data.length, 0), "upload weights");
            CudaExecutor.check(CudaOps.streamSynchronize(0), "upload weights");
            if (toDtype == CudaOps.F32) {
                bytes += 4L * data.length;
                return f32;
            }
            long out = malloc((long) data.length * 2);
            CudaExecutor.check(CudaOps.convert(f32, CudaOps.F32, out, toDtype, data.length, 0), "convert weights");
            CudaExecutor.check(CudaOps.streamSynchronize(0), "convert weights");
            allocs.remove(Long.valueOf(f32));
            CudaOps.free(f32);
            bytes += 2L * data.length;
            return out;
        } finally {
            host.close();
        }
    }

    @Override
    Executor createContext() throws ReskernException {
        return new CudaExecutor(this);
    }

    @Override
    void freeWeights() {
        if (!allocs.isEmpty()) {
            CudaOps.setDevice(device().index());
            CudaOps.streamSynchronize(0);
            for (long p : allocs) {
                CudaOps.free(p);
            }
            allocs.clear();
        }
    }
}
