/**
 * Images in: JPEG/PNG decoding ({@link io.reskern.image.ImageDecoder} → {@link io.reskern.image.RgbImage}),
 * torchvision-style preprocessing as data ({@link io.reskern.image.Preprocess}: {@code Resize(int)},
 * {@code CenterCrop}, {@code ToTensor}, {@code Normalize}) compiled into resampling taps
 * ({@link io.reskern.image.ResamplePlan}, {@link io.reskern.image.Taps}: torch's antialiased bilinear filter) that one
 * native op applies per image — {@code rk_cpu_resample_normalize_u8} ({@link io.reskern.image.CpuImages}) or
 * {@code rk_cuda_resample_normalize_u8} ({@link io.reskern.image.CudaImages}) — writing straight into a slot of a batch
 * input buffer; and class labels ({@link io.reskern.image.Labels}).
 *
 * <p>Threading: every class here is immutable or stateless and may be used from any thread. {@code CpuImages} stages
 * each call's pixels and taps in native memory of its own; {@code CudaImages} works on the device memory and stream
 * the caller passes (one stream per caller thread, as an execution context owns).
 */
package io.reskern.image;
