package io.reskern.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.reskern.ReskernException;
import io.reskern.TestEnv;
import io.reskern.io.Npy;
import io.reskern.io.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Decoding + preprocessing against the goldens of {@code tests/golden/make_image_goldens.py} (torch, torchvision, PIL):
 * the exact oracle ({@code F.interpolate(antialias=True)} in float64) to 1e-5 relative, torchvision's PIL pipeline to
 * 2 uint8 levels, PNG decoding exactly, JPEG decoding within a few levels of PIL's decoder (errors printed).
 */
class ImageGoldenTest {
    /** ‖out − ref‖ / ‖ref‖ allowed against the float64 torch oracle. */
    static final double EXACT_REL_TOL = 1e-5;
    /** Max |out − PIL pipeline|: PIL rounds to uint8 after each pass; 2 levels = 2 / 255 / 0.224. */
    static final double PIL_MAX_ABS = 2 / 255.0 / 0.224;

    static Path dir() {
        Path p = Path.of(System.getProperty("reskern.goldens", "target/goldens")).resolve("images");
        TestEnv.require(Files.isRegularFile(p.resolve("manifest.json")), "image goldens missing in " + p
                + " (install python3-torch python3-torchvision; tests/golden/make_goldens.sh makes them)");
        return p;
    }

    static JsonObject manifest() throws IOException {
        return JsonParser.parseString(Files.readString(dir().resolve("manifest.json"))).getAsJsonObject();
    }

    static Preprocess preset(JsonObject c) {
        return switch (c.get("preset").getAsString()) {
            case "imagenet" -> Preprocess.imagenet();
            case "cifar" -> Preprocess.cifar();
            default -> {
                JsonArray crop = c.getAsJsonArray("crop");
                yield new Preprocess(c.get("resize_shorter").getAsInt(), crop.get(0).getAsInt(), crop.get(1).getAsInt(),
                        floats(c.getAsJsonArray("mean")), floats(c.getAsJsonArray("std")));
            }
        };
    }

