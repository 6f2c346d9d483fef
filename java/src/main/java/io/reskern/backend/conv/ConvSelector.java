package io.reskern.backend.conv;

import io.reskern.ConvPolicy;
import io.reskern.Device;
import io.reskern.Devices;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.backend.Fusion;
import io.reskern.backend.cudnn.CublasHead;
import io.reskern.backend.cudnn.Cudnn;
import io.reskern.backend.cudnn.CudnnContext;
import io.reskern.backend.cudnn.CudnnConv;
import io.reskern.backend.cudnn.CudnnMapping;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;
import io.reskern.nativelib.CudaOps;
import io.reskern.weights.FoldedWeights;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntToLongFunction;
import java.util.logging.Logger;

/**
 * Chooses, per conv step of a plan, which implementation runs it ({@link ConvPolicy}), and owns what the cuDNN side
 * needs: the presets' handles on the executor's stream, cuDNN's scale-folded copy of the weights, the workspace, the
 * tuning. One selector per execution context (stream); see {@link ConvImpl} for the contract of what it hands out.
 *
 * <p>Use from the executor (the hook):
 * <pre>{@code
 * convs = ConvSelector.create(policy, graph, steps, weights, precision, device, stream, params, listener); // after upload
 * ...
 * if (convs.prepare(plan, value -> addr(value))) destroyGraphs();      // after the arena is (re)allocated
 * ...
 * convs.conv(convStep).enqueue(x, res, y, y2, stream);                 // instead of CudaOps.conv2d
 * convs.head(headStep).enqueue(x, logitsDev, stream);                  // instead of CudaOps.globalAvgPoolFc
 * ...
 * convs.close();                                                        // before freeing the executor's weights
 * }</pre>
 * With {@code own} nothing is loaded or timed: every step gets {@code OwnConv(-1)}, the exact call the executor made
 * before. With {@code cudnn}/{@code best} the presets load once per process ({@link Cudnn#status()}; if cuDNN is missing:
 * one log line, then own kernels), and {@link #prepare} tunes the plan's distinct problems on its own buffers (cached).
 */
