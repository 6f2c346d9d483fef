package io.reskern.backend.conv;

import io.reskern.nativelib.CudaOps;
import java.util.function.IntSupplier;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * {@link ConvTuner.Timer} on CUDA events of reskern's own library: one warm-up launch (its status checked), one timed
 * launch to size the batches, then {@value #SAMPLES} samples of {@code reps} back-to-back launches each
 * ({@code reps} makes a sample last ≥ {@value #TARGET_MS} ms, at most {@value #MAX_REPS}); per-call ms = sample / reps.
 * Inputs are whatever the plan's buffers hold (the selector fills them with random values first).
 */
public final class GpuTimer implements ConvTuner.Timer, AutoCloseable {
    static final int SAMPLES = 5;
    static final double TARGET_MS = 0.3;
    static final int MAX_REPS = 64;
    private final long stream;
    private final long e0;
    private final long e1;
    private final FloatPointer ms = new FloatPointer(1);

    public GpuTimer(long stream) throws io.reskern.ReskernException {
        this.stream = stream;
        PointerPointer<?> pp = new PointerPointer<>(1);
        DeviceMem.check(CudaOps.eventCreate(pp), "event create");
        e0 = pp.get(0).address();
        DeviceMem.check(CudaOps.eventCreate(pp), "event create");
        e1 = pp.get(0).address();
    }

    private void run(IntSupplier launch, int reps) throws ConvTuner.CandidateFailed {
        for (int i = 0; i < reps; i++) {
            int st = launch.getAsInt();
            if (st != 0) {
                throw new ConvTuner.CandidateFailed("status " + st + ": " + CudaOps.lastError());
            }
        }
    }

    private double timed(IntSupplier launch, int reps) throws ConvTuner.CandidateFailed {
        ok(CudaOps.eventRecord(e0, stream));
        run(launch, reps);
        ok(CudaOps.eventRecord(e1, stream));
        ok(CudaOps.streamSynchronize(stream));
        ok(CudaOps.eventElapsedMs(e0, e1, ms));
        return ms.get() / reps;
    }

    private static void ok(int st) throws ConvTuner.CandidateFailed {
        if (st != 0) {
            throw new ConvTuner.CandidateFailed("CUDA status " + st + ": " + CudaOps.lastError());
        }
    }

    @Override
    public double[] time(IntSupplier launch) throws ConvTuner.CandidateFailed {
        run(launch, 1);
        ok(CudaOps.streamSynchronize(stream));
        double one = Math.max(timed(launch, 1), 1e-4);
        int reps = (int) Math.max(1, Math.min(MAX_REPS, Math.ceil(TARGET_MS / one)));
        double[] s = new double[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            s[i] = Math.max(timed(launch, reps), 1e-6);
        }
        return s;
    }

    @Override
    public void close() {
        CudaOps.eventDestroy(e0);
        CudaOps.eventDestroy(e1);
        ms.close();
    }
}
