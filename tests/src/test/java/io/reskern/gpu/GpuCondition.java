package io.reskern.gpu;

import io.reskern.Devices;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Disables GPU test classes (reported as skipped, with the reason) when no GPU is usable — unless
 * {@code -Dreskern.requireGpu=true} (the GPU bundle), where they run and fail loudly instead.
 */
public final class GpuCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Devices.CudaProbe p = Devices.cuda();
        if (p.usable()) {
            return ConditionEvaluationResult.enabled("GPU: " + p.gpus().get(0));
        }
        if (Boolean.getBoolean("reskern.requireGpu")) {
            return ConditionEvaluationResult.enabled("reskern.requireGpu=true: running so that the missing GPU fails");
        }
        return ConditionEvaluationResult.disabled("no usable GPU: " + p.reason());
    }
}