public final class ConvSelector implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ConvSelector.class.getName());

    /** The executor's device parameters: conv {W, scale, shift}, BN-ReLU {scale, shift}, FC {W, bias} (fp32 except W). */
    public interface Params {
        long[] of(Node node);
    }

    private final ConvPolicy policy;
    private final Precision precision;
    private final int dtype;
    private final int math;
    private final long stream;
    private final Params params;
    private final List<Fusion.Step> steps;
    private final TuneListener listener;
    private final boolean cudnnOn;
    private final Device device;
    private CudnnContext ctx;
    private final Map<Node.Conv, CudnnConv.Weights> cudnnWeights = new IdentityHashMap<>();
    private final Map<String, Bound> bound = new HashMap<>();
    private final DeviceMem mem = new DeviceMem();
    private final List<AutoCloseable> owned = new ArrayList<>();
    private Bound current;
    private long workspace;
    private long workspaceBytes;
    private TuneEnv env;
    private TuneCache cache;

    /** The implementations of one plan size. */
    private static final class Bound {
        final Map<Fusion.ConvStep, ConvImpl> convs = new IdentityHashMap<>();
        final Map<Fusion.HeadStep, HeadImpl> heads = new IdentityHashMap<>();
        final List<String> lines = new ArrayList<>();
    }

    private ConvSelector(ConvPolicy policy, Precision precision, Device device, long stream, Params params, List<Fusion.Step> steps,
                         TuneListener listener, boolean cudnnOn) {
        this.policy = policy;
        this.precision = precision;
        this.device = device;
        this.dtype = switch (precision) {
            case FP16 -> CudaOps.F16;
            case BF16 -> CudaOps.BF16;
            default -> CudaOps.F32;
        };
        this.math = precision == Precision.TF32 ? CudaOps.MATH_TF32 : CudaOps.MATH_EXACT;
        this.stream = stream;
        this.params = params;
        this.steps = steps;
        this.listener = listener != null ? listener : TuneListener.NONE;
        this.cudnnOn = cudnnOn;
    }

    /**
     * @param weights host weights, read here only (cuDNN's folded copy is uploaded now for {@code cudnn}/{@code best})
     */
    public static ConvSelector create(ConvPolicy policy, Graph graph, List<Fusion.Step> steps, FoldedWeights weights,
                                      Precision precision, Device device, long stream, Params params, TuneListener listener)
            throws ReskernException {
        boolean on = policy.usesCudnn() && Cudnn.status().available();
        ConvSelector s = new ConvSelector(policy, precision, device, stream, params, steps, listener, on);
        try {
            if (on) {
                s.ctx = new CudnnContext(stream, precision == Precision.TF32);
                for (Fusion.Step st : steps) {
                    if (st instanceof Fusion.ConvStep cs && CudnnMapping.unsupportedReason(cs.conv()) == null
                            && !s.cudnnWeights.containsKey(cs.conv())) {
                        FoldedWeights.Conv fw = weights.conv(cs.conv());
                        s.cudnnWeights.put(cs.conv(), CudnnConv.Weights.upload(CudnnConv.Mode.FUSED, fw.weightKrsc(), fw.scale(),
                                fw.shift(), cs.conv().cout(), precision, stream));
                    }
                }
                // cuBLAS must not allocate inside a captured graph: give it a workspace of ours (4 MiB is plenty for the FC)
                long blasWs = s.mem.malloc(4L << 20);
                s.ctx.setBlasWorkspace(blasWs, 4L << 20);
            }
            return s;
        } catch (ReskernException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    public ConvPolicy policy() {
        return policy;
    }

    /** Whether cuDNN is in use (policy asks for it and it loaded). */
    public boolean cudnnActive() {
        return cudnnOn;
    }

    /**
     * Binds every conv step and the head for this plan (tuning on the plan's buffers when the policy times and the cache
     * does not answer). Cheap when the plan size was bound before.
     *
     * @param valueAddr device address of a value of the plan (the executor's arena)
     * @return true when buffers captured graphs may reference were replaced (the workspace grew): destroy them
     */
    public boolean prepare(Plan plan, IntToLongFunction valueAddr) throws ReskernException {
        String key = plan.batch() + "x" + plan.height(0) + "x" + plan.width(0);
        Bound b = bound.get(key);
        if (b != null) {
            current = b;
            return false;
        }
        long wsBefore = workspace;
        // own, or cudnn without cuDNN: nothing to time
        b = policy == ConvPolicy.OWN || (policy == ConvPolicy.CUDNN && !cudnnOn) ? bindOwn(plan) : bindTuned(plan, valueAddr);
        bound.put(key, b);
        current = b;
        return wsBefore != 0 && workspace != wsBefore;
    }

    public ConvImpl conv(Fusion.ConvStep s) {
        ConvImpl c = current != null ? current.convs.get(s) : null;
        if (c == null) {
            throw new IllegalStateException("ConvSelector.prepare(plan) was not called for this plan, or the step is not of it");
        }
        return c;
    }

    public HeadImpl head(Fusion.HeadStep h) {
        HeadImpl c = current != null ? current.heads.get(h) : null;
        if (c == null) {
            throw new IllegalStateException("ConvSelector.prepare(plan) was not called for this plan");
        }
        return c;
    }

    /** One line per distinct choice of the current plan ({@code layer: id (reason)}). */
    public List<String> choices() {
        return current == null ? List.of() : List.copyOf(current.lines);
    }

    private OwnConv own(int algo, Fusion.ConvStep cs, ConvProblem pr) {
        long[] prm = params.of(cs.conv());
        long[] post = cs.post() != null ? params.of(cs.post()) : null;
        return new OwnConv(algo, dtype, math, pr, prm[0], prm[1], prm[2], post != null ? post[0] : 0, post != null ? post[1] : 0);
    }

    private HeadImpl ownHead(Fusion.HeadStep hs, Plan plan) {
        long[] prm = params.of(hs.fc());
        int in = hs.pool().input();
        return new OwnHead(dtype, plan.batch(), plan.height(in) * plan.width(in), plan.channels(in), hs.fc().cout(), prm[0], prm[1]);
    }

    private Bound bindOwn(Plan plan) {
        Bound b = new Bound();
        for (Fusion.Step st : steps) {
            if (st instanceof Fusion.ConvStep cs) {
                b.convs.put(cs, own(-1, cs, ConvProblem.of(cs, plan)));
            } else if (st instanceof Fusion.HeadStep hs) {
                b.heads.put(hs, ownHead(hs, plan));
            }
        }
        return b;
    }

    // ------------------------------------------------------------------ tuning (cudnn / best)

    private TuneEnv env() {
        if (env == null) {
            Devices.CudaProbe p = Devices.cuda();
            Devices.GpuInfo g = p.gpus().get(device.index());
            Cudnn.Status cs = cudnnOn ? Cudnn.status() : null;
            String v = ConvSelector.class.getPackage().getImplementationVersion();
            env = new TuneEnv(g.name(), g.ccMajor(), g.ccMinor(), g.smCount(), p.driverVersion(), p.runtimeVersion(),
                    v != null ? v : "dev", kernelHash(), cs != null ? cs.cudnnVersion() : 0, cs != null ? cs.cublasVersion() : 0);
            cache = TuneCache.atDefault();
        }
        return env;
    }

    /** SHA-256 (12 hex digits) of the libreskern_cuda.so this build carries, plus the algo count: a rebuilt kernel re-tunes. */
    static String kernelHash() {
        try (InputStream in = CudaOps.class.getResourceAsStream("/io/reskern/nativelib/linux-x86_64/libreskern_cuda.so")) {
            if (in == null) {
                return "nolib-a" + CudaOps.conv2dAlgoCount();
            }
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
            }
            StringBuilder sb = new StringBuilder();
            byte[] d = md.digest();
            for (int i = 0; i < 6; i++) {
                sb.append(String.format("%02x", d[i]));
            }
            return sb + "-a" + CudaOps.conv2dAlgoCount();
        } catch (Exception e) {
            return "unknown-a" + CudaOps.conv2dAlgoCount();
        }
    }

    private long randomBlock;
    private static final long RANDOM_ELEMS = 1 << 20;

    /** Fills {@code elems} elements at {@code addr} with random values in [-1, 1) (tiled copies of one block). */
    private void fillRandom(long addr, long elems) throws ReskernException {
        int eb = precision.bytes();
        if (randomBlock == 0) {
            float[] r = new float[(int) RANDOM_ELEMS];
            SplittableRandom rnd = new SplittableRandom(17);
            for (int i = 0; i < r.length; i++) {
                r[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
            randomBlock = mem.upload(r, dtype, stream);
        }
        for (long off = 0; off < elems; off += RANDOM_ELEMS) {
            long n = Math.min(RANDOM_ELEMS, elems - off);
            DeviceMem.check(CudaOps.memcpyD2D(addr + off * eb, randomBlock, n * eb, stream), "fill tuning input");
        }
    }

    private void ensureWorkspace(long bytes) throws ReskernException {
        if (bytes > workspaceBytes) {
            DeviceMem.check(CudaOps.streamSynchronize(stream), "workspace");
            mem.free(workspace);
            workspace = mem.malloc(bytes);
            workspaceBytes = bytes;
        }
    }

    private CudnnConv cudnnConv(Fusion.ConvStep cs, CudnnMapping.Spec spec) throws ReskernException {
        long[] post = cs.post() != null ? params.of(cs.post()) : null;
        CudnnConv c = new CudnnConv(ctx, spec, cudnnWeights.get(cs.conv()), precision, post != null ? post[0] : 0,
                post != null ? post[1] : 0);
        owned.add(c);
        return c;
    }

    private Bound bindTuned(Plan plan, IntToLongFunction addr) throws ReskernException {
        TuneEnv e = env();
        String prec = precision.toString();
        List<ConvTuner.Job> jobs = new ArrayList<>();
        Map<Fusion.ConvStep, String> keys = new LinkedHashMap<>();
        Map<Fusion.ConvStep, CudnnConv> convObjs = new IdentityHashMap<>();
        Map<Fusion.ConvStep, CudnnMapping.Spec> specs = new IdentityHashMap<>();
        ReskernException[] failure = new ReskernException[1];
        for (Fusion.Step st : steps) {
            if (!(st instanceof Fusion.ConvStep cs)) {
                continue;
            }
            ConvProblem pr = ConvProblem.of(cs, plan);
            String key = e.key(prec, pr.canonical());
            keys.put(cs, key);
            CudnnMapping.Spec spec = cudnnOn && cudnnWeights.containsKey(cs.conv()) ? CudnnMapping.map(pr, precision) : null;
            if (spec != null && spec.supported()) {
                specs.put(cs, spec);
            }
            long x = addr.applyAsLong(cs.source());
            long res = cs.conv().residual() >= 0 ? addr.applyAsLong(cs.conv().residual()) : 0;
            long y = addr.applyAsLong(cs.conv().output());
            long y2 = cs.post() != null ? addr.applyAsLong(cs.post().output()) : 0;
            jobs.add(new ConvTuner.Job(key, cs.conv().convName() + " " + pr.canonical(), OwnConv.HEURISTIC_ID,
                    policy == ConvPolicy.BEST, cudnnOn, () -> {
                        fill(failure, cs, pr, x, res);
                        List<ConvTuner.Candidate> c = new ArrayList<>();
                        for (int a = -1; a < CudaOps.conv2dAlgoCount(); a++) {
                            if (OwnConv.canImplement(a, dtype, math, pr)) {
                                OwnConv oc = own(a, cs, pr);
                                c.add(new ConvTuner.Candidate(oc.id(), 0, () -> oc.launch(x, res, y, y2, stream)));
                            }
                        }
                        return c;
                    }, () -> {
                        List<ConvTuner.Candidate> c = new ArrayList<>();
                        CudnnMapping.Spec sp = specs.get(cs);
                        if (sp == null) {
                            return c;
                        }
                        try {
                            fill(failure, cs, pr, x, res);
                            CudnnConv cc = convObjs.get(cs);
                            if (cc == null) {
                                cc = cudnnConv(cs, sp);
                                convObjs.put(cs, cc);
                            }
                            CudnnConv conv = cc;
                            for (CudnnConv.Algo a : conv.algos()) {
                                ensureWorkspace(a.workspace());
                                c.add(new ConvTuner.Candidate(Chooser.CUDNN_PREFIX + a.name(), a.workspace(), () -> {
                                    try {
                                        conv.enqueue(a, workspace, x, res, y, y2);
                                        return 0;
                                    } catch (ReskernException ex) {
                                        LOG.fine(() -> "cuDNN " + a.name() + ": " + ex.getMessage());
                                        return ex.code() == ReskernException.ErrorCode.UNSUPPORTED ? 2 : 3;
                                    }
                                }));
                            }
                        } catch (ReskernException ex) {
                            LOG.fine(() -> cs.conv().convName() + ": no cuDNN candidates: " + ex.getMessage());
                        }
                        return c;
                    }));
        }
        Map<String, ConvTuner.Result> results;
        try (GpuTimer timer = new GpuTimer(stream)) {
            results = new ConvTuner(cache, timer, listener).tune(jobs);
        }
        if (failure[0] != null) {
            throw failure[0];
        }
        Bound b = new Bound();
        long needWs = 0;
        Map<String, String> seen = new LinkedHashMap<>();
        for (Map.Entry<Fusion.ConvStep, String> en : keys.entrySet()) {
            Fusion.ConvStep cs = en.getKey();
            ConvTuner.Result r = results.get(en.getValue());
            Chooser.Choice ch = Chooser.choose(policy, OwnConv.HEURISTIC_ID, r.own(), specs.containsKey(cs) ? r.cudnn() : null);
            ConvProblem pr = ConvProblem.of(cs, plan);
            ConvImpl impl = null;
            if (ch.isCudnn()) {
                int a = CudnnMapping.algoByName(ch.id().substring(Chooser.CUDNN_PREFIX.length()));
                long ws = r.cudnn().workspace();
                if (a >= 0) {
                    CudnnConv cc = convObjs.get(cs);
                    if (cc == null) {
                        cc = cudnnConv(cs, specs.get(cs));
                        convObjs.put(cs, cc);
                    }
                    needWs = Math.max(needWs, ws);
                    CudnnConv conv = cc;
                    CudnnConv.Algo algo = new CudnnConv.Algo(a, ws);
                    impl = new ConvImpl() {
                        @Override
                        public String id() {
                            return ch.id();
                        }

                        @Override
                        public void enqueue(long x, long res, long y, long y2, long s) throws ReskernException {
                            conv.enqueue(algo, workspace, x, res, y, y2);
                        }
                    };
                }
            }
            if (impl == null) {
                impl = own(ownAlgo(ch.id()), cs, pr);
            }
            b.convs.put(cs, impl);
            if (!seen.containsKey(en.getValue())) {
                seen.put(en.getValue(), "");
                b.lines.add(String.format("%-24s %-28s %s%s", cs.conv().convName(), impl.id(), ch.reason(), r.fromCache() ? " [cached]" : ""));
            }
        }
        ensureWorkspace(needWs);
        for (Fusion.Step st : steps) {
            if (st instanceof Fusion.HeadStep hs) {
                b.heads.put(hs, bindHead(hs, plan, addr, e, prec, b));
            }
        }
        DeviceMem.check(CudaOps.streamSynchronize(stream), "tuning");
        LOG.info(() -> "conv " + policy + " (" + precision + ", " + plan.batch() + "x" + plan.height(0) + "x" + plan.width(0) + "): "
                + summary(b));
        return b;
    }

    private void fill(ReskernException[] failure, Fusion.ConvStep cs, ConvProblem pr, long x, long res) {
        try {
            fillRandom(x, (long) pr.n() * pr.h() * pr.w() * pr.c());
            if (res != 0) {
                fillRandom(res, (long) pr.n() * pr.resH() * pr.resW() * pr.resC());
            }
        } catch (ReskernException ex) {
            if (failure[0] == null) {
                failure[0] = ex;
            }
        }
    }

    private static int ownAlgo(String id) {
        String name = id.startsWith(Chooser.OWN_PREFIX) ? id.substring(Chooser.OWN_PREFIX.length()) : id;
        for (int a = 0; a < CudaOps.conv2dAlgoCount(); a++) {
            if (CudaOps.conv2dAlgoName(a).equals(name)) {
                return a;
            }
        }
        return -1;
    }

    private HeadImpl bindHead(Fusion.HeadStep hs, Plan plan, IntToLongFunction addr, TuneEnv e, String prec, Bound b)
            throws ReskernException {
        HeadImpl own = ownHead(hs, plan);
        if (!cudnnOn) {
            return own;
        }
        long[] prm = params.of(hs.fc());
        int in = hs.pool().input();
        int n = plan.batch();
        int hw = plan.height(in) * plan.width(in);
        int c = plan.channels(in);
        int k = hs.fc().cout();
        CublasHead blas = new CublasHead(ctx, precision, n, hw, c, k, prm[0], prm[1], stream);
        owned.add(blas);
        if (policy == ConvPolicy.CUDNN) {
            b.lines.add(String.format("%-24s %-28s %s", "head", blas.id(), "policy cudnn"));
            return blas;
        }
        long x = addr.applyAsLong(in);
        long scratch = mem.malloc(4L * n * k);
        String key = e.key(prec, "head n" + n + " hw" + hw + " c" + c + " k" + k);
        ConvTuner.Job job = new ConvTuner.Job(key, "head", OwnHead.ID, true, true,
                () -> List.of(new ConvTuner.Candidate(OwnHead.ID, 0, () -> launch(own, x, scratch))),
                () -> List.of(new ConvTuner.Candidate(blas.id(), 0, () -> launch(blas, x, scratch))));
        ConvTuner.Result r;
        try (GpuTimer timer = new GpuTimer(stream)) {
            r = new ConvTuner(cache, timer, TuneListener.NONE).tune(List.of(job)).get(key);
        }
        Chooser.Choice ch = Chooser.choose(ConvPolicy.BEST, OwnHead.ID, r.own(), r.cudnn());
        b.lines.add(String.format("%-24s %-28s %s%s", "head", ch.id(), ch.reason(), r.fromCache() ? " [cached]" : ""));
        return ch.isCudnn() ? blas : own;
    }

    private int launch(HeadImpl h, long x, long out) {
        try {
            h.enqueue(x, out, stream);
            return 0;
        } catch (ReskernException ex) {
            return 3;
        }
    }

    private static String summary(Bound b) {
        int own = 0;
        int cud = 0;
        for (ConvImpl c : b.convs.values()) {
            if (c.id().startsWith(Chooser.CUDNN_PREFIX)) {
                cud++;
            } else {
                own++;
            }
        }
        return own + " conv steps on reskern's kernels, " + cud + " on cuDNN";
    }

    @Override
    public void close() {
        if (stream != 0) {
            CudaOps.streamSynchronize(stream);
        }
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort: native frees do not fail in a way we can act on
            }
        }
        owned.clear();
        for (CudnnConv.Weights w : cudnnWeights.values()) {
            w.close();
        }
        cudnnWeights.clear();
        mem.close();
        if (ctx != null) {
            ctx.close();
            ctx = null;
        }
    }
}
