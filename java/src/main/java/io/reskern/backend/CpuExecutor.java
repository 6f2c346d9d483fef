package io.reskern.backend;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;
import io.reskern.image.CpuImages;
import io.reskern.image.ResamplePlan;
import io.reskern.image.RgbImage;
import io.reskern.nativelib.CpuOps;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A CPU execution context: each graph node is one call into {@code libreskern_cpu} (NHWC fp32, the process-wide
 * work-sharing thread pool), over the packed weights of a {@link CpuDeviceModel}. Activations live in one native arena
 * sized by the {@link Plan}; a staging buffer takes heap inputs; the convs' workspace (the zero-padded input copies of
 * narrow convs) is this context's too, sized with the arena, so a reserved context allocates nothing per batch.
 * Not thread-safe (see {@link Executor}).
 */
final class CpuExecutor extends BaseExecutor {
    private final CpuDeviceModel weights;
    private FloatPointer arena;
    private long arenaElems;
    private long arenaPad; // floats from arena.address() to the first 64-byte boundary: the plan's slots are
                           // 256-byte multiples from there, so every activation starts on a cache line (malloc
                           // gives 16 bytes; a misaligned residual made the AVX2 expand convs up to 2x slower)
    private FloatPointer staging;
    private long stagingElems;
    private BytePointer imageStaging; // pixels + taps of one image, grown to the largest image seen
    private BytePointer workspace;    // the convs' workspace (rk_cpu_conv2d_ws: zero-padded copies of narrow inputs)
    private long workspaceBytes;
    private Plan workspacePlan;       // the last plan whose need was checked
    private long peakBytes;

    CpuExecutor(CpuDeviceModel weights) {
        super(weights.graph());
        this.weights = weights;
    }

    private static final long ALIGN_FLOATS = 16; // 64 bytes

    /** Address of activation element {@code elem} of the arena (package-private for the alignment test). */
    long at(long elem) {
        return arena.address() + (arenaPad + elem) * 4;
    }

    static FloatPointer allocFloats(long elems) {
        FloatPointer p = new FloatPointer(elems);
        if (p.isNull()) {
            throw new OutOfMemoryError("native allocation of " + elems * 4 + " bytes failed");
        }
        return p;
    }

    /** Native allocation failures (JavaCPP throws OutOfMemoryError) become OUT_OF_MEMORY. */
    static ReskernException asReskern(Throwable t, String what) {
        if (t instanceof ReskernException r) {
            return r;
        }
        if (t instanceof OutOfMemoryError) {
            return new ReskernException(ErrorCode.OUT_OF_MEMORY, "out of host memory for " + what + ": " + t.getMessage(), t);
        }
        if (t instanceof RuntimeException r) {
            throw r;
        }
        throw (Error) t;
    }

