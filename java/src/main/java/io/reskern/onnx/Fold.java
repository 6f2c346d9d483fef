package io.reskern.onnx;

import static io.reskern.onnx.Msg.bad;
import static io.reskern.onnx.Msg.unsupported;

import io.reskern.ReskernException;
import io.reskern.onnx.proto.Onnx.AttributeProto;
import io.reskern.onnx.proto.Onnx.NodeProto;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Constant folding of the small shape arithmetic exporters leave in a graph (torch's {@code F.pad} becomes
 * Shape / Gather / Sub / ConstantOfShape / Concat / Reshape / Slice / Transpose / Cast over constants). Every node
 * whose inputs are all constants and whose op is listed here is evaluated at import time. Values are int64 or float;
 * a computed tensor may hold at most {@link #MAX_ELEMENTS} elements (Reshape / Squeeze / Unsqueeze / Identity of a
 * larger initializer only relabel it, without copying).
 */
final class Fold {
    /** Largest tensor computed by folding. */
    static final int MAX_ELEMENTS = 1 << 16;

    static final Set<String> OPS = Set.of("Constant", "Identity", "Shape", "Gather", "Add", "Sub", "Mul", "Div", "Cast",
            "ConstantOfShape", "Concat", "Reshape", "Slice", "Transpose", "Unsqueeze", "Squeeze");

    private Fold() {
    }

    /**
     * Evaluates {@code n}; {@code in} holds its inputs (null for an omitted optional input).
     *
     * @return the value of its first output
     */
    static Tensor eval(NodeProto n, String where, List<Tensor> in, long opset, Path baseDir) throws ReskernException {
        String out = n.getOutput(0);
        switch (n.getOpType()) {
            case "Constant": {
                Attrs a = Attrs.of(n, where, Set.of("value", "value_float", "value_floats", "value_int", "value_ints",
                        "value_string", "value_strings", "sparse_value"));
                return constant(a, where, out, baseDir);
            }
            case "Identity": {
                Attrs.of(n, where, Set.of());
                return need(in, 0, where).reshaped(out, need(in, 0, where).dims);
            }
            case "Shape":
                return shape(n, where, need(in, 0, where).dims);
            case "Gather": {
                Attrs a = Attrs.of(n, where, Set.of("axis"));
                return gather(need(in, 0, where), need(in, 1, where), a.i("axis", 0), where, out);
            }
            case "Add": case "Sub": case "Mul": case "Div": {
                Attrs.of(n, where, Set.of());
                return binary(n.getOpType(), need(in, 0, where), need(in, 1, where), where, out);
            }
            case "Cast": {
                Attrs a = Attrs.of(n, where, Set.of("to", "saturate", "round_mode"));
                Tensor x = small(need(in, 0, where), where);
                long to = a.i("to", 0);
                if (to != (int) to) {
                    throw bad(where + ": Cast to type " + to);
                }
                if (Tensor.isFloatType((int) to)) {
                    return Tensor.ofFloats(out, x.dims, x.floats());
                }
                if (Tensor.isIntType((int) to)) {
                    return Tensor.ofLongs(out, x.dims, x.longs());
                }
                throw unsupported(where + ": Cast to " + Tensor.typeName((int) to) + " in constant folding");
            }
            case "ConstantOfShape": {
                Attrs a = Attrs.of(n, where, Set.of("value"));
                long[] shape = small(need(in, 0, where), where).longs();
                long count = Tensor.elements(shape, where + ": ConstantOfShape shape");
                if (count > MAX_ELEMENTS) {
                    throw unsupported(where + ": ConstantOfShape of " + count + " elements (folding holds at most " + MAX_ELEMENTS + ")");
                }
                Tensor v = a.has("value") ? Tensor.of(a.tensor("value").getT(), null) : null;
                if (v != null && v.elements != 1) {
                    throw bad(where + ": ConstantOfShape value must have one element");
                }
                if (v == null || Tensor.isFloatType(v.dtype)) {
                    float[] f = new float[(int) count];
                    Arrays.fill(f, v == null ? 0f : v.floats()[0]);
                    return Tensor.ofFloats(out, shape, f);
                }
                long[] l = new long[(int) count];
                Arrays.fill(l, v.longs()[0]);
                return Tensor.ofLongs(out, shape, l);
            }
            case "Concat": {
                Attrs a = Attrs.of(n, where, Set.of("axis"));
                return concat(in, a.i("axis", 0), where, out);
            }
            case "Reshape": {
                Attrs a = Attrs.of(n, where, Set.of("allowzero"));
                Tensor x = need(in, 0, where);
                long[] shape = small(need(in, 1, where), where).longs();
                return x.reshaped(out, reshape(x.dims, shape, a.i("allowzero", 0) != 0, where));
            }
            case "Slice": {
                Attrs a = Attrs.of(n, where, Set.of("starts", "ends", "axes"));
                Tensor x = small(need(in, 0, where), where);
                OnnxOps.SliceArgs sa = OnnxOps.sliceArgs(opset, a,
                        k -> k < in.size() && in.get(k) != null ? small(in.get(k), where).longs() : null, where);
                return slice(x, sa.starts(), sa.ends(), sa.axes(), sa.steps(), where, out);
            }
            case "Transpose": {
                Attrs a = Attrs.of(n, where, Set.of("perm"));
                Tensor x = small(need(in, 0, where), where);
                return transpose(x, a.ints("perm", null), where, out);
            }
            case "Unsqueeze": case "Squeeze": {
                Attrs a = Attrs.of(n, where, Set.of("axes"));
                Tensor x = need(in, 0, where);
                long[] axes = opset < 13 ? a.ints("axes", null)
                        : in.size() > 1 && in.get(1) != null ? small(in.get(1), where).longs() : null;
                return x.reshaped(out, n.getOpType().equals("Squeeze") ? squeeze(x.dims, axes, where)
                        : unsqueeze(x.dims, axes, where));
            }
            default:
                throw new IllegalStateException("not a folding op: " + n.getOpType());
        }
    }

