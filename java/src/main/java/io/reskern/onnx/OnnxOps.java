package io.reskern.onnx;

import static io.reskern.onnx.Msg.bad;
import static io.reskern.onnx.Msg.quote;
import static io.reskern.onnx.Msg.unsupported;

import io.reskern.ReskernException;
import io.reskern.graph.GraphAssembler;
import java.util.Arrays;
import java.util.Set;

/**
 * How one ONNX operator's attributes map onto a reskern op, or why they cannot: every value reskern cannot run
 * exactly (dilations ≠ 1, asymmetric or non-square pads, kernels or strides, {@code auto_pad} SAME_*, ceil-mode max
 * pooling, training-mode BatchNorm, Gemm with alpha/beta ≠ 1 or transA) is a {@link ReskernException} with code
 * UNSUPPORTED that names the node and the attribute. Used by {@link OnnxImporter} for whole graphs and by the
 * operator tests on single nodes.
 */
final class OnnxOps {
    private OnnxOps() {
    }

    static final Set<String> CONV_ATTRS = Set.of("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
    static final Set<String> MAXPOOL_ATTRS = Set.of("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
            "storage_order", "strides");
    static final Set<String> AVGPOOL_ATTRS = Set.of("auto_pad", "ceil_mode", "count_include_pad", "dilations",
            "kernel_shape", "pads", "strides");
    static final Set<String> BN_ATTRS = Set.of("epsilon", "momentum", "training_mode", "is_test", "spatial");
    static final Set<String> GEMM_ATTRS = Set.of("alpha", "beta", "transA", "transB", "broadcast");

    /** A square 2-D window with symmetric padding. */
    record Window(int kernel, int stride, int pad) {
    }

    /** Conv: window + groups. */
    record ConvOp(int kernel, int stride, int pad, int groups) {
    }

    /** AveragePool: window (no padding) + torch's ceil_mode / count_include_pad. */
    record AvgPoolOp(int kernel, int stride, boolean ceilMode, boolean countIncludePad) {
    }

    /**
     * Conv with weights of shape {@code wDims = [K, C/groups, kh, kw]} on an input of {@code cin} channels.
     */
    static ConvOp conv(Attrs a, long[] wDims, long cin) throws ReskernException {
        String w = a.where();
        if (wDims.length != 4) {
            throw unsupported(w + ": weights of shape " + Arrays.toString(wDims) + " (only 2-D convolutions, weights [K, C/group, kh, kw])");
        }
        Window win = window(a, new long[] {wDims[2], wDims[3]}, true);
        long group = a.i("group", 1);
        if (group < 1 || group > cin) {
            throw bad(w + ": group = " + group + " for " + cin + " input channels");
        }
        if (wDims[1] * group != cin) {
            throw bad(w + ": weights " + Arrays.toString(wDims) + " with group " + group + " expect " + wDims[1] * group
                    + " input channels, the input has " + cin);
        }
        if (wDims[0] < 1 || wDims[0] % group != 0) {
            throw bad(w + ": " + wDims[0] + " output channels are not a positive multiple of group " + group);
        }
        if (wDims[0] > Integer.MAX_VALUE) {
            throw unsupported(w + ": " + wDims[0] + " output channels");
        }
        return new ConvOp(win.kernel(), win.stride(), win.pad(), (int) group);
    }

    /** MaxPool: window + torch's ceil_mode. */
    record MaxPoolOp(int kernel, int stride, int pad, boolean ceilMode) {
    }

    /** MaxPool (one output: an Indices output is unsupported). */
    static MaxPoolOp maxPool(Attrs a, boolean indicesUsed) throws ReskernException {
        if (indicesUsed) {
            throw unsupported(a.where() + ": the Indices output (argmax) is not supported");
        }
        boolean ceil = a.oneOf("ceil_mode", 0, 0, 1) == 1;
        Window win = window(a, null, false);
        if (2 * win.pad() > win.kernel()) {
            throw unsupported(a.where() + ": pads " + win.pad() + " larger than half the kernel " + win.kernel());
        }
        return new MaxPoolOp(win.kernel(), win.stride(), win.pad(), ceil);
    }

    /** AveragePool: no padding; ceil_mode with count_include_pad = 1 is refused (runtimes disagree on the divisor). */
    static AvgPoolOp avgPool(Attrs a) throws ReskernException {
        boolean ceil = a.oneOf("ceil_mode", 0, 0, 1) == 1;
        boolean cip = a.oneOf("count_include_pad", 0, 0, 1) == 1;
        Window win = window(a, null, false);
        if (win.pad() != 0) {
            throw unsupported(a.where() + ": pads " + Arrays.toString(a.ints("pads", null))
                    + " (reskern's average pool has no padding)");
        }
        if (ceil && cip) {
            throw unsupported(a.where() + ": ceil_mode = 1 with count_include_pad = 1 (the divisor of a window that "
                    + "overhangs the input differs between runtimes)");
        }
        return new AvgPoolOp(win.kernel(), win.stride(), ceil, cip);
    }

    /**
     * BatchNormalization in inference form; returns its epsilon. {@code outputs}: how many outputs the node has with a
     * non-empty name (training mode has 3 or 5).
     */
    static double batchNorm(Attrs a, long opset, int outputs) throws ReskernException {
        String w = a.where();
        String eval = "; export after model.eval() with training=TrainingMode.EVAL";
        if (a.i("training_mode", 0) != 0) {
            throw unsupported(w + ": training_mode = " + a.i("training_mode", 0) + " (inference only" + eval + ")");
        }
        if (a.has("is_test") && a.i("is_test", 0) == 0 || !a.has("is_test") && opset < 7) {
            throw unsupported(w + ": is_test = 0 (training-mode BatchNormalization, opset " + opset + "; inference only" + eval + ")");
        }
        if (a.i("spatial", 1) != 1) {
            throw unsupported(w + ": spatial = " + a.i("spatial", 1) + " (per-element statistics)");
        }
        if (outputs != 1) {
            throw unsupported(w + ": " + outputs + " outputs (training-mode running statistics; inference has one output" + eval + ")");
        }
        double eps = a.f("epsilon", 1e-5f);
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw unsupported(w + ": epsilon = " + eps + " (must be finite and > 0)");
        }
        return eps;
    }

