package io.reskern.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ConvPolicy;
import io.reskern.backend.conv.Chooser;
import io.reskern.backend.conv.ConvTuner;
import io.reskern.backend.conv.TuneCache;
import io.reskern.backend.conv.TuneListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tuning orchestration with a fake timer: dedupe, cache reuse, partial re-tuning, failing candidates. */
class ConvTunerTest {
    @TempDir
    Path tmp;

    /** Fake timer: each candidate's launch returns its index into {@link #ms}; status -1 = a failing launch. */
    static final class FakeTimer implements ConvTuner.Timer {
        final List<Double> ms = new ArrayList<>();
        int calls;

        java.util.function.IntSupplier launch(double millis) {
            int i = ms.size();
            ms.add(millis);
            return () -> i;
        }

        @Override
        public double[] time(java.util.function.IntSupplier launch) throws ConvTuner.CandidateFailed {
            calls++;
            double v = ms.get(launch.getAsInt());
            if (v < 0) {
                throw new ConvTuner.CandidateFailed("launch failed");
            }
            return new double[] {v, v * 1.001, v * 0.999};
        }
    }

    static Supplier<List<ConvTuner.Candidate>> cands(FakeTimer t, Object... idMs) {
        return () -> {
            List<ConvTuner.Candidate> l = new ArrayList<>();
            for (int i = 0; i < idMs.length; i += 2) {
                l.add(new ConvTuner.Candidate((String) idMs[i], 0, t.launch((Double) idMs[i + 1])));
            }
            return l;
        };
    }

    static ConvTuner.Job job(String key, boolean own, boolean cudnn, Supplier<List<ConvTuner.Candidate>> o,
                             Supplier<List<ConvTuner.Candidate>> c) {
        return new ConvTuner.Job(key, key, "own:heuristic", own, cudnn, o, c);
    }

    @Test
    void sameKeyIsTimedOnceAndTheCacheAnswersTheSecondStart() {
        FakeTimer t = new FakeTimer();
        TuneCache cache = new TuneCache(tmp);
        List<ConvTuner.Job> jobs = new ArrayList<>();
        for (int layer = 0; layer < 3; layer++) { // three layers of one shape
            jobs.add(job("shapeA", true, true, cands(t, "own:heuristic", 1.0, "own:tc_f16_64x64", 0.8),
                    cands(t, "cudnn:IMPLICIT_GEMM", 0.9, "cudnn:IMPLICIT_PRECOMP_GEMM", 0.5)));
        }
        jobs.add(job("shapeB", true, true, cands(t, "own:heuristic", 2.0), cands(t, "cudnn:IMPLICIT_GEMM", 3.0)));
        int[] progress = new int[3];
        Map<String, ConvTuner.Result> r = new ConvTuner(cache, t, new TuneListener() {
            @Override
            public void start(int total, int cached) {
                progress[0] = total;
                progress[1] = cached;
            }

            @Override
            public void step(String label, boolean fromCache) {
                progress[2]++;
            }
        }).tune(jobs);
        assertEquals(6, t.calls, "4 candidates of shape A once + 2 of shape B");
        assertEquals(2, progress[0]);
        assertEquals(0, progress[1]);
        assertEquals(2, progress[2]);
        assertEquals("own:tc_f16_64x64", r.get("shapeA").own().id());
        assertEquals("cudnn:IMPLICIT_PRECOMP_GEMM", r.get("shapeA").cudnn().id());
        assertEquals("cudnn:IMPLICIT_PRECOMP_GEMM", Chooser.choose(ConvPolicy.BEST, "own:heuristic", r.get("shapeA").own(),
                r.get("shapeA").cudnn()).id());
        assertEquals("own:heuristic", Chooser.choose(ConvPolicy.BEST, "own:heuristic", r.get("shapeB").own(),
                r.get("shapeB").cudnn()).id());

        // second start: a new cache object on the same folder, a new timer: nothing is timed
        FakeTimer t2 = new FakeTimer();
        Map<String, ConvTuner.Result> r2 = new ConvTuner(new TuneCache(tmp), t2, null).tune(jobs);
        assertEquals(0, t2.calls);
        assertTrue(r2.get("shapeA").fromCache());
        assertEquals(r.get("shapeA").cudnn().id(), r2.get("shapeA").cudnn().id());
        assertEquals(r.get("shapeA").own().ms(), r2.get("shapeA").own().ms(), 0);
    }

