package io.reskern.onnx;

import static io.reskern.onnx.Msg.quote;
import static io.reskern.onnx.Msg.unsupported;

import io.reskern.ReskernException;
import io.reskern.weights.WeightSource;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The initializers of an imported ONNX graph under the tensor names its {@link io.reskern.graph.Graph} expects
 * ({@code NODE.weight}, {@code NODE.running_var}, …), so {@link io.reskern.weights.FoldedWeights} checks and folds
 * them as it does a checkpoint. Values are decoded (FP16 / BF16 / FP64 converted to float32) when read; a Gemm weight
 * stored as [C, K] (transB = 0) or a MatMul weight is transposed to [K, C], a broadcast bias is expanded.
 */
final class OnnxWeights implements WeightSource {
    private enum Kind { AS_IS, TRANSPOSE, BROADCAST, ZEROS }

    private record Entry(Tensor tensor, long[] shape, Kind kind) {
    }

    private final String describe;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    OnnxWeights(String describe) {
        this.describe = describe;
    }

    private static void requireFloat(Tensor t, String use) throws ReskernException {
        if (!Tensor.isFloatType(t.dtype)) {
            throw unsupported("initializer " + quote(t.name) + " (" + use + ") has type " + Tensor.typeName(t.dtype)
                    + "; weights must be FLOAT (FLOAT16, BFLOAT16 and DOUBLE are converted)");
        }
    }

    /** The tensor as it is, with {@code shape} (same element count as its dims). */
    void put(String name, Tensor t, long[] shape, String use) throws ReskernException {
        requireFloat(t, use);
        entries.put(name, new Entry(t, shape, Kind.AS_IS));
    }

    /** A 2-D tensor [a, b] read as its transpose [b, a]. */
    void putTransposed(String name, Tensor t, String use) throws ReskernException {
        requireFloat(t, use);
        entries.put(name, new Entry(t, new long[] {t.dims[1], t.dims[0]}, Kind.TRANSPOSE));
    }

    /** A one-element tensor repeated {@code k} times. */
    void putBroadcast(String name, Tensor t, long k, String use) throws ReskernException {
        requireFloat(t, use);
        entries.put(name, new Entry(t, new long[] {k}, Kind.BROADCAST));
    }

    /** {@code k} zeros (a bias the file does not have). */
    void putZeros(String name, long k) {
        entries.put(name, new Entry(null, new long[] {k}, Kind.ZEROS));
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    @Override
    public long[] shape(String name) {
        return entries.get(name).shape().clone();
    }

    @Override
    public float[] floats(String name) throws ReskernException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        switch (e.kind()) {
            case ZEROS:
                return new float[(int) e.shape()[0]];
            case BROADCAST: {
                float[] v = new float[(int) e.shape()[0]];
                Arrays.fill(v, e.tensor().floats()[0]);
                return v;
            }
            case TRANSPOSE: {
                float[] src = e.tensor().floats();
                int rows = (int) e.tensor().dims[0];
                int cols = (int) e.tensor().dims[1];
                float[] t = new float[src.length];
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        t[c * rows + r] = src[r * cols + c];
                    }
                }
                return t;
            }
            default:
                return e.tensor().floats();
        }
    }

    @Override
    public String describe() {
        return describe;
    }
}