    /** Gemm {@code Y = A·B' + C}; returns transB (transA must be 0, alpha = beta = 1). */
    static boolean gemm(Attrs a, boolean hasC) throws ReskernException {
        String w = a.where();
        a.oneOf("transA", 0, 0);
        boolean transB = a.oneOf("transB", 0, 0, 1) == 1;
        float alpha = a.f("alpha", 1f);
        float beta = a.f("beta", 1f);
        if (alpha != 1f) {
            throw unsupported(w + ": alpha = " + alpha + " (only 1)");
        }
        if (hasC && beta != 1f) {
            throw unsupported(w + ": beta = " + beta + " (only 1)");
        }
        return transB;
    }

    /** Flatten's axis, normalised against {@code rank}. */
    static int flattenAxis(Attrs a, int rank) throws ReskernException {
        long axis = a.i("axis", 1);
        if (axis < -rank || axis > rank) {
            throw bad(a.where() + ": axis = " + axis + " outside [-" + rank + ", " + rank + "]");
        }
        return (int) (axis < 0 ? axis + rank : axis);
    }

    /**
     * kernel_shape / strides / pads / dilations / auto_pad of a 2-D window. {@code fromWeights}: the kernel implied by
     * conv weights (kernel_shape, when present, must agree), or null for pools (kernel_shape required).
     */
    static Window window(Attrs a, long[] fromWeights, boolean isConv) throws ReskernException {
        String w = a.where();
        long[] k = a.ints("kernel_shape", null);
        if (k == null) {
            if (fromWeights == null) {
                throw bad(w + ": kernel_shape is required");
            }
            k = fromWeights;
        } else if (fromWeights != null && !Arrays.equals(k, fromWeights)) {
            throw bad(w + ": kernel_shape " + Arrays.toString(k) + " disagrees with the weights' " + Arrays.toString(fromWeights));
        }
        if (k.length != 2) {
            throw unsupported(w + ": kernel_shape " + Arrays.toString(k) + " (only 2-D windows)");
        }
        if (k[0] != k[1]) {
            throw unsupported(w + ": kernel_shape " + Arrays.toString(k) + " is not square");
        }
        int kernel = range(k[0], 1, GraphAssembler.MAX_WINDOW, w, "kernel_shape");
        long[] s = a.ints("strides", new long[] {1, 1});
        if (s.length != 2) {
            throw bad(w + ": strides " + Arrays.toString(s) + " for a 2-D window");
        }
        if (s[0] != s[1]) {
            throw unsupported(w + ": strides " + Arrays.toString(s) + " are not equal");
        }
        int stride = range(s[0], 1, GraphAssembler.MAX_WINDOW, w, "strides");
        long[] d = a.ints("dilations", new long[] {1, 1});
        if (d.length != 2) {
            throw bad(w + ": dilations " + Arrays.toString(d) + " for a 2-D window");
        }
        if (d[0] != 1 || d[1] != 1) {
            throw unsupported(w + ": dilations " + Arrays.toString(d) + " (only 1)");
        }
        String autoPad = a.s("auto_pad", "NOTSET");
        long[] p = a.ints("pads", null);
        switch (autoPad) {
            case "NOTSET", "" -> { }
            case "VALID" -> {
                if (p != null && Arrays.stream(p).anyMatch(x -> x != 0)) {
                    throw unsupported(w + ": auto_pad = VALID with pads " + Arrays.toString(p));
                }
                p = null;
            }
            case "SAME_UPPER", "SAME_LOWER" -> throw unsupported(w + ": auto_pad = " + autoPad
                    + " (input-size-dependent padding; only explicit symmetric pads)");
            default -> throw bad(w + ": auto_pad = " + quote(autoPad) + " is not an ONNX value");
        }
        int pad = 0;
        if (p != null) {
            if (p.length != 4) {
                throw bad(w + ": pads " + Arrays.toString(p) + " for a 2-D window (need 4 values)");
            }
            for (long x : p) {
                if (x < 0) {
                    throw unsupported(w + ": pads " + Arrays.toString(p) + " (negative padding)");
                }
            }
            if (p[0] != p[2] || p[1] != p[3]) {
                throw unsupported(w + ": pads " + Arrays.toString(p) + " are asymmetric (begin ≠ end)");
            }
            if (p[0] != p[1]) {
                throw unsupported(w + ": pads " + Arrays.toString(p) + " differ between height and width");
            }
            pad = range(p[0], 0, GraphAssembler.MAX_WINDOW, w, "pads");
        }
        return new Window(kernel, stride, pad);
    }

