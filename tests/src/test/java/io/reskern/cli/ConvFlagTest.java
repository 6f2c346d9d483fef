package io.reskern.cli;

import static io.reskern.cli.CliTest.assertCleanError;
import static io.reskern.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ConvPolicy;
import io.reskern.Device;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code --conv own|cudnn|best} on run / bench / compare: parsing, defaults and errors. */
class ConvFlagTest {
    @Test
    void badValueIsOneCleanError() {
        assertCleanError(cli("bench", "--model", "cifar_resnet20", "--batch", "1", "--device", "cpu", "--conv", "fastest"),
                "unknown conv implementation 'fastest': use own, cudnn or best");
        assertCleanError(cli("compare", "--models", "cifar_resnet20", "--device", "cpu", "--conv", "own,nope", "--no-timing"),
                "unknown conv implementation 'nope'");
    }

    @Test
    void cpuRunsAcceptThePolicyAndIgnoreIt() {
        CliTest.Result r = cli("bench", "--model", "cifar_resnet20", "--batch", "1", "--device", "cpu", "--conv", "best",
                "--no-progress", "--iters", "2", "--seconds", "0", "--warmup", "0", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"median_ms\""), r.out());
    }

    @Test
    void compareDefaultsAndCpuLimits() {
        assertEquals(List.of(ConvPolicy.OWN), CompareCommand.policies(null, Device.CPU));
        assertEquals(List.of(ConvPolicy.OWN, ConvPolicy.CUDNN, ConvPolicy.BEST), CompareCommand.policies(null, Device.cuda(0)));
        assertEquals(List.of(ConvPolicy.BEST, ConvPolicy.OWN), CompareCommand.policies(List.of("best", "own", "best"), Device.cuda(0)));
        assertThrows(IllegalArgumentException.class, () -> CompareCommand.policies(List.of("cudnn"), Device.CPU));
        assertCleanError(cli("compare", "--models", "cifar_resnet20", "--device", "cpu", "--conv", "cudnn", "--no-timing"),
                "need a CUDA device");
        CliTest.Result ok = cli("compare", "--models", "cifar_resnet20", "--device", "cpu", "--conv", "own", "--no-timing",
                "--chart", System.getProperty("java.io.tmpdir") + "/reskern-conv-flag-test.png");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains(" conv "), ok.out());
    }

    @Test
    void helpListsTheFlag() {
        CliTest.Result h = cli("bench", "--help");
        assertTrue(h.out().contains("--conv") && h.out().contains("own|cudnn|best"), h.out());
    }
}
