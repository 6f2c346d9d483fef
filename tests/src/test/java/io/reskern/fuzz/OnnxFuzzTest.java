package io.reskern.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Jazzer fuzz test of the ONNX importer (protobuf parse, graph checks, fusion, constant folding, tensor decoding,
 * external data). In a normal build it runs the seed corpus in {@code OnnxFuzzTestInputs/fuzzImport/} (regression
 * mode); {@code scripts/fuzz.sh} runs it in fuzzing mode for a bounded time. A finding is any outcome other than
 * success or {@code ReskernException}, or an input that takes longer than the timeout.
 */
class OnnxFuzzTest {
    @FuzzTest(maxDuration = "60s")
    @Timeout(value = 60, unit = TimeUnit.SECONDS) // per input: libFuzzer -timeout when fuzzing, JUnit when replaying
    void fuzzImport(byte[] data) {
        FuzzTargets.onnx(data);
    }
}
