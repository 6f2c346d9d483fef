package io.reskern.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.reskern.Model;
import io.reskern.ResNets;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.graph.ParamSpec;
import io.reskern.io.DType;
import io.reskern.io.FloatTensor;
import io.reskern.io.SafeTensors;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * F64 checkpoints load (the README listed F32, F16 and BF16 only): values that are floats give bit-identical logits
 * in F32 and F64 storage; F16 storage rounds them, so it differs.
 */
class CheckpointDtypesTest {
    @TempDir
    Path tmp;

    @Test
    void f64CheckpointsGiveTheF32Logits() throws Exception {
        Graph g = GraphBuilder.build(ResNets.byName("cifar_resnet20"));
        Random r = new Random(3);
        LinkedHashMap<String, FloatTensor> m = new LinkedHashMap<>();
        for (ParamSpec p : g.params().values()) {
            float[] d = new float[Math.toIntExact(p.elements())];
            for (int i = 0; i < d.length; i++) {
                d[i] = p.name().endsWith("running_var") ? 0.5f + r.nextFloat() : (float) (r.nextGaussian() * 0.2);
            }
            m.put(p.name(), new FloatTensor(p.shape(), d));
        }
        float[] x = new float[2 * 3 * 11 * 9];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        float[][] y = new float[3][];
        DType[] dtypes = {DType.F32, DType.F64, DType.F16};
        for (int k = 0; k < dtypes.length; k++) {
            Path f = tmp.resolve(dtypes[k] + ".safetensors");
            SafeTensors.write(f, m, dtypes[k], Map.of());
            try (SafeTensors st = SafeTensors.open(f)) {
                assertEquals(dtypes[k], st.info("conv1.weight").dtype());
            }
            try (Model model = Model.builder().model("cifar_resnet20").optWeights(f).build()) {
                y[k] = model.predict(x, 2, 11, 9);
            }
        }
        assertArrayEquals(y[0], y[1], "F64 storage of float values = F32 storage");
        assertEquals(20, y[2].length);
        boolean differs = false;
        for (int i = 0; i < y[0].length; i++) {
            differs |= y[0][i] != y[2][i];
        }
        org.junit.jupiter.api.Assertions.assertTrue(differs, "F16 storage rounds the weights");
    }
}
