package io.reskern.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.reskern.Model;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * On the CPU an image's logits do not depend on which batch it runs in or where in it: every op is per image and
 * every reduction runs in a fixed order. Dynamic batching in the serving {@code Predictor} relies on this for its
 * "bit-identical to a single-threaded run" guarantee.
 */
class BatchInvarianceTest {
    @ParameterizedTest
    @ValueSource(strings = {"cifar_resnet20", "resnet18", "resnet50d", "resnetv2_50", "resnext50_32x4d"})
    void logitsOfAnImageAreTheSameAloneAndInsideABatch(String name) throws Exception {
        int size = name.startsWith("cifar") ? 32 : 64;
        int n = 5;
        try (Model m = Model.builder().model(name).optClasses(10).build()) {
            float[] batch = ModelTest.input(n, size, size, 7);
            float[] all = m.predict(batch, n, size, size);
            int img = 3 * size * size;
            for (int i = 0; i < n; i++) {
                float[] one = m.predict(Arrays.copyOfRange(batch, i * img, (i + 1) * img), 1, size, size);
                assertArrayEquals(one, Arrays.copyOfRange(all, i * 10, (i + 1) * 10), name + " image " + i);
            }
        }
    }

    @Test
    void aNaNImageDoesNotLeakIntoTheOthersOfItsBatch() throws Exception {
        try (Model m = Model.builder().model("cifar_resnet20").build()) {
            float[] batch = ModelTest.input(3, 32, 32, 9);
            float[] clean = m.predict(batch, 3, 32, 32);
            batch[3 * 32 * 32 + 17] = Float.NaN; // image 1
            float[] dirty = m.predict(batch, 3, 32, 32);
            assertArrayEquals(Arrays.copyOfRange(clean, 0, 10), Arrays.copyOfRange(dirty, 0, 10));
            assertArrayEquals(Arrays.copyOfRange(clean, 20, 30), Arrays.copyOfRange(dirty, 20, 30));
            org.junit.jupiter.api.Assertions.assertTrue(Float.isNaN(dirty[10]) || Float.isNaN(dirty[15]));
        }
    }
}
