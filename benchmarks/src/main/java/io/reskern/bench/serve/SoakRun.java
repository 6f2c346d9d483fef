package io.reskern.bench.serve;

import com.google.gson.GsonBuilder;
import io.reskern.Model;
import io.reskern.cli.ModelOptions;
import io.reskern.serve.Predictor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The serving soak test: T threads × K predictions through one {@link Predictor}; every result compared bit for bit
 * with the single-threaded result of the same input (the same predictor, one request at a time, before the load); process RSS, JavaCPP native bytes, GPU memory (if any)
 * and the Java heap sampled over time. Writes {@code soak.json} (samples + verdict) to {@code --out}.
 *
 * <pre>java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar io.reskern.bench.serve.SoakRun \
 *     --model cifar_resnet20 --weights ../shared/models/cifar10-resnet/resnet20.safetensors --callers 8 --per-thread 100000</pre>
 */
@Command(name = "soak", mixinStandardHelpOptions = true, description = "T threads x K predictions, bit-identity + memory")
public final class SoakRun implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--callers", defaultValue = "8", description = "calling threads")
    int threads;

    @Option(names = "--per-thread", defaultValue = "100000")
    int perThread;

    @Option(names = "--distinct", defaultValue = "64", description = "distinct inputs (each checked against its reference)")
    int distinct;

    @Option(names = "--max-batch", defaultValue = "16")
    int maxBatch;

    @Option(names = "--max-wait-us", defaultValue = "500")
    long maxWaitUs;

    @Option(names = "--batch-sizes", split = ",", description = "GPU: warmed batch sizes (one size: results cannot depend "
            + "on how requests were batched)")
    int[] batchSizes;

    @Option(names = "--size", defaultValue = "32")
    int size;

    @Option(names = "--sample-s", defaultValue = "5")
    double sampleSeconds;

    @Option(names = "--out", required = true)
    Path out;

    public static void main(String[] args) {
        System.exit(new CommandLine(new SoakRun()).execute(args));
    }

    record Sample(double seconds, long predictions, long rssBytes, long javacppBytes, long heapUsedBytes, long gpuUsedBytes) {
    }

    static long rss() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    static long gpuUsed() {
        if (!io.reskern.Devices.cuda().usable()) {
            return -1;
        }
        org.bytedeco.javacpp.LongPointer tot = new org.bytedeco.javacpp.LongPointer(1);
        org.bytedeco.javacpp.LongPointer free = new org.bytedeco.javacpp.LongPointer(1);
        org.bytedeco.javacpp.IntPointer i = new org.bytedeco.javacpp.IntPointer(1);
        if (io.reskern.nativelib.CudaOps.deviceInfo(0, null, 0, i, i, i, tot, free) != 0) {
            return -1;
        }
        return tot.get() - free.get();
    }

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(out);
        Model.Builder mb = model.builder();
        int img = 3 * size * size;
        List<float[]> inputs = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        Random r = new Random(1);
        for (int i = 0; i < distinct; i++) {
            float[] x = new float[img];
            for (int k = 0; k < img; k++) {
                x[k] = (float) r.nextGaussian();
            }
            inputs.add(x);
        }
        AtomicLong done = new AtomicLong();
        AtomicLong mismatches = new AtomicLong();
        List<Sample> samples = new ArrayList<>();
        long t0;
        Predictor.Stats stats;
        String desc;
        Predictor.Builder pb = Predictor.builder(mb).optMaxBatch(maxBatch).optMaxWait(Duration.ofNanos(maxWaitUs * 1000))
                .optInputSize(size, size);
        if (batchSizes != null) {
            pb.optBatchSizes(batchSizes);
        }
        try (Predictor p = pb.build()) {
            desc = p.toString();
            for (float[] x : inputs) {
                expected.add(p.predict(x, 1)); // the single-threaded result: one request at a time, alone in its batch
            }
            t0 = System.nanoTime();
            Thread sampler = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        samples.add(new Sample((System.nanoTime() - t0) / 1e9, done.get(), rss(), Pointer.totalBytes(),
                                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), gpuUsed()));
                        Thread.sleep((long) (sampleSeconds * 1000));
                    }
                } catch (InterruptedException e) {
                    // done
                }
            }, "soak-sampler");
            sampler.setDaemon(true);
            sampler.start();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = 1000 + t;
                fs.add(pool.submit(() -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    for (int k = 0; k < perThread; k++) {
                        int i = rnd.nextInt(distinct);
                        float[] got = p.predict(inputs.get(i), 1);
                        if (!Arrays.equals(got, expected.get(i))) {
                            mismatches.incrementAndGet();
                        }
                        done.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            pool.shutdown();
            sampler.interrupt();
            sampler.join();
            samples.add(new Sample((System.nanoTime() - t0) / 1e9, done.get(), rss(), Pointer.totalBytes(),
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), gpuUsed()));
            stats = p.stats();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        // Memory after warm-up: compare the second sample (the predictor built, load running) with the maximum later.
        Sample first = samples.get(Math.min(1, samples.size() - 1));
        long rssMax = samples.stream().skip(1).mapToLong(Sample::rssBytes).max().orElse(first.rssBytes());
        long nativeMax = samples.stream().skip(1).mapToLong(Sample::javacppBytes).max().orElse(first.javacppBytes());
        long nativeMin = samples.stream().skip(1).mapToLong(Sample::javacppBytes).min().orElse(first.javacppBytes());
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("date", Instant.now().toString());
        o.put("predictor", desc);
        o.put("threads", threads);
        o.put("perThread", perThread);
        o.put("predictions", done.get());
        o.put("mismatches", mismatches.get());
        o.put("seconds", secs);
        o.put("predictionsPerSecond", done.get() / secs);
        o.put("meanBatch", stats.meanBatch());
        o.put("batches", stats.batches());
        o.put("failedRequests", stats.failedRequests());
        o.put("rssAfterWarmupMiB", first.rssBytes() / 1048576.0);
        o.put("rssMaxMiB", rssMax / 1048576.0);
        o.put("rssFinalMiB", samples.get(samples.size() - 1).rssBytes() / 1048576.0);
        o.put("javacppNativeMinMiB", nativeMin / 1048576.0);
        o.put("javacppNativeMaxMiB", nativeMax / 1048576.0);
        o.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + " "
                + ManagementFactory.getRuntimeMXBean().getInputArguments());
        o.put("samples", samples);
        Files.writeString(out.resolve("soak.json"), new GsonBuilder().setPrettyPrinting().create().toJson(o),
                StandardCharsets.UTF_8);
        System.out.printf("soak: %d predictions in %.1f s (%.0f/s, mean batch %.2f), %d mismatches, RSS %.0f -> max %.0f MiB, "
                        + "native %.1f..%.1f MiB%n", done.get(), secs, done.get() / secs, stats.meanBatch(), mismatches.get(),
                first.rssBytes() / 1048576.0, rssMax / 1048576.0, nativeMin / 1048576.0, nativeMax / 1048576.0);
        return mismatches.get() == 0 && stats.failedRequests() == 0 ? 0 : 1;
    }
}