    /** Shape node {@code n} (attributes start, end) of a tensor of {@code d}. */
    static Tensor shape(NodeProto n, String where, long[] d) throws ReskernException {
        Attrs a = Attrs.of(n, where, Set.of("start", "end"));
        int r = d.length;
        int s = (int) clamp(norm(a.i("start", 0), r), 0, r);
        int e = (int) clamp(norm(a.i("end", r), r), 0, r);
        long[] v = e > s ? Arrays.copyOfRange(d, s, e) : new long[0];
        return Tensor.ofLongs(n.getOutput(0), new long[] {v.length}, v);
    }

    private static Tensor need(List<Tensor> in, int i, String where) throws ReskernException {
        if (i >= in.size() || in.get(i) == null) {
            throw bad(where + ": input " + i + " is missing");
        }
        return in.get(i);
    }

    /** Inputs whose values folding reads must be small. */
    private static Tensor small(Tensor t, String where) throws ReskernException {
        if (t.elements > MAX_ELEMENTS) {
            throw unsupported(where + ": constant folding over a tensor of " + t.elements + " elements (at most " + MAX_ELEMENTS + ")");
        }
        return t;
    }

    private static long norm(long axis, int rank) {
        return axis < 0 ? axis + rank : axis;
    }

    private static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    private static int axis(long axis, int rank, String where) throws ReskernException {
        if (axis < -rank || axis >= rank) {
            throw bad(where + ": axis " + axis + " outside [-" + rank + ", " + (rank - 1) + "]");
        }
        return (int) norm(axis, rank);
    }

    private static Tensor constant(Attrs a, String where, String out, Path baseDir) throws ReskernException {
        AttributeProto t = a.tensor("value");
        if (t != null) {
            Tensor v = Tensor.of(t.getT(), baseDir);
            return v.reshaped(out, v.dims);
        }
        if (a.has("value_float")) {
            return Tensor.ofFloats(out, new long[0], new float[] {a.f("value_float", 0)});
        }
        if (a.has("value_int")) {
            return Tensor.ofLongs(out, new long[0], new long[] {a.i("value_int", 0)});
        }
        if (a.has("value_floats")) {
            float[] f = a.floats("value_floats");
            return Tensor.ofFloats(out, new long[] {f.length}, f);
        }
        if (a.has("value_ints")) {
            long[] l = a.ints("value_ints", new long[0]);
            return Tensor.ofLongs(out, new long[] {l.length}, l);
        }
        throw unsupported(where + ": Constant without a numeric value (string and sparse constants are not supported)");
    }

