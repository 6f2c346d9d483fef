package io.reskern.examples;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.reskern.ReskernException;
import io.reskern.cli.ModelOptions;
import io.reskern.image.ImageDecoder;
import io.reskern.image.Labels;
import io.reskern.image.RgbImage;
import io.reskern.serve.Input;
import io.reskern.serve.Predictions;
import io.reskern.serve.Predictor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Example: image classification over HTTP, on the JDK's own HTTP server and one reskern {@link Predictor}.
 *
 * <p>Every HTTP worker thread calls {@link Predictor#predict(Input)}; the predictor batches the requests that arrive
 * together. Endpoints:
 * <ul>
 *   <li>{@code POST /v1/classify?top=K} — body: one JPEG or PNG image (any size; resized, cropped and normalised by the
 *       predictor, on the GPU when it runs on one); answer: {@code {"top": [{"index", "label", "probability"}, …], "ms"}}</li>
 *   <li>{@code POST /v1/predict?top=K} — body: float32 little-endian NCHW {@code [N, 3, H, W]} (N inferred from the
 *       length); answer: {@code {"predictions": [[{"index", "label", "probability"}, …] per image], "ms": …}}</li>
 *   <li>{@code GET /health} — model, devices, input size; {@code GET /stats} — the predictor's counters</li>
 * </ul>
 * A bad request is {@code 400} with {@code {"error": …}}; a wrong method {@code 405} with an {@code Allow} header; a
 * failure of the model {@code 500}; a closed or stopping service {@code 503}, and so is a full predictor queue
 * ({@code --max-queued}), with {@code Retry-After: 1}. The service stops cleanly on SIGTERM /
 * Ctrl-C: new requests get 503, requests in flight finish (up to 30 s), then the server closes and frees the model.
 *
 * <p>Slow clients: a request whose headers and body have not arrived within {@code sun.net.httpserver.maxReqTime}
 * seconds (default here {@value #DEFAULT_MAX_REQ_TIME_S}), or whose answer has not been written within
 * {@code sun.net.httpserver.maxRspTime} seconds of the request's end (default {@value #DEFAULT_MAX_RSP_TIME_S}: it
 * includes the inference), has its connection closed, so that slow clients cannot hold every HTTP thread for ever (the
 * JDK's own default is no limit). Both are JDK system properties ({@code -D…}), read once, when the JDK's server
 * classes load; checked about once a second.
 */
@Command(name = "reskern-service", mixinStandardHelpOptions = true, versionProvider = io.reskern.cli.Main.Version.class,
        description = "Serve a reskern model over HTTP (an example of embedding reskern in a Java service).")
public final class ClassifyService implements java.util.concurrent.Callable<Integer> {
    private static final Gson GSON = new Gson();
    private static final int MAX_IMAGE_BYTES = 32 << 20;
    private static final ImageDecoder DECODER = ImageDecoder.defaults().withMaxPixels(50_000_000L);
    /** Seconds a client has to send its request (headers and body), unless -Dsun.net.httpserver.maxReqTime says. */
    static final int DEFAULT_MAX_REQ_TIME_S = 60;
    /** Seconds from the request's end until the answer is written, unless -Dsun.net.httpserver.maxRspTime says. */
    static final int DEFAULT_MAX_RSP_TIME_S = 120;
    /** How long stop() lets requests in flight finish. */
    private static final long STOP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(30);

    @Mixin
    ModelOptions model;

    @Option(names = "--port", defaultValue = "8080", description = "TCP port (0: any free port; default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "address to listen on (default ${DEFAULT-VALUE})")
    String bind;

    /** Upper limit of --http-threads: requests beyond the predictor's batch only queue, each thread holds a body. */
    static final int MAX_HTTP_THREADS = 1024;

    @Option(names = "--http-threads", defaultValue = "16", description = "HTTP worker threads, 1 to 1024 (default ${DEFAULT-VALUE})")
    int httpThreads;

    @Option(names = "--max-batch", description = "largest batch (default: 8 on the CPU, 32 on a GPU)")
    Integer maxBatch;

    @Option(names = "--max-wait-ms", defaultValue = "2", description = "batching window in ms (default ${DEFAULT-VALUE})")
    double maxWaitMs;

    @Option(names = "--max-queued", description = "most images waiting for a batch; above it requests get 503 with "
            + "Retry-After at once instead of waiting (default: no limit but --http-threads)")
    Integer maxQueued;

    @Option(names = "--size", description = "input height = width in pixels (default: 224, CIFAR 32, an ONNX file the H x W its input declares)")
    Integer size;

    @Option(names = "--labels", description = "class labels: one per line, a JSON array, or imagenet_class_index.json")
    Path labels;

    private HttpServer server;
    private ExecutorService http;
    private Predictor predictor;
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean stopping;

    public static void main(String[] args) {
        io.reskern.cli.Main.useOneLineLogs();
        System.exit(io.reskern.cli.Main.run(commandLine(), args));
    }

    /**
     * The command line with the reskern CLI's error handling: a bad option, model, weights or labels file, or a port in
     * use prints one line {@code reskern-service: error: …} and exits non-zero, never a stack trace.
     */
    public static CommandLine commandLine() {
        return io.reskern.cli.Main.configure(new CommandLine(new ClassifyService()));
    }

    @Override
    public Integer call() throws Exception {
        start();
        System.out.println("reskern-service: listening on http://" + bind + ":" + server.getAddress().getPort() + " ("
                + predictor + ")");
        Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "reskern-service-stop"));
        Thread.currentThread().join(); // until SIGTERM
        return 0;
    }

    /** Builds the predictor and starts serving; {@link #port()} then tells the port. */
    public void start() throws ReskernException, IOException {
        // flag values first, in flag words, before the model is loaded
        if (port < 0 || port > 65535) {
            throw new io.reskern.cli.UsageException("--port must be in [0, 65535] (0: any free port), got " + port);
        }
        if (httpThreads < 1 || httpThreads > MAX_HTTP_THREADS) {
            throw new io.reskern.cli.UsageException("--http-threads must be in [1, " + MAX_HTTP_THREADS + "], got " + httpThreads);
        }
        if (!(maxWaitMs >= 0) || Double.isInfinite(maxWaitMs)) {
            throw new io.reskern.cli.UsageException("--max-wait-ms must be finite and >= 0, got " + maxWaitMs);
        }
        if (maxBatch != null && maxBatch < 1) {
            throw new io.reskern.cli.UsageException("--max-batch must be >= 1, got " + maxBatch);
        }
        if (size != null && size < 1) {
            throw new io.reskern.cli.UsageException("--size must be >= 1, got " + size);
        }
        if (maxQueued != null && maxQueued < 1) {
            throw new io.reskern.cli.UsageException("--max-queued must be >= 1, got " + maxQueued);
        }
        Predictor.Builder b = Predictor.builder(model.builder())
                .optMaxWait(Duration.ofNanos((long) (maxWaitMs * 1e6)));
        if (maxBatch != null) {
            b.optMaxBatch(maxBatch);
        }
        if (size != null) {
            b.optInputSize(size, size);
        }
        if (maxQueued != null) {
            b.optMaxQueued(maxQueued);
        }
        if (labels != null) {
            b.optLabels(Labels.load(labels).asList());
        }
        predictor = b.build();
        stopping = false; // a service stopped before can start again
        try {
            listen();
        } catch (IOException | RuntimeException | Error e) { // e.g. the port is in use: do not keep the model loaded
            if (http != null) {
                http.shutdownNow();
            }
            predictor.close();
            server = null;
            throw e;
        }
    }

    private void listen() throws IOException {
        // The JDK server writes headers and body separately; with Nagle's algorithm on, every keep-alive response then
        // waits for the client's delayed ACK (~40 ms on Linux). TCP_NODELAY, read once when the server classes load.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        // slow clients: without these the JDK server waits for ever on a request that trickles in (see the class comment)
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", String.valueOf(DEFAULT_MAX_REQ_TIME_S));
        }
        if (System.getProperty("sun.net.httpserver.maxRspTime") == null) {
            System.setProperty("sun.net.httpserver.maxRspTime", String.valueOf(DEFAULT_MAX_RSP_TIME_S));
        }
        try {
            server = HttpServer.create(new InetSocketAddress(bind, port), 256);
        } catch (IOException | RuntimeException e) { // BindException ("Address already in use"), a bad --bind
            // start() closes the predictor
            throw new IllegalArgumentException("cannot listen on " + bind + ":" + port + ": " + e.getMessage(), e);
        }
        http = Executors.newFixedThreadPool(httpThreads, r -> {
            Thread t = new Thread(r, "reskern-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(http);
        // a context matches every path it prefixes ("/healthz", "/v1/classify2"): exact paths only, else 404
        server.createContext("/v1/predict", counted(exact("/v1/predict", "POST", this::predict)));
        server.createContext("/v1/classify", counted(exact("/v1/classify", "POST", this::classify)));
        server.createContext("/health", counted(exact("/health", "GET", ex -> reply(ex, 200, health()))));
        server.createContext("/stats", counted(exact("/stats", "GET",
                ex -> reply(ex, 200, GSON.toJsonTree(predictor.stats()).getAsJsonObject()))));
        server.createContext("/", counted(ex -> reply(ex, 404, error("no such endpoint: " + ex.getRequestURI().getPath()
                + " (POST /v1/classify, POST /v1/predict, GET /health, GET /stats)"))));
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public Predictor predictor() {
        return predictor;
    }

    /**
     * Answers new requests 503, lets the requests in flight finish (up to 30 s), closes the server, frees the model.
     * Idle, it returns at once: {@code server.stop(1)} alone waited its full second (JDK 17 and 25) even
     * with nothing in flight, and cut off a request still running after it.
     */
    public void stop() {
        if (server != null) {
            stopping = true;
            long deadline = System.nanoTime() + STOP_GRACE_NANOS;
            while (inFlight.get() > 0 && System.nanoTime() - deadline < 0) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            server.stop(0);
            http.shutdown();
            try {
                http.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            predictor.close();
            server = null;
        }
    }

    private JsonObject health() {
        JsonObject o = new JsonObject();
        o.addProperty("model", predictor.name());
        o.addProperty("devices", predictor.devices().toString());
        o.addProperty("precision", predictor.precision().toString());
        o.addProperty("input", "3x" + predictor.inputHeight() + "x" + predictor.inputWidth());
        o.addProperty("classes", predictor.classes());
        o.addProperty("maxBatch", predictor.maxBatch());
        return o;
    }

    private void predict(HttpExchange ex) throws IOException {
        try {
            int top = Math.max(1, Math.min(predictor.classes(), queryInt(ex.getRequestURI(), "top", 5)));
            long image = 12L * predictor.inputHeight() * predictor.inputWidth();
            byte[] body = readAtMost(ex.getRequestBody(), image * predictor.maxBatch() + 1, "max batch images");
            if (body.length == 0 || body.length % image != 0) {
                reply(ex, 400, error("body must be float32 NCHW images of 3x" + predictor.inputHeight() + "x"
                        + predictor.inputWidth() + " (" + image + " bytes each), got " + body.length + " bytes"));
                return;
            }
            int n = (int) (body.length / image);
            long t0 = System.nanoTime();
            Predictions p = predictor.predict(Input.nchw(ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN), n));
            JsonArray all = new JsonArray();
            for (int i = 0; i < n; i++) {
                all.add(topJson(p, i, top));
            }
            JsonObject out = new JsonObject();
            out.add("predictions", all);
            out.addProperty("ms", (System.nanoTime() - t0) / 1e6);
            reply(ex, 200, out);
        } catch (IllegalArgumentException e) {
            reply(ex, 400, error(e.getMessage()));
        } catch (IllegalStateException e) {
            reply(ex, 503, error(e.getMessage()));
        } catch (ReskernException e) {
            reply(ex, status(ex, e, 500), error(e.getMessage() + " [" + e.code() + "]"));
        }
    }

    private void classify(HttpExchange ex) throws IOException {
        try {
            int top = Math.max(1, Math.min(predictor.classes(), queryInt(ex.getRequestURI(), "top", 5)));
            byte[] body = readAtMost(ex.getRequestBody(), MAX_IMAGE_BYTES + 1, "the largest encoded image taken");
            long t0 = System.nanoTime();
            RgbImage img = DECODER.decode(body, "request body");
            Predictions p = predictor.predict(Input.image(img));
            JsonObject out = new JsonObject();
            out.add("top", topJson(p, 0, top));
            out.addProperty("ms", (System.nanoTime() - t0) / 1e6);
            reply(ex, 200, out);
        } catch (IllegalArgumentException e) {
            reply(ex, 400, error(e.getMessage()));
        } catch (IllegalStateException e) {
            reply(ex, 503, error(e.getMessage()));
        } catch (ReskernException e) {
            reply(ex, status(ex, e, e.code() == ReskernException.ErrorCode.BAD_FILE ? 400 : 500), error(e.getMessage() + " [" + e.code() + "]"));
        }
    }

    private static JsonArray topJson(Predictions p, int i, int top) {
        JsonArray row = new JsonArray();
        for (Predictions.Top t : p.topK(i, top)) {
            JsonObject o = new JsonObject();
            o.addProperty("index", t.index());
            if (t.label() != null) {
                o.addProperty("label", t.label());
            }
            o.addProperty("probability", t.probability());
            row.add(o);
        }
        return row;
    }

    private static int queryInt(URI uri, String key, int dflt) {
        String q = uri.getRawQuery();
        if (q != null) {
            for (String kv : q.split("&")) {
                if (kv.startsWith(key + "=")) {
                    try {
                        return Integer.parseInt(kv.substring(key.length() + 1));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException(key + " must be an integer, got '" + kv.substring(key.length() + 1) + "'");
                    }
                }
            }
        }
        return dflt;
    }

    /** Reads the body, refusing more than {@code limit - 1} bytes ({@code what}: the limit in words). */
    private static byte[] readAtMost(InputStream in, long limit, String what) throws IOException {
        byte[] b = in.readNBytes((int) Math.min(limit, Integer.MAX_VALUE - 8));
        if (b.length >= limit) {
            throw new IllegalArgumentException("request body larger than " + (limit - 1) + " bytes (" + what + ")");
        }
        return b;
    }

    /**
     * {@code handler} for exactly {@code path} and {@code method} (a GET endpoint answers HEAD too, headers only, as RFC
     * 9110 asks: load balancers probe {@code /health} that way); any longer path under the same context is 404, another
     * method 405 with the {@code Allow} header RFC 9110 requires.
     */
    private static com.sun.net.httpserver.HttpHandler exact(String path, String method,
            com.sun.net.httpserver.HttpHandler handler) {
        return ex -> {
            if (!path.equals(ex.getRequestURI().getPath())) {
                reply(ex, 404, error("no such endpoint: " + ex.getRequestURI().getPath()));
            } else if (!method.equals(ex.getRequestMethod())
                    && !(method.equals("GET") && ex.getRequestMethod().equals("HEAD"))) {
                ex.getResponseHeaders().set("Allow", method.equals("GET") ? "GET, HEAD" : method);
                reply(ex, 405, error("use " + method + " " + path));
            } else {
                handler.handle(ex);
            }
        };
    }

    /** Counts {@code handler}'s calls in flight (stop() waits for them); once stopping, answers 503. */
    private com.sun.net.httpserver.HttpHandler counted(com.sun.net.httpserver.HttpHandler handler) {
        return ex -> {
            inFlight.incrementAndGet();
            try {
                if (stopping) {
                    ex.getResponseHeaders().set("Connection", "close");
                    reply(ex, 503, error("the service is stopping"));
                } else {
                    handler.handle(ex);
                }
            } finally {
                inFlight.decrementAndGet();
            }
        };
    }

    private static JsonObject error(String msg) {
        JsonObject o = new JsonObject();
        o.addProperty("error", msg);
        return o;
    }

    /** A full predictor queue is 503 with {@code Retry-After: 1} (the client may retry); other failures {@code otherwise}. */
    private static int status(HttpExchange ex, ReskernException e, int otherwise) {
        if (e.code() == ReskernException.ErrorCode.OVERLOADED) {
            ex.getResponseHeaders().set("Retry-After", "1");
            return 503;
        }
        return otherwise;
    }

    private static void reply(HttpExchange ex, int status, JsonObject body) throws IOException {
        byte[] b = GSON.toJson(body).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        if (ex.getRequestMethod().equals("HEAD")) { // the GET reply's status and headers, no body
            ex.sendResponseHeaders(status, -1);
            ex.close();
            return;
        }
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    /** For tests and embedding: a service from command-line style arguments, not yet started. */
    public static ClassifyService parse(String... args) {
        ClassifyService s = new ClassifyService();
        new CommandLine(s).parseArgs(args);
        return s;
    }
}
