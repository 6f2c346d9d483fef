/**
 * Serving: a thread-safe, batching {@link io.reskern.serve.Predictor} for Java services.
 *
 * <h2>Use</h2>
 * <pre>{@code
 * Predictor p = Predictor.builder(Model.builder().model("resnet50").optWeights(path).optDevice(Device.parse("auto")))
 *         .optMaxBatch(32).optMaxWait(Duration.ofMillis(2)).build();       // once, at service start
 * Predictions r = p.predict(Input.nchw(floats, 1));                      // from any request thread
 * List<Predictions.Top> top5 = r.topK(0, 5);
 * p.close();                                                              // at shutdown: drains, then frees
 * }</pre>
 *
 * <h2>Threading</h2>
 * Any number of threads may call {@code predict}/{@code predictAsync}. One dispatcher thread forms batches; each
 * execution context has one worker thread. All of them are daemon threads in one thread group per predictor.
 * Completion callbacks attached with non-async {@link java.util.concurrent.CompletableFuture} methods may run on a
 * worker thread: keep them short; {@link io.reskern.serve.Predictor#close()} and the blocking {@code predict} refuse to
 * run there ({@link java.lang.IllegalStateException}: they would wait for themselves), {@code predictAsync} is fine.
 * Threads a callback starts are not reskern threads. An input is read when its batch is staged, not copied at the
 * call: leave it unchanged until its future completes.
 *
 * <h2>Memory</h2>
 * Weights are loaded once per device and shared by that device's contexts; every context reserves its arena and
 * staging buffers for {@code maxBatch} images at build time. After build, no native or device memory is allocated
 * per request (only the Java result arrays) — except the staging of {@link io.reskern.serve.Input#images decoded
 * images}, which grows to the largest image (on a GPU: batch of images) seen and then stays — so memory stays flat
 * under load (recorded by
 * {@code benchmarks/src/main/java/io/reskern/bench/serve/SoakRun.java}).
 *
 * <h2>Errors</h2>
 * Wrong size, too many images, non-finite values, a buffer on another device: {@link java.lang.IllegalArgumentException}
 * at the call. Closed: {@link java.lang.IllegalStateException}. Device or native failures (a CUDA error, out of memory
 * at build): {@link io.reskern.ReskernException} with its {@link io.reskern.ReskernException.ErrorCode}. No driver, an
 * old driver, no GPU or only GPUs older than compute capability 8.0: {@code auto} runs on the CPU and logs one line;
 * an explicit {@code cuda:i} is {@code NO_DEVICE}.
 */
package io.reskern.serve;
