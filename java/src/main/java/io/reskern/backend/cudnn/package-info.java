/**
 * cuDNN and cuBLAS through the JavaCPP CUDA presets ({@code org.bytedeco:cuda:13.3-9.25-1.5.14}): the baseline
 * every GPU benchmark compares with, a fallback, and a candidate of the per-layer choice
 * ({@link io.reskern.ConvPolicy}).
 *
 * <h2>Loading order and safety</h2>
 * Nothing here is touched unless a model asks for {@code cudnn} or {@code best} <em>and</em> reskern's own CUDA probe
 * ({@code libreskern_cuda.so}, static cudart) found a usable GPU. Then {@link io.reskern.backend.cudnn.Cudnn#status()}
 * loads the presets once per process, catching {@code ClassNotFoundException} / {@code UnsatisfiedLinkError} /
 * {@code NoClassDefFoundError} / {@code ExceptionInInitializerError}; any failure is one log line and reskern's own
 * kernels run. After loading, {@code cudnnGetVersion()} (must be 9.x, ≥ 9.0.0) and {@code cublasGetProperty} (13.x)
 * are checked before anything else is called.
 *
 * <h2>What the presets link (inspected with readelf -d / nm -D --undefined-only on the 1.5.14 JNI jar)</h2>
 * <ul>
 *   <li>Loading {@code org.bytedeco.cuda.global.cudnn} loads its inherited presets first: {@code global.cudart}
 *       ({@code libjnicudart.so}: NEEDED {@code libcuda.so.1}, {@code libcudart.so.13}; 832 undefined CUDA symbols) and
 *       {@code global.cublas} ({@code libjnicublas.so}: {@code libcublas.so.13}, {@code libcublasLt.so.13}), then
 *       {@code libjnicudnn.so} (NEEDED {@code libcudnn_cnn/adv/ops/graph.so.9}, symbols versioned per library, e.g.
 *       {@code cudnnConvolutionBiasActivationForward@libcudnn_cnn.so.9}). {@code libjnicudnn.so} and
 *       {@code libjnicublas.so} reference <b>no</b> cudart symbol; only {@code libjnicudart.so} does. So without a driver
 *       the first load throws a catchable {@code UnsatisfiedLinkError} (libcuda.so.1 missing) — unit-tested on CI.</li>
 *   <li>{@code libjnicudart.so} was built against CUDA 13.3. Against the 13.0 {@code libcudart.so.13} of torch's wheel
 *       (the GPU host), 27 of its runtime symbols are missing: {@code cudaDevResourceGenerateDesc,
 *       cudaDevSmResourceSplit, cudaDevSmResourceSplitByCount, cudaDeviceGetDevResource, cudaDeviceGetExecutionCtx,
 *       cudaExecutionCtx{Destroy,GetDevResource,GetDevice,GetId,RecordEvent,StreamCreate,Synchronize,WaitEvent},
 *       cudaFuncGetParamCount, cudaGraphConditionalHandleCreate_v2, cudaGraphExecGetId, cudaGraphGetId,
 *       cudaGraphNodeGet{ContainingGraph,LocalId,Params,ToolsId}, cudaGreenCtxCreate, cudaLaunchHostFunc_v2,
 *       cudaMemcpy3DWithAttributesAsync, cudaMemcpyWithAttributesAsync, cudaStreamBeginRecaptureToGraph,
 *       cudaStreamGetDevResource} (and driver-API symbols newer than driver 580). JNI libraries are bound lazily, so the
 *       library loads and only a <em>call</em> of such a function kills the JVM ({@code symbol lookup error}). (With
 *       {@code LD_BIND_NOW=1} the load itself fails — catchably.)</li>
 * </ul>
 * <b>Decision: reskern calls no function of the cudart presets at all</b> (streams, memory, events, graphs and the
 * device all stay with {@code libreskern_cuda}), so the host's {@code libcudart.so.13} 13.0 suffices just to load, and
 * {@code libcudart.so.13} 13.3 from {@code org.bytedeco:cuda-redist} (343 MB download) is <b>not</b> shipped. The
 * cuDNN / cuBLAS functions called exist in every cuDNN 9.x / cuBLAS 13.x: {@code cudnnGetVersion,
 * cudnnGetCudartVersion, cudnnGetErrorString, cudnnCreate/Destroy, cudnnSetStream, cudnn{Create,Set,Destroy}
 * {Tensor4d,Filter4d,Convolution2d,Activation}Descriptor, cudnnSetConvolutionGroupCount, cudnnSetConvolutionMathType,
 * cudnnGetConvolutionForwardAlgorithm_v7, cudnnGetConvolutionForwardWorkspaceSize,
 * cudnnConvolutionBiasActivationForward, cudnnConvolutionForward, cudnnBatchNormalizationForwardInference,
 * cudnnAddTensor, cudnnActivationForward; cublasGetProperty, cublasCreate_v2/Destroy_v2, cublasSetStream_v2,
 * cublasSetMathMode, cublasSetWorkspace_v2, cublasSgemm_v2, cublasSger_v2} (+ {@code cublasGemmEx} in the
 * benchmarks' roofline).
 *
 * <h2>Sharing pointers and streams with reskern's static runtime (NOT yet verified on a GPU)</h2>
 * cuDNN and cuBLAS link their own CUDA runtime statically; reskern's library links another. All of them use the
 * device's primary context, and a {@code cudaStream_t} is a driver {@code CUstream}, so device pointers from
 * {@code rk_cuda_malloc} and reskern's stream are passed straight to cuDNN/cuBLAS ({@code cudnnSetStream}) — what
 * PyTorch does with its own static runtime. Events of reskern's library time cuDNN calls on the same stream.
 *
 * <h2>Algorithm choice</h2>
 * Legacy API, not the graph API: {@code cudnnConvolutionBiasActivationForward} expresses exactly reskern's epilogue
 * (folded BN as bias, residual as {@code z}, ReLU), is graph-capturable with a fixed algorithm and workspace, and its
 * candidates come from {@code cudnnGetConvolutionForwardAlgorithm_v7} (every algorithm with status and workspace, no
 * launches, no allocation). {@code cudnnFindConvolutionForwardAlgorithmEx} is not used: it times only the plain
 * convolution, not the fused call, on its own schedule; reskern times each candidate's real fused call itself on the
 * plan's buffers and stream ({@link io.reskern.backend.conv.GpuTimer}). The graph API could fuse the v2 dual output
 * too; not done (its runtime-fusion engines vary by version; the second output is one extra reskern launch).
 *
 * <p>Thread safety: a {@link io.reskern.backend.cudnn.CudnnContext} (handles bound to one stream) belongs to one
 * execution context; {@link io.reskern.backend.cudnn.CudnnConv.Weights} can be shared (read-only on the device).
 */
package io.reskern.backend.cudnn;
