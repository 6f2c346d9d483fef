package io.reskern.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Model;
import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import io.reskern.ResNets;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.graph.ParamSpec;
import io.reskern.io.DType;
import io.reskern.io.FloatTensor;
import io.reskern.io.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint of another model, another class count or behind a wrapper's name prefix: the WEIGHT_MISMATCH error
 * still names every tensor, and now also says what the file is (apiaudit; before, the user had to infer "resnet32"
 * from 60 unexpected layer1.3… names).
 */
class WeightMismatchHintTest {
    @TempDir
    Path tmp;

    /** A zero-filled checkpoint with exactly the tensors of {@code graph}, names given {@code prefix}. */
    private Path checkpoint(Graph graph, String prefix) throws Exception {
        LinkedHashMap<String, FloatTensor> m = new LinkedHashMap<>();
        for (ParamSpec p : graph.params().values()) {
            if (!p.optional()) {
                m.put(prefix + p.name(), new FloatTensor(p.shape(), new float[Math.toIntExact(p.elements())]));
            }
        }
        Path f = Files.createTempFile(tmp, "w", ".safetensors");
        SafeTensors.write(f, m, DType.F32, Map.of());
        return f;
    }

    private static String mismatch(String model, Integer classes, Path weights) {
        Model.Builder b = Model.builder().model(model).optWeights(weights);
        if (classes != null) {
            b.optClasses(classes);
        }
        ReskernException e = assertThrows(ReskernException.class, b::build);
        assertEquals(ErrorCode.WEIGHT_MISMATCH, e.code(), e.getMessage());
        return e.getMessage();
    }

    @Test
    void anotherNamedModelIsNamed() throws Exception {
        Path r32 = checkpoint(GraphBuilder.build(ResNets.byName("cifar_resnet32")), "");
        String m = mismatch("cifar_resnet20", null, r32);
        assertTrue(m.contains("60 unexpected: layer1.3.bn1.bias"), m);
        assertTrue(m.endsWith("\n  hint: the file matches cifar_resnet32 (10 classes)"), m);
        Path r18 = checkpoint(GraphBuilder.build(ResNets.byName("resnet18")), "");
        m = mismatch("resnet34", null, r18);
        assertTrue(m.contains("missing: layer1.2.conv1.weight"), m);
        // resnet18 and resnet18_v1 (and v1.5/v1 in general for basic blocks) have the same tensors
        assertTrue(m.contains("hint: the file matches resnet18 (1000 classes) or resnet18_v1 (1000 classes)"), m);
        Path b20 = checkpoint(GraphBuilder.build(ResNets.byName("cifar_resnet20")
                .withShortcut(io.reskern.ResNetSpec.Shortcut.PROJECTION)), "");
        m = mismatch("cifar_resnet20", null, b20);
        assertTrue(m.contains("hint: the file matches cifar_resnet20 (10 classes, shortcut B)"), m);
    }

    @Test
    void anotherClassCountIsNamed() throws Exception {
        Path r18c10 = checkpoint(GraphBuilder.build(ResNets.byName("resnet18").withClasses(10)), "");
        String m = mismatch("resnet18", null, r18c10);
        assertTrue(m.contains("fc.weight expected [1000, 512] got [10, 512]"), m);
        assertTrue(m.contains("hint: the file matches resnet18 (10 classes)"), m);
    }

    @Test
    void aWrapperPrefixIsNamed() throws Exception {
        Path dp = checkpoint(GraphBuilder.build(ResNets.byName("cifar_resnet20")), "module.");
        String m = mismatch("cifar_resnet20", null, dp);
        assertTrue(m.contains("hint: every tensor name starts with 'module.' (torch.nn.DataParallel"), m);
        Path compiled = checkpoint(GraphBuilder.build(ResNets.byName("cifar_resnet20")), "_orig_mod.");
        assertTrue(mismatch("cifar_resnet20", null, compiled).contains("'_orig_mod.' (torch.compile)"));
    }

    /** A hostile file's tensor names reached the message raw: terminal escapes, and a 1 MB name made a 1 MB line. */
    @Test
    void unexpectedNamesAreEscapedAndCut() throws Exception {
        LinkedHashMap<String, FloatTensor> m = new LinkedHashMap<>();
        m.put("\u001b[31mred", new FloatTensor(new long[] {1}, new float[1]));
        m.put("x".repeat(1 << 20), new FloatTensor(new long[] {1}, new float[1]));
        Path f = tmp.resolve("hostile.safetensors");
        SafeTensors.write(f, m, DType.F32, Map.of());
        String msg = mismatch("cifar_resnet20", null, f);
        assertFalse(msg.contains("\u001b"), "no raw ESC");
        assertTrue(msg.contains("\\u001b[31mred") && msg.contains("...(1048576 chars)"), msg.substring(0, 300));
        assertTrue(msg.length() < 5000, "bounded: " + msg.length());
    }

    @Test
    void noHintWhenNothingMatches() throws Exception {
        LinkedHashMap<String, FloatTensor> m = new LinkedHashMap<>();
        m.put("conv1.weight", new FloatTensor(new long[] {16, 3, 5, 5}, new float[16 * 3 * 25]));
        Path f = tmp.resolve("odd.safetensors");
        SafeTensors.write(f, m, DType.F32, Map.of());
        assertFalse(mismatch("cifar_resnet20", null, f).contains("hint:"));
    }
}