    static void check(int status, String what) throws ReskernException {
        if (status != 0) {
            throw new ReskernException(ReskernException.fromNative(status), what + ": " + CpuOps.lastError());
        }
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Precision precision() {
        return weights.precision();
    }

    @Override
    public long activationBytes() {
        return peakBytes;
    }

    @Override
    public long contextBytes() {
        return (arenaElems + stagingElems) * 4 + workspaceBytes + (imageStaging != null ? imageStaging.capacity() : 0);
    }

    @Override
    public void reserve(int maxBatch, int h, int w) throws ReskernException {
        open();
        grow(planFor(maxBatch, h, w));
    }

    private void grow(Plan p) throws ReskernException {
        long inElems = (long) p.batch() * 3 * p.height(0) * p.width(0);
        try {
            if (p.arenaElements() > arenaElems) {
                if (arena != null) {
                    arena.close();
                    arena = null;
                    arenaElems = 0;
                }
                arena = allocFloats(p.arenaElements() + ALIGN_FLOATS);
                arenaElems = p.arenaElements();
                arenaPad = (-arena.address() & (ALIGN_FLOATS * 4 - 1)) / 4;
            }
            if (inElems > stagingElems) {
                if (staging != null) {
                    staging.close();
                    staging = null;
                    stagingElems = 0;
                }
                staging = allocFloats(inElems);
                stagingElems = inElems;
            }
            if (p != workspacePlan) {
                long need = workspaceNeed(p);
                if (need > workspaceBytes) {
                    if (workspace != null) {
                        workspace.close();
                        workspace = null;
                        workspaceBytes = 0;
                    }
                    workspace = new BytePointer(need);
                    if (workspace.isNull()) {
                        throw new OutOfMemoryError("native allocation of " + need + " bytes failed");
                    }
                    workspaceBytes = need;
                }
                workspacePlan = p;
            }
        } catch (OutOfMemoryError e) {
            throw asReskern(e, "a batch of " + p.batch() + "x3x" + p.height(0) + "x" + p.width(0) + " ("
                    + (p.arenaElements() + inElems) * 4 / (1 << 20) + " MiB of activations)");
        }
        peakBytes = Math.max(peakBytes, p.arenaElements() * 4);
    }

    /** The largest workspace a conv of plan {@code p} needs (rk_cpu_conv2d_workspace_size). */
    private long workspaceNeed(Plan p) {
        long need = 0;
        for (Node node : graph.nodes()) {
            if (node instanceof Node.Conv c) {
                int in = node.input(), o = node.output();
                need = Math.max(need, CpuOps.conv2dWorkspaceSize(p.batch(), p.height(in), p.width(in), c.cin(),
                        weights.params(node)[0], c.cout(), c.kernel(), c.kernel(), c.stride(), c.pad(), c.pad(), c.groups(),
                        p.height(o), p.width(o)));
            }
        }
        return need;
    }

    @Override
    public void begin(int n, int h, int w) throws ReskernException {
        open();
        plan = planFor(n, h, w);
        grow(plan);
    }

    @Override
    public void stage(InputData src, int first, int count) throws ReskernException {
        Plan p = current();
        checkRange(p, first, count);
        if (count == 0) {
            return;
        }
        long img = imageElems(p);
        long from;
        if (src instanceof InputData.HeapFloats hf) {
            long len = count * img;
            if (hf.offset() < 0 || hf.offset() + len > hf.data().length) {
                throw new IllegalArgumentException("input array too short for " + count + " images");
            }
            staging.position(first * img).put(hf.data(), hf.offset(), (int) len).position(0);
            from = staging.address() + first * img * 4;
        } else if (src instanceof InputData.HostAddress ha) {
            from = ha.address();
        } else {
            InputData.DeviceAddress da = (InputData.DeviceAddress) src;
            if (da.device().isCuda()) {
                throw new IllegalArgumentException("input on " + da.device() + " cannot be read by a CPU context");
            }
            from = da.address();
        }
        long to = at(p.offset(0) + first * img);
        check(CpuOps.nchwToNhwc(from, count, 3, p.height(0), p.width(0), to), "input layout");
    }

    @Override
    public void stageImage(RgbImage image, ResamplePlan plan, int index) throws ReskernException {
        Plan p = current();
        checkImage(p, plan, index);
        long need = CpuImages.stagingBytes(image, plan);
        if (imageStaging == null || imageStaging.capacity() < need) {
            if (imageStaging != null) {
                imageStaging.close();
                imageStaging = null;
            }
            try {
                imageStaging = new BytePointer(need);
            } catch (OutOfMemoryError e) {
                throw asReskern(e, "staging a " + image.height() + "x" + image.width() + " image");
            }
        }
        CpuImages.preprocessInto(image, plan, at(p.offset(0) + index * imageElems(p)), imageStaging);
    }

    @Override
    public void stageZeros(int first, int count) {
        Plan p = current();
        checkRange(p, first, count);
        long img = imageElems(p);
        // a BytePointer's position: JavaCPP's memset(Pointer, …) adds the position in bytes, whatever the pointer's type
        // (a FloatPointer positioned at float k zeroed from byte k: a quarter of the way, inside the batch's first images)
        Pointer.memset(new BytePointer(arena).position(4 * (arenaPad + p.offset(0) + first * img)), 0, count * img * 4);
    }

    @Override
    public void forward(float[] out, int outOffset) throws ReskernException {
        Plan p = current();
        int n = p.batch();
        long base = at(0);
        for (Node node : graph.nodes()) {
            long x = base + p.offset(node.input()) * 4;
            long y = base + p.offset(node.output()) * 4;
            int in = node.input();
            int o = node.output();
            long[] prm = weights.params(node);
            if (node instanceof Node.Conv c) {
                int resMode = c.residualMode().ordinal();
                long res = c.residual() >= 0 ? base + p.offset(c.residual()) * 4 : 0;
                int rv = Math.max(c.residual(), 0);
                check(CpuOps.conv2dWs(x, n, p.height(in), p.width(in), c.cin(), prm[0], c.cout(), c.kernel(), c.kernel(),
                        c.stride(), c.pad(), c.pad(), c.groups(), prm[1], prm[2], res, resMode, p.height(rv), p.width(rv),
                        p.channels(rv), c.relu() ? 1 : 0, y, p.height(o), p.width(o),
                        workspace != null ? workspace.address() : 0, workspaceBytes), c.convName());
            } else if (node instanceof Node.MaxPool m) {
                check(CpuOps.maxPool2d(x, n, p.height(in), p.width(in), p.channels(in), m.kernel(), m.kernel(), m.stride(),
                        m.pad(), m.pad(), y, p.height(o), p.width(o)), "maxpool");
            } else if (node instanceof Node.AvgPool a) {
                check(CpuOps.avgPool2d(x, n, p.height(in), p.width(in), p.channels(in), a.kernel(), a.kernel(), a.stride(),
                        0, 0, a.countIncludePad() ? 1 : 0, y, p.height(o), p.width(o)), "avgpool");
            } else if (node instanceof Node.BnRelu b) {
                check(CpuOps.bnRelu(x, (long) n * p.height(in) * p.width(in), b.channels(), prm[0], prm[1], b.relu() ? 1 : 0, y),
                        b.bnName());
            } else if (node instanceof Node.GlobalAvgPool) {
                check(CpuOps.globalAvgPool(x, n, p.height(in) * p.width(in), p.channels(in), y), "global pool");
            } else if (node instanceof Node.Fc f) {
                check(CpuOps.fc(x, n, f.cin(), prm[0], prm[1], f.cout(), y), f.name());
            }
        }
        checkOut(p, out, outOffset);
        new FloatPointer(arena).position(arenaPad + p.offset(graph.output())).get(out, outOffset, n * graph.classes());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (arena != null) {
            arena.close();
        }
        if (staging != null) {
            staging.close();
        }
        if (imageStaging != null) {
            imageStaging.close();
        }
        if (workspace != null) {
            workspace.close();
        }
        workspace = null;
        workspaceBytes = 0;
        imageStaging = null;
        arena = null;
        staging = null;
        weights.closed(this);
    }
}
