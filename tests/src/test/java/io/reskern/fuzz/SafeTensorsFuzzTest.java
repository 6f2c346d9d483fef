package io.reskern.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Jazzer fuzz test of the safetensors reader ({@code SafeTensors}, {@code SafeTensorsSource}) and the weight checks of
 * {@code FoldedWeights} against a small graph. Seeds: {@code SafeTensorsFuzzTestInputs/fuzzSafeTensors/}. A finding is
 * any outcome other than success or {@code ReskernException}, or an input that takes longer than the timeout.
 */
class SafeTensorsFuzzTest {
    @FuzzTest(maxDuration = "60s")
    @Timeout(value = 60, unit = TimeUnit.SECONDS) // per input: libFuzzer -timeout when fuzzing, JUnit when replaying
    void fuzzSafeTensors(byte[] data) throws IOException {
        FuzzTargets.safetensors(data);
    }
}
