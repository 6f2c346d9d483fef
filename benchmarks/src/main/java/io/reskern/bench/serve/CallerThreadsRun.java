package io.reskern.bench.serve;

import io.reskern.Model;
import io.reskern.cli.ModelOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Does native memory grow with the number of threads that ever called a model? A service calls {@code Model.predict}
 * from its request pool: T threads that stay alive each make one call (the model serialises them), and the process RSS
 * is compared before and after. Native state kept per calling thread shows up as T times its size (before bc0bf3b the
 * CPU convs kept their zero-padded input copy per thread: +124 MB for 48 threads at CIFAR ResNet-20 batch 32).
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar io.reskern.bench.serve.CallerThreadsRun --model cifar_resnet20 \
 *     --device cpu --callers 48 --batch 32</pre>
 */
@Command(name = "caller-threads", mixinStandardHelpOptions = true,
        description = "RSS before/after T live threads each call a model once")
public final class CallerThreadsRun implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--callers", defaultValue = "48", description = "live calling threads")
    int callers;

    @Option(names = "--batch", defaultValue = "32")
    int batch;

    @Option(names = "--size", description = "input height and width (default 224; CIFAR models 32)")
    Integer size;

    @Override
    public Integer call() throws Exception {
        int s = size != null ? size : model.isCifar() ? 32 : 224;
        float[] x = new float[batch * 3 * s * s];
        Random r = new Random(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        try (Model m = model.build()) {
            for (int i = 0; i < 3; i++) {
                m.predict(x, batch, s, s);
            }
            System.gc();
            long before = SoakRun.rss();
            ExecutorService pool = Executors.newFixedThreadPool(callers);
            try {
                CountDownLatch all = new CountDownLatch(callers);
                List<Future<?>> calls = new ArrayList<>();
                for (int t = 0; t < callers; t++) {
                    calls.add(pool.submit(() -> {
                        all.countDown();
                        all.await(); // one call per thread, all threads alive
                        m.predict(x, batch, s, s);
                        return null;
                    }));
                }
                for (Future<?> f : calls) {
                    f.get();
                }
                System.gc();
                long after = SoakRun.rss();
                System.out.printf("%s, %d live caller threads, batch %d, %dx%d: RSS %d -> %d MiB (%+d MiB)%n", m.graph().name(),
                        callers, batch, s, s, before >> 20, after >> 20, (after - before) >> 20);
            } finally {
                pool.shutdown();
            }
        }
        return 0;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new CallerThreadsRun()).execute(args));
    }
}
