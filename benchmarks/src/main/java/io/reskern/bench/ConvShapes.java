package io.reskern.bench;

import io.reskern.ResNets;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The distinct convolution shapes of ResNet-50 (torchvision v1.5) at 224², taken from reskern's own graph
 * ({@link GraphBuilder}) rather than typed by hand, so the benchmark cannot drift from the model. Two convs are the
 * same shape when input size, channels, window, stride and fused epilogue (ReLU, residual) all match; the id of a
 * shape is the torchvision name of its first occurrence.
 */
public final class ConvShapes {
    /** Input side of the model the shapes come from. */
    public static final int IMAGE = 224;

    /**
     * One conv layer shape, batch-independent. Fused epilogue: {@code y = relu?(scale ⊙ conv(x, W) + shift [+ residual])}.
     *
     * @param id    torchvision name of the first layer with this shape ({@code layer2.0.conv2})
     * @param role  stem / reduce / 3x3 / 3x3/2 / expand / proj / proj/2
     * @param count how many ResNet-50 layers have this shape
     */
    public record Shape(String id, String role, int c, int h, int w, int k, int r, int s, int stride, int pad, int groups,
                        int p, int q, boolean relu, boolean residual, int count) {

        /** FLOPs of one call: 2·N·P·Q·K·C·R·S / groups (a multiply-add is 2 FLOPs; epilogue not counted). */
        public double flops(int n) {
            return 2.0 * n * p * q * k * (c / groups) * r * s;
        }

        /**
         * Compulsory bytes of one call (each tensor touched once, fp32): x + W + y (+ residual). The per-channel
         * scale/shift vectors (8·K bytes) are left out.
         */
        public double bytes(int n) {
            double x = (double) n * h * w * c;
            double wt = (double) k * (c / groups) * r * s;
            double y = (double) n * p * q * k;
            return 4.0 * (x + wt + y + (residual ? y : 0));
        }

        /** {@code 128x56x56 -> 128x28x28, 3x3/2}. */
        public String describe() {
            return c + "x" + h + "x" + w + " -> " + k + "x" + p + "x" + q + ", " + r + "x" + s + (stride > 1 ? "/" + stride : "")
                    + (groups > 1 ? " g" + groups : "") + (residual ? " +res" : "") + (relu ? " relu" : "");
        }
    }

    private static final List<Shape> SHAPES = derive();

    private ConvShapes() {
    }

    /** All distinct shapes, in network order. */
    public static List<Shape> all() {
        return SHAPES;
    }

    /** The shape with this id; throws with the list of valid ids otherwise. */
    public static Shape byId(String id) {
        for (Shape s : SHAPES) {
            if (s.id().equals(id)) {
                return s;
            }
        }
        throw new IllegalArgumentException("no ResNet-50 conv shape '" + id + "'; known: " + ids());
    }

    public static List<String> ids() {
        return SHAPES.stream().map(Shape::id).toList();
    }

    private record Key(int c, int h, int w, int k, int r, int stride, int groups, boolean relu, boolean residual) {
    }