    @Test
    void cudnnPolicyEntryIsCompletedWhenBestAsksLater() {
        FakeTimer t = new FakeTimer();
        TuneCache cache = new TuneCache(tmp);
        new ConvTuner(cache, t, null).tune(List.of(job("k", false, true, cands(t, "own:heuristic", 1.0),
                cands(t, "cudnn:IMPLICIT_GEMM", 0.7))));
        assertEquals(1, t.calls, "policy cudnn times only cuDNN");
        assertTrue(!cache.get("k").ownTimed && cache.get("k").cudnnTimed);
        FakeTimer t2 = new FakeTimer();
        Map<String, ConvTuner.Result> r = new ConvTuner(new TuneCache(tmp), t2, null).tune(List.of(job("k", true, true,
                cands(t2, "own:heuristic", 1.0), cands(t2, "cudnn:IMPLICIT_GEMM", 99.0))));
        assertEquals(1, t2.calls, "best later: only the own side is timed, cuDNN's time comes from the cache");
        assertEquals(0.7, r.get("k").cudnn().ms(), 1e-9);
        assertEquals(1.0, r.get("k").own().ms(), 1e-9);
    }

    @Test
    void failingCandidatesAreDroppedAndNoCandidateMeansNull() {
        FakeTimer t = new FakeTimer();
        Map<String, ConvTuner.Result> r = new ConvTuner(new TuneCache(null), t, null).tune(List.of(
                job("k1", true, true, cands(t, "own:heuristic", 1.0, "own:tc_bf16_256x64", -1.0),
                        cands(t, "cudnn:FFT", -1.0, "cudnn:IMPLICIT_GEMM", 2.0)),
                job("k2", true, true, cands(t, "own:heuristic", 1.0), cands(t, "cudnn:FFT", -1.0)),
                job("k3", true, true, cands(t, "own:heuristic", 1.0), List::of)));
        assertEquals("own:heuristic", r.get("k1").own().id());
        assertEquals("cudnn:IMPLICIT_GEMM", r.get("k1").cudnn().id());
        assertNull(r.get("k2").cudnn(), "every cuDNN candidate failed");
        assertNull(r.get("k3").cudnn(), "cuDNN missing / not expressible: no candidates");
        assertEquals("own:heuristic", Chooser.choose(ConvPolicy.CUDNN, "own:heuristic", r.get("k3").own(), r.get("k3").cudnn()).id());
    }

    @Test
    void candidatesAreBuiltOnlyWhenTimingIsNeeded() {
        FakeTimer t = new FakeTimer();
        TuneCache cache = new TuneCache(tmp);
        int[] built = new int[1];
        Supplier<List<ConvTuner.Candidate>> counting = () -> {
            built[0]++;
            return cands(t, "own:heuristic", 1.0).get();
        };
        new ConvTuner(cache, t, null).tune(List.of(job("k", true, false, counting, List::of)));
        new ConvTuner(cache, t, null).tune(List.of(job("k", true, false, counting, List::of)));
        assertEquals(1, built[0]);
        Map<String, Object> none = new HashMap<>();
        new ConvTuner(cache, t, null).tune(List.of(job("n", false, false, () -> {
            none.put("built", true);
            return List.of();
        }, List::of)));
        assertTrue(none.isEmpty());
        assertNull(cache.get("n"), "nothing timed, nothing stored");
    }
}
