package io.reskern.backend;

import io.reskern.graph.Graph;
import io.reskern.graph.Plan;
import io.reskern.image.ResamplePlan;
import java.util.LinkedHashMap;
import java.util.Map;

/** What every {@link Executor} shares: the plan cache, the current batch, argument checks, lifetime. */
abstract class BaseExecutor implements Executor {
    final Graph graph;
    /**
     * Plans kept per context (least recently used dropped beyond this): a {@code Model} called with ever new input sizes
     * must not grow without bound. A dropped plan is made again when its size comes back (same offsets).
     */
    static final int PLAN_CACHE = 64;

    private final Map<Shape, Plan> plans = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Shape, Plan> eldest) {
            return size() > PLAN_CACHE;
        }
    };
    Plan plan;
    boolean closed;

    BaseExecutor(Graph graph) {
        this.graph = graph;
    }

    @Override
    public final Graph graph() {
        return graph;
    }

    final void open() {
        if (closed) {
            throw new IllegalStateException("execution context is closed");
        }
    }

    /**
     * The cache key of an input size. It was {@code (n << 40) | (h << 20) | w}, which is not one-to-one: a width of
     * 2^20 + 64 shared the key of a 65 x 64 input (and ran on its plan: wrong logits), batch 2^24 + 1 that of batch 1.
     */
    record Shape(int batch, int height, int width) {
    }

    static Shape key(int n, int h, int w) {
        return new Shape(n, h, w);
    }

    /** Plans cached now (tests). */
    final int cachedPlans() {
        return plans.size();
    }

    final Plan planFor(int n, int h, int w) {
        return plans.computeIfAbsent(key(n, h, w), k -> graph.plan(n, h, w));
    }

    /** The plan of the batch begun last; checks the context is open and {@link #begin} was called. */
    final Plan current() {
        open();
        if (plan == null) {
            throw new IllegalStateException("begin() first");
        }
        return plan;
    }

    /** Floats of one input image (3·H·W). */
    static long imageElems(Plan p) {
        return 3L * p.height(0) * p.width(0);
    }

    static void checkRange(Plan p, int first, int count) {
        if (first < 0 || count < 0 || first + count > p.batch()) {
            throw new IllegalArgumentException("images [" + first + ", " + (first + count) + ") outside the batch of " + p.batch());
        }
    }

    static void checkImage(Plan p, ResamplePlan plan, int index) {
        checkRange(p, index, 1);
        if (plan.outHeight() != p.height(0) || plan.outWidth() != p.width(0)) {
            throw new IllegalArgumentException("image preprocessed to " + plan.outHeight() + "x" + plan.outWidth()
                    + " for a batch of " + p.height(0) + "x" + p.width(0) + " inputs");
        }
    }

    static void checkOut(Plan p, float[] out, int outOffset) {
        int len = p.batch() * p.graph().classes();
        if (outOffset < 0 || outOffset + len > out.length) {
            throw new IllegalArgumentException("output array too short for " + p.batch() + " x " + p.graph().classes() + " logits");
        }
    }
}
