package io.reskern.backend.conv;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.logging.Logger;

/**
 * Times the candidates of each distinct conv problem (reskern's kernel configurations and cuDNN's algorithms) with a
 * {@link Timer}, keeps the measurements in a {@link TuneCache} and answers the ones already there without timing. The
 * decision itself is {@link Chooser}'s. GPU-free: the timer and the launches are supplied, so the orchestration
 * (dedupe, cache reuse, partial re-tuning, failing candidates) is unit-tested with fake timings.
 */
public final class ConvTuner {
    private static final Logger LOG = Logger.getLogger(ConvTuner.class.getName());

    /** Measures one candidate: per-call samples in ms; throws {@link CandidateFailed} when a launch fails. */
    public interface Timer {
        double[] time(IntSupplier launch) throws CandidateFailed;
    }

    /** A launch returned a non-zero status (or timing failed): the candidate is dropped. */
    public static final class CandidateFailed extends Exception {
        public CandidateFailed(String message) {
            super(message);
        }
    }

    /** One way to run the problem: {@code launch} enqueues it once and returns the native status. */
    public record Candidate(String id, long workspace, IntSupplier launch) {
    }

    /**
     * One problem to decide.
     *
     * @param key         {@link TuneEnv#key} (jobs with the same key are measured once)
     * @param label       for progress and logs
     * @param heuristicId reskern's heuristic choice ({@code own:<name>})
     * @param needOwn     time the own candidates (policy best)
     * @param needCudnn   time the cuDNN candidates (policies cudnn, best)
     * @param own         own candidates (built lazily: only called when timing is needed)
     * @param cudnn       cuDNN candidates (lazily; may be empty)
     */
    public record Job(String key, String label, String heuristicId, boolean needOwn, boolean needCudnn,
                      java.util.function.Supplier<List<Candidate>> own, java.util.function.Supplier<List<Candidate>> cudnn) {
    }

    /** Measurements for one key. */
    public record Result(Measured own, Measured cudnn, boolean fromCache) {
    }

    private final TuneCache cache;
    private final Timer timer;
    private final TuneListener listener;

    public ConvTuner(TuneCache cache, Timer timer, TuneListener listener) {
        this.cache = cache;
        this.timer = timer;
        this.listener = listener != null ? listener : TuneListener.NONE;
    }

    private static boolean answers(TuneCache.Entry e, Job j) {
        if (!j.needOwn() && !j.needCudnn()) {
            return true;
        }
        return e != null && (!j.needOwn() || e.ownTimed) && (!j.needCudnn() || e.cudnnTimed);
    }

    /** Results by key; persists what was newly measured. */
    public Map<String, Result> tune(List<Job> jobs) {
        Map<String, Job> distinct = new LinkedHashMap<>();
        for (Job j : jobs) {
            Job old = distinct.get(j.key());
            if (old == null) {
                distinct.put(j.key(), j);
            } else if ((j.needOwn() && !old.needOwn()) || (j.needCudnn() && !old.needCudnn())) {
                distinct.put(j.key(), new Job(j.key(), j.label(), j.heuristicId(), j.needOwn() || old.needOwn(),
                        j.needCudnn() || old.needCudnn(), j.own(), j.cudnn()));
            }
        }
        int cached = 0;
        for (Job j : distinct.values()) {
            if (answers(cache.get(j.key()), j)) {
                cached++;
            }
        }
        Map<String, Result> out = new LinkedHashMap<>();
        Map<String, TuneCache.Entry> fresh = new LinkedHashMap<>();
        listener.start(distinct.size(), cached);
        try {
            for (Job j : distinct.values()) {
                TuneCache.Entry e = cache.get(j.key());
                if (answers(e, j)) {
                    out.put(j.key(), new Result(e != null ? e.own : null, e != null ? e.cudnn : null, true));
                    listener.step(j.label(), true);
                    continue;
                }
                List<String> timedIds = new ArrayList<>();
                boolean ownTimed = e != null && e.ownTimed;
                boolean cudnnTimed = e != null && e.cudnnTimed;
                Measured own = e != null ? e.own : null;
                Measured cud = e != null ? e.cudnn : null;
                if (j.needOwn() && !ownTimed) {
                    own = Chooser.bestOwn(measure(j, j.own().get(), timedIds), j.heuristicId());
                    ownTimed = true;
                }
                if (j.needCudnn() && !cudnnTimed) {
                    cud = Chooser.fastest(measure(j, j.cudnn().get(), timedIds));
                    cudnnTimed = true;
                }
                TuneCache.Entry ne = new TuneCache.Entry(ownTimed, own, cudnnTimed, cud, timedIds, System.currentTimeMillis());
                fresh.put(j.key(), ne);
                out.put(j.key(), new Result(own, cud, false));
                listener.step(j.label(), false);
            }
        } finally {
            cache.putAll(fresh);
            listener.end();
        }
        return out;
    }

    private List<Measured> measure(Job j, List<Candidate> cands, List<String> timedIds) {
        List<Measured> ok = new ArrayList<>();
        for (Candidate c : cands) {
            timedIds.add(c.id());
            try {
                ok.add(Measured.of(c.id(), timer.time(c.launch()), c.workspace()));
            } catch (CandidateFailed ex) {
                LOG.fine(() -> j.label() + ": candidate " + c.id() + " dropped: " + ex.getMessage());
            }
        }
        return ok;
    }
}