    /** An FC bias of {@code dims} for {@code k} outputs: [k] or [1, k] (true), or one value to broadcast (false). */
    static boolean fcBias(long[] dims, long elements, long k, String where) throws ReskernException {
        if (elements == k && (dims.length == 1 || dims.length == 2 && dims[0] == 1)) {
            return true;
        }
        if (elements == 1 && dims.length <= 2) {
            return false;
        }
        throw unsupported(where + ": bias of shape " + Arrays.toString(dims) + " (only a [" + k + "] or scalar bias; a "
                + "per-row bias depends on the batch)");
    }

    /** Slice's arguments: starts, ends, axes (null = 0, 1, …) and steps (null = all 1), of equal lengths. */
    record SliceArgs(long[] starts, long[] ends, long[] axes, long[] steps) {
    }

    /** The constant integer input {@code k} of a node, or null when the node does not have it. */
    @FunctionalInterface
    interface LongsInput {
        long[] get(int k) throws ReskernException;
    }

    /** Slice's arguments: attributes before opset 10, inputs 1–4 from opset 10 on. */
    static SliceArgs sliceArgs(long opset, Attrs a, LongsInput in, String where) throws ReskernException {
        SliceArgs s = opset < 10
                ? new SliceArgs(a.ints("starts", null), a.ints("ends", null), a.ints("axes", null), null)
                : new SliceArgs(in.get(1), in.get(2), in.get(3), in.get(4));
        if (s.starts() == null || s.ends() == null) {
            throw bad(where + ": Slice needs starts and ends");
        }
        int n = s.starts().length;
        if (s.ends().length != n || s.axes() != null && s.axes().length != n || s.steps() != null && s.steps().length != n) {
            throw bad(where + ": Slice starts, ends, axes and steps differ in length");
        }
        return s;
    }

    /** Pad's mode attribute: only constant padding. */
    static void padMode(Attrs a) throws ReskernException {
        String mode = a.s("mode", "constant");
        if (!mode.equals("constant")) {
            throw unsupported(a.where() + ": mode = " + quote(mode) + " (only constant padding)");
        }
    }

    /**
     * The pad {@code p} when {@code full} ([begin × rank, end × rank] of a 4-D tensor) pads H and W by the same
     * {@code p} on every side and N, C not at all; −1 otherwise.
     */
    static int symmetricSpatialPad(long[] full) {
        if (full.length == 8 && full[0] == 0 && full[1] == 0 && full[4] == 0 && full[5] == 0 && full[2] == full[3]
                && full[2] == full[6] && full[2] == full[7] && full[2] >= 0 && full[2] <= GraphAssembler.MAX_WINDOW) {
            return (int) full[2];
        }
        return -1;
    }

    static int range(long v, int lo, int hi, String where, String what) throws ReskernException {
        if (v < lo || v > hi) {
            throw unsupported(where + ": " + what + " value " + v + " outside " + lo + ".." + hi);
        }
        return (int) v;
    }
}
