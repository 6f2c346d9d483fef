package io.reskern.e2e;

import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;
import io.reskern.TestEnv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The manifest written by tests/golden/make_goldens.py (PyTorch float64 outputs). */
public final class Goldens {
    private Goldens() {
    }

    /** One golden case. */
    public record Case(String caseName, String model, String shortcut, int classes, String weights, String weightsDtype,
                       String input, String expected, List<Integer> inputShape, String naming, Long params, String notes, boolean convBias) {
        public Path weightsPath(Path dir) {
            Path p = Path.of(weights);
            return p.isAbsolute() ? p : dir.resolve(p);
        }

        @Override
        public String toString() {
            return caseName;
        }
    }

    public static List<Case> load() throws IOException {
        Path dir = TestEnv.goldens();
        String json = Files.readString(dir.resolve("manifest.json"));
        com.google.gson.JsonElement root = com.google.gson.JsonParser.parseString(json);
        com.google.gson.JsonArray arr = root.isJsonArray() ? root.getAsJsonArray() : root.getAsJsonObject().getAsJsonArray("cases");
        List<java.util.Map<String, Object>> raw = new Gson().fromJson(arr, new TypeToken<List<java.util.Map<String, Object>>>() {
        }.getType());
        return raw.stream().map(m -> new Case((String) m.get("case"), (String) m.get("model"), (String) m.get("shortcut"),
                ((Number) m.get("classes")).intValue(), (String) m.get("weights"), (String) m.get("weights_dtype"),
                (String) m.get("input"), (String) m.get("expected"),
                ((List<?>) m.get("input_shape")).stream().map(o -> ((Number) o).intValue()).toList(), (String) m.get("naming"),
                m.get("params") == null ? null : ((Number) m.get("params")).longValue(), (String) m.get("notes"),
                Boolean.TRUE.equals(m.get("conv_bias")))).toList();
    }
}
