/**
 * Which implementation runs each fused conv step of a CUDA plan, and how that choice is made and remembered.
 * <ul>
 *   <li>{@link io.reskern.backend.conv.ConvImpl} / {@link io.reskern.backend.conv.HeadImpl}: the hook
 *       {@code CudaExecutor}'s conv and head steps call ({@link io.reskern.backend.conv.OwnConv},
 *       {@link io.reskern.backend.conv.OwnHead}, or cuDNN / cuBLAS from {@code io.reskern.backend.cudnn});</li>
 *   <li>{@link io.reskern.backend.conv.ConvSelector}: per execution context; binds every step of a plan under a
 *       {@link io.reskern.ConvPolicy} (see its class comment for the exact calls the executor makes);</li>
 *   <li>{@link io.reskern.backend.conv.ConvTuner} + {@link io.reskern.backend.conv.GpuTimer}: times candidates
 *       (warm-up, then the median of 5 samples of back-to-back launches, CUDA events of reskern's library);</li>
 *   <li>{@link io.reskern.backend.conv.Chooser}: the rule (own wins ties within noise);</li>
 *   <li>{@link io.reskern.backend.conv.TuneCache}: the persisted measurements, keyed by
 *       {@link io.reskern.backend.conv.TuneEnv} (GPU, versions, kernel-library hash) + precision +
 *       {@link io.reskern.backend.conv.ConvProblem}.</li>
 * </ul>
 * Everything but {@code ConvSelector}, {@code OwnConv}/{@code OwnHead}, {@code GpuTimer} and {@code DeviceMem} is pure
 * Java and unit-tested without a GPU. Tuning happens once per plan size on first use (the first {@code predict} of a
 * size), before CUDA-graph capture, on the plan's own buffers (filled with random values first).
 */
package io.reskern.backend.conv;