    private static List<Shape> derive() {
        Graph g = GraphBuilder.build(ResNets.byName("resnet50"));
        Plan plan = g.plan(1, IMAGE, IMAGE);
        Map<Key, Shape> seen = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            if (!(n instanceof Node.Conv cv)) {
                continue;
            }
            int h = plan.height(cv.input());
            int w = plan.width(cv.input());
            boolean res = cv.residual() >= 0;
            if (res && cv.residualMode() != Node.Residual.IDENTITY) {
                throw new IllegalStateException("ResNet-50 conv with non-identity residual: " + cv);
            }
            Key key = new Key(cv.cin(), h, w, cv.cout(), cv.kernel(), cv.stride(), cv.groups(), cv.relu(), res);
            Shape old = seen.get(key);
            if (old != null) {
                seen.put(key, new Shape(old.id(), old.role(), old.c(), old.h(), old.w(), old.k(), old.r(), old.s(), old.stride(),
                        old.pad(), old.groups(), old.p(), old.q(), old.relu(), old.residual(), old.count() + 1));
                continue;
            }
            String role;
            if (cv.kernel() == 7) {
                role = "stem";
            } else if (cv.convName().endsWith("downsample.0")) {
                role = cv.stride() > 1 ? "proj/2" : "proj";
            } else if (res) {
                role = "expand";
            } else if (cv.kernel() == 3) {
                role = cv.stride() > 1 ? "3x3/2" : "3x3";
            } else {
                role = "reduce";
            }
            seen.put(key, new Shape(cv.convName(), role, cv.cin(), h, w, cv.cout(), cv.kernel(), cv.kernel(), cv.stride(),
                    cv.pad(), cv.groups(), plan.height(cv.output()), plan.width(cv.output()), cv.relu(), res, 1));
        }
        return List.copyOf(new ArrayList<>(seen.values()));
    }

    /** Throws unless {@code paramValues} (a benchmark's {@code @Param}) lists exactly the derived shapes. */
    public static void checkCovers(String[] paramValues) {
        List<String> want = ids();
        List<String> have = Arrays.asList(paramValues);
        if (!want.equals(have)) {
            throw new IllegalStateException("CpuConvBenchmark's @Param(layer) " + have + " differs from the distinct ResNet-50 "
                    + "conv shapes " + want + "; update the annotation");
        }
    }

    /**
     * The CPU kernel this shape runs on here: "winograd2x2" / "winograd4x4" when the backend packs it for Winograd
     * F(2x2,3x3) / F(4x4,3x3) (3x3 stride 1, 64..256 channels or up to 512 at 14x14 and larger, not turned off by
     * RESKERN_CPU_WINOGRAD: 16 / 36 transformed taps per panel instead of 9), else "direct".
     */
    static String cpuAlgo(Shape s) {
        long hdr = 32; // floats of the packed buffer's header
        long direct = io.reskern.nativelib.CpuOps.convPackedSize(s.k(), s.c(), s.r(), s.s(), s.groups()) - hdr;
        long packed = io.reskern.nativelib.CpuOps.convPackedSizeHint(s.k(), s.c(), s.r(), s.s(), s.groups(), s.stride(),
                (long) s.p() * s.q()) - hdr;
        if (packed == direct) {
            return "direct";
        }
        return packed * 9 > direct * 20 ? "winograd4x4" : "winograd2x2";
    }

    /**
     * Whether {@code precision=bf16} runs this shape on the bf16 kernel ("bf16"), keeps it in fp32 ("fp32": Winograd with
     * C ≤ 256, grouped), or cannot run here ("unsupported": no AVX512_BF16). The bf16 layout's size differs from every
     * fp32 layout's, so the sizes tell.
     */
    static String cpuBf16(Shape s) {
        if (io.reskern.nativelib.CpuOps.bf16Supported() != 1) {
            return "unsupported";
        }
        long pixels = (long) s.p() * s.q();
        long b = io.reskern.nativelib.CpuOps.convPackedSizePrec(s.k(), s.c(), s.r(), s.s(), s.groups(), s.stride(), pixels,
                io.reskern.nativelib.CpuOps.PREC_BF16);
        long f = io.reskern.nativelib.CpuOps.convPackedSizeHint(s.k(), s.c(), s.r(), s.s(), s.groups(), s.stride(), pixels);
        return b == f ? "fp32" : "bf16";
    }

    static String json(Shape s) {
        Objects.requireNonNull(s);
        return String.format("{\"id\":\"%s\",\"role\":\"%s\",\"c\":%d,\"h\":%d,\"w\":%d,\"k\":%d,\"r\":%d,\"s\":%d,\"stride\":%d,"
                        + "\"pad\":%d,\"groups\":%d,\"p\":%d,\"q\":%d,\"relu\":%b,\"residual\":%b,\"count\":%d,"
                        + "\"flops_n1\":%.0f,\"bytes_n1\":%.0f,\"describe\":\"%s\",\"cpu_algo\":\"%s\",\"cpu_bf16\":\"%s\"}", s.id(),
                s.role(), s.c(), s.h(),
                s.w(), s.k(), s.r(), s.s(), s.stride(), s.pad(), s.groups(), s.p(), s.q(), s.relu(), s.residual(), s.count(),
                s.flops(1), s.bytes(1), s.describe(), cpuAlgo(s), cpuBf16(s));
    }
}
