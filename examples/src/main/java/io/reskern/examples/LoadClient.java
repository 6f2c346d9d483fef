package io.reskern.examples;

import com.google.gson.GsonBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A closed-loop HTTP load generator for the example service, for hosts without {@code wrk} (the GPU host): C client
 * threads, each sending one float32 image per request, back to back, for a fixed time; prints requests/s and latency
 * percentiles per connection count and writes them as JSON.
 */
@Command(name = "load-client", mixinStandardHelpOptions = true, description = "POST images to /v1/predict in a loop")
public final class LoadClient implements Callable<Integer> {
    @Option(names = "--url", required = true, description = "e.g. http://127.0.0.1:8080/v1/predict")
    URI url;

    @Option(names = "--size", defaultValue = "224", description = "image height = width")
    int size;

    @Option(names = "--connections", defaultValue = "1,8,32", split = ",")
    int[] connections;

    @Option(names = "--duration-s", defaultValue = "15")
    double seconds;

    @Option(names = "--warmup-s", defaultValue = "3")
    double warmup;

    @Option(names = "--out", description = "JSON results file")
    Path out;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LoadClient()).execute(args));
    }

    record Row(int connections, long requests, long errors, double seconds, double requestsPerSecond, double p50Ms,
               double p90Ms, double p99Ms, double maxMs) {
    }

    @Override
    public Integer call() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(12 * size * size).order(ByteOrder.LITTLE_ENDIAN);
        Random r = new Random(7);
        for (int i = 0; i < 3 * size * size; i++) {
            b.putFloat((float) r.nextGaussian());
        }
        byte[] body = b.array();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .build();
        run(client, body, 4, warmup);
        List<Row> rows = new ArrayList<>();
        System.out.println("| connections | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
        for (int c : connections) {
            Row row = run(client, body, c, seconds);
            rows.add(row);
            System.out.printf(java.util.Locale.ROOT, "| %d | %.1f | %.2f | %.2f | %.2f | %.2f | %d |%n", row.connections(), row.requestsPerSecond(),
                    row.p50Ms(), row.p90Ms(), row.p99Ms(), row.maxMs(), row.errors());
        }
        if (out != null) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("url", url.toString());
            o.put("size", size);
            o.put("rows", rows);
            Files.writeString(out, new GsonBuilder().setPrettyPrinting().create().toJson(o), StandardCharsets.UTF_8);
        }
        return rows.stream().allMatch(x -> x.errors() == 0) ? 0 : 1;
    }

    private Row run(HttpClient client, byte[] body, int c, double secs) throws InterruptedException {
        long end = System.nanoTime() + (long) (secs * 1e9);
        List<long[]> lat = new ArrayList<>();
        AtomicLong errors = new AtomicLong();
        AtomicLong count = new AtomicLong();
        Thread[] ts = new Thread[c];
        long t0 = System.nanoTime();
        for (int i = 0; i < c; i++) {
            long[] mine = new long[1 << 20];
            lat.add(mine);
            ts[i] = new Thread(() -> {
                int k = 0;
                HttpRequest req = HttpRequest.newBuilder(url).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .header("Content-Type", "application/octet-stream").build();
                while (System.nanoTime() < end) {
                    long s = System.nanoTime();
                    try {
                        HttpResponse<Void> resp = client.send(req, HttpResponse.BodyHandlers.discarding());
                        if (resp.statusCode() != 200) {
                            errors.incrementAndGet();
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                    }
                    if (k < mine.length) {
                        mine[k++] = System.nanoTime() - s;
                    }
                    count.incrementAndGet();
                }
                mine[mine.length - 1] = k; // how many were recorded
            });
            ts[i].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        double took = (System.nanoTime() - t0) / 1e9;
        long n = 0;
        for (long[] m : lat) {
            n += m[m.length - 1];
        }
        long[] all = new long[(int) n];
        int j = 0;
        for (long[] m : lat) {
            int k = (int) m[m.length - 1];
            System.arraycopy(m, 0, all, j, k);
            j += k;
        }
        Arrays.sort(all);
        return new Row(c, count.get(), errors.get(), took, count.get() / took, pct(all, 0.50), pct(all, 0.90), pct(all, 0.99),
                all.length == 0 ? 0 : all[all.length - 1] / 1e6);
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
    }
}
