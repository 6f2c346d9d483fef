package io.reskern.cli;

import com.google.gson.GsonBuilder;
import io.reskern.Devices;
import io.reskern.Model;
import io.reskern.ResNetSpec;
import io.reskern.graph.Graph;
import io.reskern.graph.Plan;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code reskern bench}: median latency and throughput of one model. */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Median latency and images/s of a model after warm-up (random input; weights optional).")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions opts;

    @Option(names = "--batch", required = true, paramLabel = "N", description = "batch size")
    int batch;

    @Option(names = "--size", paramLabel = "PX", description = "input height and width (default 224; CIFAR models 32; "
            + "an ONNX file the H x W its input declares, else 224)")
    Integer size;

    @Option(names = "--warmup", defaultValue = "3", paramLabel = "N", description = "warm-up runs (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--iters", defaultValue = "10", paramLabel = "N", description = "at least N timed runs (default ${DEFAULT-VALUE})")
    int iters;

    @Option(names = "--seconds", defaultValue = "2", paramLabel = "S", description = "and at least S seconds of timed runs "
            + "(default ${DEFAULT-VALUE}; at most 10,000,000 runs unless --iters asks for more)")
    double seconds;

    @Option(names = "--json", description = "print one JSON object instead of text")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (batch < 1) {
            throw new UsageException("--batch must be >= 1, got " + batch);
        }
        if (warmup < 0 || iters < 1 || !(seconds >= 0) || Double.isInfinite(seconds)) {
            throw new UsageException("--warmup must be >= 0, --iters >= 1, --seconds finite and >= 0; got " + warmup + ", "
                    + iters + ", " + seconds);
        }
        if (size != null && size < 1) {
            throw new UsageException("--size must be >= 1, got " + size);
        }
        try (Model model = opts.build()) {
            boolean cifar = model.spec() != null && model.spec().stem() == ResNetSpec.Stem.CIFAR;
            Graph.FixedSize fixed = model.graph().fixedInputSize(); // an import exact at one size only
            Graph.InputSize declared = fixed != null ? new Graph.InputSize(fixed.height(), fixed.width())
                    : model.graph().declaredInputSize(); // or the size an ONNX file was exported at
            int px = size != null ? size : declared != null ? declared.height() : (cifar ? 32 : 224);
            int pw = size == null && declared != null ? declared.width() : px;
            Plan plan = model.graph().plan(batch, px, pw);
            // the run count was capped at 10,000, so `--seconds 60` on a 0.5 ms model stopped after 5 s; MAX_RUNS
            // only bounds the timing array (80 MB), the timings array grows with the runs
            Measure.Result r = Measure.time(model, batch, px, pw, warmup, iters, seconds, Math.max(iters, Measure.MAX_RUNS));
            double gmacs = plan.macs() / 1e9;
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("model", model.name());
                o.put("device", model.device().toString());
                o.put("precision", model.precision().toString());
                o.put("batch", batch);
                o.put("height", px);
                o.put("width", pw);
                o.put("threads", model.device().isCuda() ? null : Devices.cpuThreads());
                o.put("iterations", r.iterations());
                o.put("median_ms", r.medianMs());
                o.put("p90_ms", r.p90Ms());
                o.put("min_ms", r.minMs());
                o.put("images_per_s", r.imagesPerSecond());
                o.put("gmacs", gmacs);
                o.put("gflops_per_s", 2 * gmacs / (r.medianMs() / 1000.0));
                System.out.println(new GsonBuilder().serializeNulls().create().toJson(o));
            } else {
                System.out.printf(Locale.ROOT, "%s on %s (%s), batch %d, %dx%d: median %.2f ms (p90 %.2f, %d runs), %.1f images/s, "
                                + "%.1f GFLOP/s%n", model.name(), model.device(), model.precision(), batch, px, pw,
                        r.medianMs(), r.p90Ms(), r.iterations(), r.imagesPerSecond(), 2 * gmacs / (r.medianMs() / 1000.0));
            }
        }
        return 0;
    }
}