    private static long[] strides(long[] dims) {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    /** Multi-index of flat position {@code flat} in {@code dims}. */
    private static void unflatten(long flat, long[] dims, long[] idx) {
        for (int i = dims.length - 1; i >= 0; i--) {
            idx[i] = dims[i] == 0 ? 0 : flat % dims[i];
            flat = dims[i] == 0 ? 0 : flat / dims[i];
        }
    }

    private static long checkedCount(long[] dims, String where) throws ReskernException {
        long c = Tensor.elements(dims, where);
        if (c > MAX_ELEMENTS) {
            throw unsupported(where + ": folded result of " + c + " elements (at most " + MAX_ELEMENTS + ")");
        }
        return c;
    }

    private static Tensor gather(Tensor data, Tensor indices, long axisAttr, String where, String out) throws ReskernException {
        small(data, where);
        small(indices, where);
        int r = data.rank();
        if (r == 0) {
            throw bad(where + ": Gather of a scalar");
        }
        int ax = axis(axisAttr, r, where);
        long[] idx = indices.longs();
        long dim = data.dims[ax];
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < -dim || idx[i] >= dim) {
                throw bad(where + ": Gather index " + idx[i] + " outside [-" + dim + ", " + (dim - 1) + "]");
            }
            idx[i] = idx[i] < 0 ? idx[i] + dim : idx[i];
        }
        long[] od = new long[r - 1 + indices.rank()];
        System.arraycopy(data.dims, 0, od, 0, ax);
        System.arraycopy(indices.dims, 0, od, ax, indices.rank());
        System.arraycopy(data.dims, ax + 1, od, ax + indices.rank(), r - ax - 1);
        int count = (int) checkedCount(od, where);
        long[] ds = strides(data.dims);
        long[] oi = new long[od.length];
        long[] src = new long[count];
        for (int f = 0; f < count; f++) {
            unflatten(f, od, oi);
            long off = 0;
            for (int i = 0; i < ax; i++) {
                off += oi[i] * ds[i];
            }
            long flatIdx = 0;
            long[] is = strides(indices.dims);
            for (int i = 0; i < indices.rank(); i++) {
                flatIdx += oi[ax + i] * is[i];
            }
            off += idx[(int) flatIdx] * ds[ax];
            for (int i = ax + 1; i < r; i++) {
                off += oi[i - 1 + indices.rank()] * ds[i];
            }
            src[f] = off;
        }
        return pick(data, src, od, out);
    }

    /** A new tensor of {@code dims} whose element f is {@code data[src[f]]} (same value type). */
    private static Tensor pick(Tensor data, long[] src, long[] dims, String out) throws ReskernException {
        if (Tensor.isFloatType(data.dtype)) {
            float[] v = data.floats();
            float[] r = new float[src.length];
            for (int i = 0; i < src.length; i++) {
                r[i] = v[(int) src[i]];
            }
            return Tensor.ofFloats(out, dims, r);
        }
        long[] v = data.longs();
        long[] r = new long[src.length];
        for (int i = 0; i < src.length; i++) {
            r[i] = v[(int) src[i]];
        }
        return Tensor.ofLongs(out, dims, r);
    }

    private static Tensor binary(String op, Tensor a, Tensor b, String where, String out) throws ReskernException {
        small(a, where);
        small(b, where);
        int r = Math.max(a.rank(), b.rank());
        long[] od = new long[r];
        for (int i = 0; i < r; i++) {
            long da = i - (r - a.rank()) >= 0 ? a.dims[i - (r - a.rank())] : 1;
            long db = i - (r - b.rank()) >= 0 ? b.dims[i - (r - b.rank())] : 1;
            if (da != db && da != 1 && db != 1) {
                throw bad(where + ": shapes " + Arrays.toString(a.dims) + " and " + Arrays.toString(b.dims) + " do not broadcast");
            }
            od[i] = da == 1 ? db : da;
        }
        int count = (int) checkedCount(od, where);
        boolean isFloat = Tensor.isFloatType(a.dtype) || Tensor.isFloatType(b.dtype);
        long[] sa = bstrides(a.dims, r);
        long[] sb = bstrides(b.dims, r);
        long[] oi = new long[r];
        if (isFloat) {
            float[] va = a.floats();
            float[] vb = b.floats();
            float[] res = new float[count];
            for (int f = 0; f < count; f++) {
                unflatten(f, od, oi);
                float x = va[(int) dot(oi, sa)];
                float y = vb[(int) dot(oi, sb)];
                res[f] = switch (op) {
                    case "Add" -> x + y;
                    case "Sub" -> x - y;
                    case "Mul" -> x * y;
                    default -> x / y;
                };
            }
            return Tensor.ofFloats(out, od, res);
        }
        long[] va = a.longs();
        long[] vb = b.longs();
        long[] res = new long[count];
        for (int f = 0; f < count; f++) {
            unflatten(f, od, oi);
            long x = va[(int) dot(oi, sa)];
            long y = vb[(int) dot(oi, sb)];
            if (op.equals("Div") && y == 0) {
                throw bad(where + ": integer division by zero");
            }
            res[f] = switch (op) {
                case "Add" -> x + y;
                case "Sub" -> x - y;
                case "Mul" -> x * y;
                default -> x / y;
            };
        }
        return Tensor.ofLongs(out, od, res);
    }

    /** Strides of {@code dims} right-aligned to rank {@code r}, 0 where broadcast. */
    private static long[] bstrides(long[] dims, int r) {
        long[] s = new long[r];
        long[] own = strides(dims);
        for (int i = 0; i < dims.length; i++) {
            s[r - dims.length + i] = dims[i] == 1 ? 0 : own[i];
        }
        return s;
    }

    private static long dot(long[] a, long[] b) {
        long s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static Tensor concat(List<Tensor> in, long axisAttr, String where, String out) throws ReskernException {
        if (in.isEmpty() || in.contains(null)) {
            throw bad(where + ": Concat needs inputs");
        }
        Tensor first = in.get(0);
        int r = first.rank();
        if (r == 0) {
            throw bad(where + ": Concat of scalars");
        }
        int ax = axis(axisAttr, r, where);
        long total = 0;
        boolean isFloat = false;
        for (Tensor t : in) {
            small(t, where);
            if (t.rank() != r) {
                throw bad(where + ": Concat of tensors of different rank");
            }
            for (int i = 0; i < r; i++) {
                if (i != ax && t.dims[i] != first.dims[i]) {
                    throw bad(where + ": Concat shapes " + Arrays.toString(first.dims) + " and " + Arrays.toString(t.dims));
                }
            }
            total += t.dims[ax];
            isFloat |= Tensor.isFloatType(t.dtype);
        }
        long[] od = first.dims.clone();
        od[ax] = total;
        int count = (int) checkedCount(od, where);
        long outer = 1;
        for (int i = 0; i < ax; i++) {
            outer *= od[i];
        }
        long inner = 1;
        for (int i = ax + 1; i < r; i++) {
            inner *= od[i];
        }
        float[] rf = isFloat ? new float[count] : null;
        long[] rl = isFloat ? null : new long[count];
        int pos = 0;
        float[][] fs = new float[in.size()][];
        long[][] ls = new long[in.size()][];
        for (int k = 0; k < in.size(); k++) {
            if (isFloat) {
                fs[k] = in.get(k).floats();
            } else {
                ls[k] = in.get(k).longs();
            }
        }
        for (long o = 0; o < outer; o++) {
            for (int k = 0; k < in.size(); k++) {
                long chunk = in.get(k).dims[ax] * inner;
                for (long j = 0; j < chunk; j++) {
                    int src = (int) (o * chunk + j);
                    if (isFloat) {
                        rf[pos++] = fs[k][src];
                    } else {
                        rl[pos++] = ls[k][src];
                    }
                }
            }
        }
        return isFloat ? Tensor.ofFloats(out, od, rf) : Tensor.ofLongs(out, od, rl);
    }

    /** ONNX Reshape's rule: 0 copies the input dimension (unless allowzero), one -1 is inferred. */
    static long[] reshape(long[] in, long[] shape, boolean allowZero, String where) throws ReskernException {
        long count = Tensor.elements(in, where);
        long[] od = new long[shape.length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.length; i++) {
            long s = shape[i];
            if (s == -1) {
                if (infer >= 0) {
                    throw bad(where + ": Reshape shape " + Arrays.toString(shape) + " has more than one -1");
                }
                infer = i;
                continue;
            }
            if (s == 0 && !allowZero) {
                if (i >= in.length) {
                    throw bad(where + ": Reshape shape " + Arrays.toString(shape) + " copies dimension " + i + " the input lacks");
                }
                s = in[i];
            }
            if (s < 0) {
                throw bad(where + ": Reshape shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            od[i] = s;
            if (s != 0 && known > Tensor.MAX_ELEMENTS / s) {
                throw bad(where + ": Reshape shape " + Arrays.toString(shape) + " is too large");
            }
            known *= s;
        }
        if (infer >= 0) {
            if (known == 0 || count % known != 0) {
                throw bad(where + ": cannot reshape " + Arrays.toString(in) + " to " + Arrays.toString(shape));
            }
            od[infer] = count / known;
        } else if (known != count) {
            throw bad(where + ": cannot reshape " + Arrays.toString(in) + " to " + Arrays.toString(shape));
        }
        return od;
    }

    private static long[] squeeze(long[] in, long[] axes, String where) throws ReskernException {
        boolean[] drop = new boolean[in.length];
        if (axes == null) {
            for (int i = 0; i < in.length; i++) {
                drop[i] = in[i] == 1;
            }
        } else {
            for (long a : axes) {
                int ax = axis(a, in.length, where);
                if (in[ax] != 1) {
                    throw bad(where + ": Squeeze of axis " + a + " of size " + in[ax]);
                }
                drop[ax] = true;
            }
        }
        return java.util.stream.IntStream.range(0, in.length).filter(i -> !drop[i]).mapToLong(i -> in[i]).toArray();
    }

    private static long[] unsqueeze(long[] in, long[] axes, String where) throws ReskernException {
        if (axes == null) {
            throw bad(where + ": Unsqueeze needs axes");
        }
        int r = in.length + axes.length;
        if (r > Tensor.MAX_RANK) {
            throw unsupported(where + ": Unsqueeze to rank " + r);
        }
        boolean[] added = new boolean[r];
        for (long a : axes) {
            int ax = axis(a, r, where);
            if (added[ax]) {
                throw bad(where + ": Unsqueeze axis " + a + " given twice");
            }
            added[ax] = true;
        }
        long[] od = new long[r];
        int k = 0;
        for (int i = 0; i < r; i++) {
            od[i] = added[i] ? 1 : in[k++];
        }
        return od;
    }

    private static Tensor slice(Tensor x, long[] starts, long[] ends, long[] axes, long[] steps, String where, String out)
            throws ReskernException {
        int r = x.rank();
        int n = starts.length;  // lengths checked by OnnxOps.sliceArgs
        long[] st = new long[r];
        long[] en = x.dims.clone();
        long[] sp = new long[r];
        Arrays.fill(sp, 1);
        boolean[] seen = new boolean[r];
        for (int i = 0; i < n; i++) {
            int ax = axis(axes == null ? i : axes[i], r, where);
            if (seen[ax]) {
                throw bad(where + ": Slice axis " + ax + " given twice");
            }
            seen[ax] = true;
            long dim = x.dims[ax];
            long step = steps == null ? 1 : steps[i];
            if (step == 0) {
                throw bad(where + ": Slice step 0");
            }
            step = clamp(step, -(1L << 32), 1L << 32); // dims are < 2^31: same slice, no overflow below
            long s = starts[i] < 0 ? Math.max(starts[i], -dim) + dim : starts[i];
            long e = ends[i] < 0 ? Math.max(ends[i], -dim - 1) + dim : ends[i];
            if (step > 0) {
                s = clamp(s, 0, dim);
                e = clamp(e, 0, dim);
            } else {
                s = clamp(s, 0, dim - 1);
                e = clamp(e, -1, dim - 1);
            }
            st[ax] = s;
            en[ax] = e;
            sp[ax] = step;
        }
        long[] od = new long[r];
        for (int i = 0; i < r; i++) {
            long len = sp[i] > 0 ? (en[i] - st[i] + sp[i] - 1) / sp[i] : (st[i] - en[i] + (-sp[i]) - 1) / (-sp[i]);
            od[i] = Math.max(0, len);
        }
        int count = (int) checkedCount(od, where);
        long[] xs = strides(x.dims);
        long[] oi = new long[r];
        long[] src = new long[count];
        for (int f = 0; f < count; f++) {
            unflatten(f, od, oi);
            long off = 0;
            for (int i = 0; i < r; i++) {
                off += (st[i] + oi[i] * sp[i]) * xs[i];
            }
            src[f] = off;
        }
        return pick(x, src, od, out);
    }

    private static Tensor transpose(Tensor x, long[] perm, String where, String out) throws ReskernException {
        int r = x.rank();
        int[] p = new int[r];
        if (perm == null) {
            for (int i = 0; i < r; i++) {
                p[i] = r - 1 - i;
            }
        } else {
            if (perm.length != r) {
                throw bad(where + ": Transpose perm " + Arrays.toString(perm) + " for rank " + r);
            }
            boolean[] used = new boolean[r];
            for (int i = 0; i < r; i++) {
                if (perm[i] < 0 || perm[i] >= r || used[(int) perm[i]]) {
                    throw bad(where + ": Transpose perm " + Arrays.toString(perm) + " is not a permutation");
                }
                used[(int) perm[i]] = true;
                p[i] = (int) perm[i];
            }
        }
        long[] od = new long[r];
        for (int i = 0; i < r; i++) {
            od[i] = x.dims[p[i]];
        }
        int count = (int) x.elements;
        long[] xs = strides(x.dims);
        long[] oi = new long[r];
        long[] src = new long[count];
        for (int f = 0; f < count; f++) {
            unflatten(f, od, oi);
            long off = 0;
            for (int i = 0; i < r; i++) {
                off += oi[i] * xs[p[i]];
            }
            src[f] = off;
        }
        return pick(x, src, od, out);
    }
}