    static float[] floats(JsonArray a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = a.get(i).getAsFloat();
        }
        return f;
    }

    static double relError(float[] out, float[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < out.length; i++) {
            double d = (double) out[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }

    static double maxAbs(float[] out, float[] ref) {
        double m = 0;
        for (int i = 0; i < out.length; i++) {
            m = Math.max(m, Math.abs((double) out[i] - ref[i]));
        }
        return m;
    }

    static int[] byteDiff(byte[] a, byte[] b) {
        int max = 0;
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            int d = Math.abs((a[i] & 0xff) - (b[i] & 0xff));
            max = Math.max(max, d);
            n += d != 0 ? 1 : 0;
        }
        return new int[] {max, n};
    }

    @TestFactory
    Stream<DynamicTest> preprocessAgainstTorch() throws IOException {
        Path d = dir();
        List<DynamicTest> t = new ArrayList<>();
        for (JsonElement e : manifest().getAsJsonArray("preprocess")) {
            JsonObject c = e.getAsJsonObject();
            String name = c.get("case").getAsString();
            t.add(DynamicTest.dynamicTest(name + " (" + c.get("preset").getAsString() + ")", () -> {
                Preprocess pre = preset(c);
                int h = c.get("height").getAsInt();
                int w = c.get("width").getAsInt();
                JsonArray rs = c.getAsJsonArray("resized");
                assertArrayEquals(new int[] {rs.get(0).getAsInt(), rs.get(1).getAsInt()}, pre.resizedSize(h, w),
                        "torchvision Resize(int) size");
                RgbImage img = ImageDecoder.defaults().decode(d.resolve(c.get("file").getAsString()));
                assertArrayEquals(Npy.read(d.resolve(c.get("pixels").getAsString())).bytes(), img.toRgb(), "PNG decode");
                float[] out = CpuImages.nchw(List.of(img), pre);
                NpyArray exact = Npy.read(d.resolve(c.get("exact").getAsString()));
                assertEquals(3L * pre.cropHeight() * pre.cropWidth(), exact.size());
                double rel = relError(out, exact.data());
                double abs = maxAbs(out, exact.data());
                float[] pil = Npy.read(d.resolve(c.get("pil").getAsString())).data();
                double pilAbs = maxAbs(out, pil);
                System.out.printf(Locale.ROOT, "[image] %-20s %4dx%-4d exact: rel %.2e max abs %.2e | PIL pipeline: max abs %.4f"
                        + " (PIL vs exact %.4f)%n", name, w, h, rel, abs, pilAbs, c.get("pil_vs_exact_max_abs").getAsDouble());
                assertTrue(rel <= EXACT_REL_TOL, name + ": rel error vs torch " + rel);
                assertTrue(pilAbs <= PIL_MAX_ABS, name + ": max abs vs PIL pipeline " + pilAbs);
            }));
        }
        return t.stream();
    }

    @TestFactory
    Stream<DynamicTest> pngModesDecodeByTheRules() throws IOException {
        Path d = dir();
        List<DynamicTest> t = new ArrayList<>();
        for (JsonElement e : manifest().getAsJsonArray("png")) {
            JsonObject c = e.getAsJsonObject();
            t.add(DynamicTest.dynamicTest("png " + c.get("case").getAsString() + " (" + c.get("mode").getAsString() + ")", () -> {
                RgbImage img = ImageDecoder.defaults().decode(d.resolve(c.get("file").getAsString()));
                NpyArray want = Npy.read(d.resolve(c.get("expected").getAsString()));
                assertEquals(want.shape()[0], img.height());
                assertEquals(want.shape()[1], img.width());
                assertArrayEquals(want.bytes(), img.toRgb());
            }));
        }
        return t.stream();
    }

    @TestFactory
    Stream<DynamicTest> jpegCloseToPil() throws IOException {
        Path d = dir();
        List<DynamicTest> t = new ArrayList<>();
        for (JsonElement e : manifest().getAsJsonArray("jpeg")) {
            JsonObject c = e.getAsJsonObject();
            String name = c.get("case").getAsString();
            t.add(DynamicTest.dynamicTest("jpeg " + name + " " + c.get("options"), () -> {
                RgbImage img = ImageDecoder.defaults().decode(d.resolve(c.get("file").getAsString()));
                byte[] pil = Npy.read(d.resolve(c.get("pil_decoded").getAsString())).bytes();
                byte[] ours = img.toRgb();
                assertEquals(pil.length, ours.length);
                int[] diff = byteDiff(ours, pil);
                String extra = "";
                if (!c.get("exact").isJsonNull()) {
                    float[] exact = Npy.read(d.resolve(c.get("exact").getAsString())).data();
                    float[] out = CpuImages.nchw(List.of(img), Preprocess.imagenet());
                    extra = String.format(Locale.ROOT, "; ImageNet transform vs torch on PIL's decode: rel %.2e max abs %.4f",
                            relError(out, exact), maxAbs(out, exact));
                    assertTrue(relError(out, exact) <= 1e-2, extra);
                }
                System.out.printf(Locale.ROOT, "[jpeg] %-12s vs PIL decode: max |diff| %d levels, %.2f%% of samples differ%s%n",
                        name, diff[0], 100.0 * diff[1] / pil.length, extra);
                assertTrue(diff[0] <= 2, name + ": max difference to PIL's decode " + diff[0]);
                assertTrue(diff[1] <= pil.length / 50, name + ": " + diff[1] + " samples differ from PIL's decode");
            }));
        }
        return t.stream();
    }

    @TestFactory
    Stream<DynamicTest> unsupportedAreRejected() throws IOException {
        Path d = dir();
        List<DynamicTest> t = new ArrayList<>();
        for (JsonElement e : manifest().getAsJsonArray("unsupported")) {
            JsonObject c = e.getAsJsonObject();
            t.add(DynamicTest.dynamicTest("rejects " + c.get("why").getAsString(), () -> {
                Path f = d.resolve(c.get("file").getAsString());
                ReskernException ex = org.junit.jupiter.api.Assertions.assertThrows(ReskernException.class,
                        () -> ImageDecoder.defaults().decode(f));
                assertEquals(ReskernException.ErrorCode.BAD_FILE, ex.code());
                assertTrue(ex.getMessage().contains(f.toString()) && ex.getMessage().contains("CMYK"), ex.getMessage());
            }));
        }
        return t.stream();
    }
}
