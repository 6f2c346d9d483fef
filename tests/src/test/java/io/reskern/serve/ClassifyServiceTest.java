package io.reskern.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.reskern.Model;
import io.reskern.examples.ClassifyService;
import java.net.URI;
import java.nio.file.Path;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The example HTTP service on the CPU: answers, batching across HTTP threads, bad requests, clean stop. */
class ClassifyServiceTest {
    static ClassifyService service;
    static HttpClient client = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        service = ClassifyService.parse("--model", "cifar_resnet20", "--device", "cpu", "--port", "0", "--max-batch", "8");
        service.start();
    }

    @AfterAll
    static void stop() {
        service.stop();
    }

    static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + service.port() + path);
    }

    static byte[] body(float[] x) {
        ByteBuffer b = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(x);
        return b.array();
    }

    static HttpResponse<String> post(String path, byte[] body) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void predictAnswersWhatTheModelSays() throws Exception {
        float[] x = PredictorTest.images(2, 42);
        float[] logits;
        try (Model m = Model.builder().model("cifar_resnet20").build()) {
            logits = m.predict(x, 2, 32, 32);
        }
        HttpResponse<String> r = post("/v1/predict?top=3", body(x));
        assertEquals(200, r.statusCode(), r.body());
        JsonArray preds = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonArray("predictions");
        assertEquals(2, preds.size());
        for (int i = 0; i < 2; i++) {
            int best = 0;
            for (int k = 1; k < 10; k++) {
                if (logits[i * 10 + k] > logits[i * 10 + best]) {
                    best = k;
                }
            }
            JsonArray top = preds.get(i).getAsJsonArray();
            assertEquals(3, top.size());
            assertEquals(best, top.get(0).getAsJsonObject().get("index").getAsInt());
        }
    }

    @Test
    void concurrentHttpRequestsShareBatches() throws Exception {
        byte[] b = body(PredictorTest.images(1, 1));
        long before = service.predictor().stats().batches();
        long imgsBefore = service.predictor().stats().images();
        List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            fs.add(client.sendAsync(HttpRequest.newBuilder(uri("/v1/predict")).POST(HttpRequest.BodyPublishers.ofByteArray(b))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : fs) {
            assertEquals(200, f.get().statusCode());
        }
        long batches = service.predictor().stats().batches() - before;
        long imgs = service.predictor().stats().images() - imgsBefore;
        assertEquals(64, imgs);
        assertTrue(batches < 64, "64 concurrent requests in " + batches + " forward passes");
    }

    @Test
    void classifyTakesAnEncodedImage() throws Exception {
        java.awt.image.BufferedImage bi = new java.awt.image.BufferedImage(45, 37, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.util.Random r = new java.util.Random(3);
        for (int y = 0; y < 37; y++) {
            for (int x = 0; x < 45; x++) {
                bi.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(bi, "png", png);
        HttpResponse<String> resp = post("/v1/classify?top=2", png.toByteArray());
        assertEquals(200, resp.statusCode(), resp.body());
        JsonArray top = JsonParser.parseString(resp.body()).getAsJsonObject().getAsJsonArray("top");
        assertEquals(2, top.size());
        io.reskern.image.RgbImage img = io.reskern.image.ImageDecoder.defaults().decode(png.toByteArray(), "png");
        Predictions want = service.predictor().predict(Input.image(img));
        assertEquals(want.argmax(0), top.get(0).getAsJsonObject().get("index").getAsInt());
        HttpResponse<String> bad = post("/v1/classify", "not an image".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("BAD_FILE"), bad.body());
    }

    @Test
    void badRequestsAreClearJsonErrors() throws Exception {
        HttpResponse<String> r = post("/v1/predict", new byte[100]);
        assertEquals(400, r.statusCode());
        JsonObject e = JsonParser.parseString(r.body()).getAsJsonObject();
        assertTrue(e.get("error").getAsString().contains("float32 NCHW images of 3x32x32"), r.body());
        float[] nan = PredictorTest.images(1, 2);
        nan[3] = Float.NaN;
        assertEquals(400, post("/v1/predict", body(nan)).statusCode());
        assertEquals(400, post("/v1/predict", new byte[12 * 32 * 32 * 9]).statusCode()); // above max batch
        assertEquals(400, post("/v1/predict?top=x", body(PredictorTest.images(1, 2))).statusCode());
        assertEquals(405, client.send(HttpRequest.newBuilder(uri("/v1/predict")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        HttpResponse<String> h = client.send(HttpRequest.newBuilder(uri("/health")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, h.statusCode());
        assertTrue(h.body().contains("cifar_resnet20"), h.body());
    }

    @Test
    void aPortInUseFailsStartAndFreesTheModel() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            ClassifyService s = ClassifyService.parse("--model", "cifar_resnet20", "--device", "cpu", "--port",
                    String.valueOf(taken.getLocalPort()));
            long bytes = org.bytedeco.javacpp.Pointer.totalBytes();
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, s::start);
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
            assertEquals(bytes, org.bytedeco.javacpp.Pointer.totalBytes(), "the predictor's native memory is freed");
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> s.predictor().predict(PredictorTest.images(1, 1), 1));
        }
    }

    static HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The JDK server matches a context as a path prefix: /healthz answered as /health, /v1/classifyx as /v1/classify. */
    @Test
    void onlyTheDocumentedPathsAnswer() throws Exception {
        for (String path : new String[] {"/healthz", "/health/x", "/statsx", "/", "/v1", "/v1/classify2", "/v1/predictions"}) {
            HttpResponse<String> r = get(path);
            assertEquals(404, r.statusCode(), path + ": " + r.body());
            assertTrue(JsonParser.parseString(r.body()).getAsJsonObject().get("error").getAsString().contains("no such endpoint"),
                    r.body());
        }
        assertEquals(200, get("/health").statusCode());
        assertEquals(200, get("/stats").statusCode());
        assertEquals(200, get("/health?x=1").statusCode());
    }

    /** An image body above the limit was refused as "(max batch images)", the /v1/predict wording. */
    @Test
    void anOversizedImageBodyNamesTheImageLimit() throws Exception {
        HttpResponse<String> r = post("/v1/classify", new byte[(32 << 20) + 1]);
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(r.body().contains("larger than 33554432 bytes (the largest encoded image taken)"), r.body());
        HttpResponse<String> p = post("/v1/predict", new byte[12 * 32 * 32 * 8 + 12 * 32 * 32]);
        assertTrue(p.body().contains("(max batch images)"), p.body());
    }

    /** Start-up errors (bad model, labels, a port in use) printed picocli's stack trace. */
    @Test
    void startUpErrorsAreOneLineNoStackTrace() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("svc");
        java.nio.file.Path labels = java.nio.file.Files.writeString(dir.resolve("labels.json"), "[\"a\", ");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            String[][] cases = {
                {"--model", "nope", "--port", "0"},
                {"--model", "cifar_resnet20", "--device", "cpu", "--labels", labels.toString(), "--port", "0"},
                {"--model", "cifar_resnet20", "--device", "cpu", "--port", Integer.toString(taken.getLocalPort())},
                {"--model", "cifar_resnet20", "--bogus"},
            };
            String[] expect = {"unknown model 'nope'", "malformed JSON labels", "cannot listen on 127.0.0.1:"
                    + taken.getLocalPort(), "Unknown option: '--bogus'"};
            for (int i = 0; i < cases.length; i++) {
                java.io.StringWriter err = new java.io.StringWriter();
                picocli.CommandLine cl = ClassifyService.commandLine();
                cl.setErr(new java.io.PrintWriter(err, true));
                int code = cl.execute(cases[i]);
                assertEquals(2, code, String.join(" ", cases[i]) + ": " + err);
                assertTrue(err.toString().startsWith("reskern-service: error: "), err.toString());
                assertTrue(err.toString().contains(expect[i]), err.toString());
                assertTrue(!err.toString().contains("\tat "), "no stack trace: " + err);
            }
        }
    }

    @Test
    void versionIsPrinted() {
        java.io.StringWriter out = new java.io.StringWriter();
        picocli.CommandLine cl = ClassifyService.commandLine();
        cl.setOut(new java.io.PrintWriter(out, true));
        assertEquals(0, cl.execute("--version"));
        assertTrue(out.toString().startsWith("reskern "), out.toString());
    }

    /** --http-threads 0 said only "IllegalArgumentException" (after loading the model); --max-wait-ms NaN was taken as 0. */
    @Test
    void badFlagValuesAreNamedBeforeTheModelLoads() {
        String[][] cases = {
            {"--http-threads", "0"}, {"--http-threads", "1025"}, {"--max-wait-ms", "NaN"}, {"--max-wait-ms", "-1"}, {"--port", "70000"},
            {"--max-batch", "0"}, {"--size", "0"}, {"--max-queued", "0"},
        };
        for (String[] c : cases) {
            java.io.StringWriter err = new java.io.StringWriter();
            picocli.CommandLine cl = ClassifyService.commandLine();
            cl.setErr(new java.io.PrintWriter(err, true));
            // an unknown model name too: the flag must be refused before the model is looked at
            int code = cl.execute("--model", "not-a-model", c[0], c[1]);
            assertEquals(2, code, err.toString());
            assertTrue(err.toString().startsWith("reskern-service: error: " + c[0] + " must be"), err.toString());
            assertTrue(err.toString().contains("Try 'reskern-service --help'"), err.toString());
        }
    }

    /** --max-queued: requests above the limit get 503 with Retry-After at once instead of waiting. */
    @Test
    void aFullQueueIs503WithRetryAfter() throws Exception {
        ClassifyService s = ClassifyService.parse("--model", "cifar_resnet20", "--device", "cpu", "--port", "0",
                "--max-batch", "1", "--max-queued", "1", "--size", "160", "--http-threads", "16");
        s.start();
        try {
            float[] x = new float[3 * 160 * 160];
            java.util.Random r = new java.util.Random(2);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            byte[] b = body(x);
            URI u = URI.create("http://127.0.0.1:" + s.port() + "/v1/predict");
            java.util.List<CompletableFuture<HttpResponse<String>>> fs = new java.util.ArrayList<>();
            for (int i = 0; i < 16; i++) {
                fs.add(client.sendAsync(HttpRequest.newBuilder(u).POST(HttpRequest.BodyPublishers.ofByteArray(b)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            int ok = 0;
            int busy = 0;
            for (CompletableFuture<HttpResponse<String>> f : fs) {
                HttpResponse<String> resp = f.get(2, java.util.concurrent.TimeUnit.MINUTES);
                if (resp.statusCode() == 503) {
                    busy++;
                    assertEquals("1", resp.headers().firstValue("Retry-After").orElse(null), resp.headers().toString());
                    assertTrue(resp.body().contains("OVERLOADED"), resp.body());
                } else {
                    assertEquals(200, resp.statusCode(), resp.body());
                    ok++;
                }
            }
            assertTrue(ok >= 1 && busy >= 1, ok + " answered, " + busy + " refused");
            JsonObject st = JsonParser.parseString(client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + s.port() + "/stats")).build(), HttpResponse.BodyHandlers.ofString()).body())
                    .getAsJsonObject();
            assertEquals(busy, st.get("rejectedRequests").getAsInt(), st.toString());
        } finally {
            s.stop();
        }
    }

    /** 405 came without the Allow header RFC 9110 requires; GET-only endpoints answered any method. */
    @Test
    void aWrongMethodIs405WithAllow() throws Exception {
        HttpResponse<String> g = get("/v1/predict");
        assertEquals(405, g.statusCode());
        assertEquals("POST", g.headers().firstValue("Allow").orElse(null));
        HttpResponse<String> c = client.send(HttpRequest.newBuilder(uri("/v1/classify")).PUT(
                HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, c.statusCode());
        assertEquals("POST", c.headers().firstValue("Allow").orElse(null));
        for (String path : new String[] {"/health", "/stats"}) {
            HttpResponse<String> p = post(path, new byte[0]);
            assertEquals(405, p.statusCode(), path);
            assertEquals("GET, HEAD", p.headers().firstValue("Allow").orElse(null), path);
            assertTrue(p.body().contains("use GET " + path), p.body());
            // HEAD (a load balancer's health probe) was 405: now the GET reply's status and headers, no body
            HttpResponse<String> h = client.send(HttpRequest.newBuilder(uri(path)).method("HEAD",
                    HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, h.statusCode(), path);
            assertEquals("application/json", h.headers().firstValue("Content-Type").orElse(null), path);
            assertEquals("", h.body(), path);
        }
        HttpResponse<String> hp = client.send(HttpRequest.newBuilder(uri("/v1/predict")).method("HEAD",
                HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, hp.statusCode());
        assertEquals("POST", hp.headers().firstValue("Allow").orElse(null));
    }

    /**
     * An idle stop() took over a second (server.stop(1) waits its full delay); now it is quick, and a request in flight
     * (its body still arriving) still gets its answer before the server closes.
     */
    @Test
    void stopIsQuickWhenIdleAndLetsARequestInFlightFinish() throws Exception {
        ClassifyService idle = ClassifyService.parse("--model", "cifar_resnet20", "--device", "cpu", "--port", "0");
        idle.start();
        long t0 = System.nanoTime();
        idle.stop();
        double ms = (System.nanoTime() - t0) / 1e6;
        assertTrue(ms < 500, "idle stop took " + ms + " ms");
        idle.start(); // and it can start again, answering (not 503 "stopping")
        try {
            assertEquals(200, client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + idle.port() + "/health"))
                    .GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        } finally {
            idle.stop();
        }

        ClassifyService s = ClassifyService.parse("--model", "cifar_resnet20", "--device", "cpu", "--port", "0");
        s.start();
        byte[] image = body(PredictorTest.images(1, 4));
        try (java.net.Socket sock = new java.net.Socket("127.0.0.1", s.port())) {
            java.io.OutputStream o = sock.getOutputStream();
            o.write(("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: " + image.length + "\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            o.write(image, 0, image.length / 2);
            o.flush();
            Thread.sleep(300); // the handler is running, reading the body
            CompletableFuture<Void> stopped = CompletableFuture.runAsync(s::stop);
            Thread.sleep(300);
            assertTrue(!stopped.isDone(), "stop() waits for the request in flight");
            o.write(image, image.length / 2, image.length - image.length / 2);
            o.flush();
            sock.setSoTimeout(10_000);
            String status = new java.io.BufferedReader(new java.io.InputStreamReader(sock.getInputStream(),
                    java.nio.charset.StandardCharsets.US_ASCII)).readLine();
            assertEquals("HTTP/1.1 200 OK", status);
            stopped.get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /**
     * A client trickling its request in held an HTTP thread for ever (the JDK server has no read timeout by default):
     * the service sets sun.net.httpserver.maxReqTime (60 s unless given); here, in a separate JVM, 1 s.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void aSlowClientIsCutOffAfterMaxReqTime() throws Exception {
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null
                || System.getProperty("sun.net.httpserver.maxReqTime").equals("60")) {
            assertEquals("60", System.getProperty("sun.net.httpserver.maxReqTime"), "the default the service sets");
            assertEquals("120", System.getProperty("sun.net.httpserver.maxRspTime"));
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dsun.net.httpserver.maxReqTime=1",
                "--enable-native-access=ALL-UNNAMED"));
        if (System.getProperty("org.bytedeco.javacpp.cachedir") != null) {
            cmd.add("-Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir"));
        }
        cmd.addAll(List.of(ClassifyService.class.getName(), "--model", "cifar_resnet20", "--device", "cpu", "--port", "0"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
            StringBuilder said = new StringBuilder();
            String line;
            while ((line = out.readLine()) != null && !line.contains("listening on http://127.0.0.1:")) {
                said.append(line).append('\n'); // the log lines before it
            }
            assertTrue(line != null, "the service did not start: " + said);
            int port = Integer.parseInt(line.replaceAll(".*127\\.0\\.0\\.1:(\\d+).*", "$1"));
            try (java.net.Socket sock = new java.net.Socket("127.0.0.1", port)) {
                sock.getOutputStream().write("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab"
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                sock.setSoTimeout(15_000);
                long t0 = System.nanoTime();
                int b = sock.getInputStream().read();
                double s = (System.nanoTime() - t0) / 1e9;
                assertEquals(-1, b, "the connection is closed, no answer");
                assertTrue(s < 10, "closed after " + s + " s");
            }
        } finally {
            p.destroy();
            p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS);
            p.destroyForcibly();
        }
    }
}
