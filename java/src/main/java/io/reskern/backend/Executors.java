package io.reskern.backend;

import io.reskern.ConvPolicy;
import io.reskern.Device;
import io.reskern.Devices;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import io.reskern.backend.conv.TuneListener;
import io.reskern.graph.Graph;
import io.reskern.nativelib.CpuOps;
import io.reskern.weights.FoldedWeights;

/** Loads weights onto a device (a {@link DeviceModel}), with clear errors for what a device cannot do. */
public final class Executors {
    private Executors() {
    }

    /**
     * Whether the CPU backend can run {@code precision}: fp32 always, bf16 where the CPU has AVX512_BF16 and the AVX-512
     * kernels are in use (the convs' operands rounded to bfloat16, sums and everything else in fp32); fp16 and tf32
     * never (GPU only).
     *
     * @throws ReskernException {@code UNSUPPORTED}, saying why
     */
    public static void checkCpuPrecision(Precision precision) throws ReskernException {
        if (precision == Precision.FP32) {
            return;
        }
        if (precision == Precision.BF16) {
            if (CpuOps.bf16Supported() == 1) {
                return;
            }
            String isa = CpuOps.kernelIsa();
            throw new ReskernException(ErrorCode.UNSUPPORTED, "bf16 on the CPU needs AVX512_BF16 and the AVX-512 kernels"
                    + " (AMD Zen 4 or later, Intel Cooper Lake, Sapphire Rapids or later); this CPU runs the " + isa
                    + " kernels" + ("avx512".equals(isa) ? " without AVX512_BF16" : "") + ": use fp32, or --device cuda");
        }
        throw new ReskernException(ErrorCode.UNSUPPORTED, "the CPU backend runs fp32 (and bf16 on AVX512_BF16 CPUs); "
                + precision + " needs --device cuda");
    }

    public static DeviceModel load(Graph graph, FoldedWeights weights, Device device, Precision precision)
            throws ReskernException {
        return load(graph, weights, device, precision, ConvPolicy.OWN, TuneListener.NONE);
    }

    /**
     * @param conv     which conv implementation a CUDA executor uses ({@link ConvPolicy}; the CPU ignores it)
     * @param listener progress of the per-layer tuning ({@code cudnn}/{@code best}); null = none
     */
    public static DeviceModel load(Graph graph, FoldedWeights weights, Device device, Precision precision, ConvPolicy conv,
                                   TuneListener listener) throws ReskernException {
        if (!device.isCuda()) {
            checkCpuPrecision(precision);
            return new CpuDeviceModel(graph, weights, precision);
        }
        Devices.CudaProbe probe = Devices.cuda();
        if (!probe.usable()) {
            throw new ReskernException(ErrorCode.NO_DEVICE, "cannot use " + device + ": " + probe.reason());
        }
        if (device.index() >= probe.gpus().size()) {
            throw new ReskernException(ErrorCode.NO_DEVICE, "cannot use " + device + ": only " + probe.gpus().size()
                    + " CUDA device(s) present");
        }
        Devices.GpuInfo gpu = probe.gpus().stream().filter(g -> g.index() == device.index()).findFirst()
                .orElse(probe.gpus().get(device.index()));
        if (!gpu.supported()) { // the library has no code for it: every kernel launch would fail
            throw new ReskernException(ErrorCode.NO_DEVICE, "cannot use " + device + ": " + gpu.unsupportedReason());
        }
        return CudaExecutorFactory.load(graph, weights, device, precision, conv, listener);
    }
}
