/**
 * reskern: ResNet inference for Java on hand-written CUDA and CPU kernels.
 *
 * <h2>Use</h2>
 * {@link io.reskern.Model#builder()} → {@link io.reskern.Model#predict}. Models are named in {@link io.reskern.ResNets}
 * (variants as data: {@link io.reskern.ResNetSpec}); weights come from safetensors checkpoints with torchvision, timm or
 * CIFAR names, or from a seeded Kaiming initialisation. {@code Model.builder().onnx(path)} imports an ONNX ResNet
 * instead (graph and weights from the file; {@link io.reskern.onnx}).
 *
 * <h2>Pipeline</h2>
 * spec → {@link io.reskern.graph.Graph} (fused ops: conv + folded BN + residual + ReLU) → {@link io.reskern.graph.Plan}
 * (shapes and liveness-shared activation buffers for one input size) → {@link io.reskern.backend.Executor} on a device.
 *
 * <h2>Threading</h2>
 * A {@link io.reskern.Model} is safe to call from many threads; its calls are serialised on one execution context.
 * For concurrent serving use {@link io.reskern.serve.Predictor} (several contexts over one copy of the weights per
 * device, dynamic batching; see {@link io.reskern.serve}). CPU
 * kernels split each op over a process-wide work-sharing thread pool ({@link io.reskern.Devices#setCpuThreads} sets how
 * many threads an op uses, for calls from any thread). On a GPU, a call on your thread (building or closing a
 * {@code Model} or {@code Predictor}, {@code Model.predict}, {@code DeviceBuffer}) leaves that thread with the CUDA
 * context it had — the same device, or none if it had none — so reskern's device selection never moves a service's
 * other CUDA code to another GPU ({@code PredictorGpuTest.callerThreadKeepsItsCudaContext}).
 *
 * <h2>Lifetime</h2>
 * Models own native (and device) memory: close them (try-with-resources). {@code close()} waits for a call in flight;
 * calls after close throw {@link java.lang.IllegalStateException}. Failures of the environment or data throw the checked
 * {@link io.reskern.ReskernException} with an {@link io.reskern.ReskernException.ErrorCode}; misuse throws unchecked
 * exceptions. No native error exits the JVM: every native function returns a status.
 *
 * <h2>Native loading order</h2>
 * {@code libreskern_cpu} loads (through JavaCPP) the first time a CPU op or {@link io.reskern.Devices} is used.
 * {@code libreskern_cuda} is loaded only by {@link io.reskern.Devices#cuda()} — it links the CUDA runtime statically,
 * so it loads on machines with no driver and then reports "no device"; a build without nvcc has no CUDA library and
 * the probe says so. {@code --device auto} picks the first usable GPU, else the CPU.
 *
 * <h2>Java versions</h2>
 * Java 17 or later (CI runs the tests on 17 and on 25). JavaCPP loads the native libraries with
 * {@code System.load}, which JDK 22+ reports as a restricted method: start an application that embeds reskern with
 * {@code --enable-native-access=ALL-UNNAMED} (or its module name) to keep the JVM from warning; the executable jars
 * ({@code bin/reskern}'s CLI jar, the example service, the benchmarks) say so in their manifests. ONNX import and CPU
 * inference also run with {@code --sun-misc-unsafe-memory-access=deny}, the coming JDK default (checked in CI:
 * {@code scripts/jdk-latest-check.sh}; protobuf-java before 4.36 failed there).
 */
package io.reskern;
