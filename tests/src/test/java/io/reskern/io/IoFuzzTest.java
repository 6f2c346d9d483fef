package io.reskern.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.reskern.ReskernException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of valid files (bit flips, truncations, length-field and header-text edits): reading a
 * mutant must either succeed or throw {@link ReskernException} — never another exception, never an Error.
 * Override the seed with {@code -Dreskern.fuzz.seed=N}, the count with {@code -Dreskern.fuzz.iterations=N}.
 */
class IoFuzzTest {
    static final long SEED = Long.getLong("reskern.fuzz.seed", 20240611L);
    static final int ITERATIONS = Integer.getInteger("reskern.fuzz.iterations", 2000);

    @TempDir
    Path dir;

    private interface Reader {
        void read(Path p) throws Exception;
    }

    /** Where the header text lies and how its length field is encoded. */
    private interface Layout {
        int headerStart(byte[] f);

        int headerEnd(byte[] f);

        /** Rewrites the length field for a header of {@code len} bytes (no-op if it does not fit). */
        void setLength(byte[] f, long len);
    }

    private static final Layout SAFETENSORS = new Layout() {
        public int headerStart(byte[] f) {
            return 8;
        }

        public int headerEnd(byte[] f) {
            long n = f.length < 8 ? 0 : ByteBuffer.wrap(f, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            return (int) Math.max(8, Math.min(f.length, 8 + Math.max(0, Math.min(n, f.length))));
        }

        public void setLength(byte[] f, long len) {
            if (f.length >= 8) {
                ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len);
            }
        }
    };

    private static final Layout NPY = new Layout() {
        private int prefix(byte[] f) {
            return f.length > 6 && f[6] == 1 ? 10 : 12;
        }

        public int headerStart(byte[] f) {
            return Math.min(prefix(f), f.length);
        }

        public int headerEnd(byte[] f) {
            int p = prefix(f);
            if (f.length < p) {
                return f.length;
            }
            ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
            long n = p == 10 ? b.getShort(8) & 0xffff : b.getInt(8) & 0xffffffffL;
            return (int) Math.min(f.length, p + n);
        }

        public void setLength(byte[] f, long len) {
            int p = prefix(f);
            if (f.length < p) {
                return;
            }
            ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
            if (p == 10) {
                b.putShort(8, (short) len);
            } else {
                b.putInt(8, (int) len);
            }
        }
    };

    private static final String CHARS = "{}[](),:\"' -0123456789eE.\\\nTFLN_\u00e9";
    private static final String[] NUMBERS = {"0", "1", "-1", "-0", "8", "4294967296", "2147483648",
        "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e3", "1.5", "", "007"};

    private static byte[] mutate(byte[] in, Random r, Layout layout) {
        byte[] f = in;
        int rounds = 1 + r.nextInt(3);
        for (int k = 0; k < rounds; k++) {
            if (f.length == 0) {
                return f;
            }
            int hs = layout.headerStart(f);
            int he = layout.headerEnd(f);
            boolean hasHeader = he > hs;
            switch (r.nextInt(9)) {
                case 0: // bit flips anywhere
                    f = f.clone();
                    for (int i = 1 + r.nextInt(4); i > 0; i--) {
                        f[r.nextInt(f.length)] ^= (byte) (1 << r.nextInt(8));
                    }
                    break;
                case 1: // random byte in the header
                    if (hasHeader) {
                        f = f.clone();
                        f[hs + r.nextInt(he - hs)] = (byte) r.nextInt(256);
                    }
                    break;
                case 2: // syntax character in the header
                    if (hasHeader) {
                        f = f.clone();
                        f[hs + r.nextInt(he - hs)] = (byte) CHARS.charAt(r.nextInt(CHARS.length()));
                    }
                    break;
                case 3: // truncation
                    f = Arrays.copyOf(f, r.nextInt(f.length));
                    break;
                case 4: // trailing garbage
                    byte[] extra = new byte[1 + r.nextInt(16)];
                    r.nextBytes(extra);
                    f = IoTestUtil.concat(f, extra);
                    break;
                case 5: { // length field
                    long[] choices = {0, 1, he - hs - 1, he - hs + 1, he - hs + 8, -1, Long.MAX_VALUE, 1L << 31,
                        (100L << 20) + 1, r.nextLong(), r.nextInt(1 << 16)};
                    f = f.clone();
                    layout.setLength(f, choices[r.nextInt(choices.length)]);
                    break;
                }
                case 6: // replace a number in the header, fixing the length field
                    if (hasHeader) {
                        String h = new String(f, hs, he - hs, StandardCharsets.ISO_8859_1);
                        int at = r.nextInt(h.length());
                        int d = at;
                        while (d < h.length() && !Character.isDigit(h.charAt(d))) {
                            d++;
                        }
                        if (d < h.length()) {
                            int e = d;
                            while (e < h.length() && Character.isDigit(h.charAt(e))) {
                                e++;
                            }
                            String num = r.nextInt(4) == 0 ? Integer.toString(r.nextInt(100))
                                    : NUMBERS[r.nextInt(NUMBERS.length)];
                            f = splice(f, layout, hs, he, h.substring(0, d) + num + h.substring(e));
                        }
                    }
                    break;
                case 7: // delete a range of the header, fixing the length field
                    if (hasHeader) {
                        String h = new String(f, hs, he - hs, StandardCharsets.ISO_8859_1);
                        int a = r.nextInt(h.length());
                        int b = Math.min(h.length(), a + 1 + r.nextInt(12));
                        f = splice(f, layout, hs, he, h.substring(0, a) + h.substring(b));
                    }
                    break;
                default: // duplicate a range of the header, fixing the length field
                    if (hasHeader) {
                        String h = new String(f, hs, he - hs, StandardCharsets.ISO_8859_1);
                        int a = r.nextInt(h.length());
                        int b = Math.min(h.length(), a + 1 + r.nextInt(60));
                        f = splice(f, layout, hs, he, h.substring(0, b) + h.substring(a));
                    }
            }
        }
        return f;
    }

    private static byte[] splice(byte[] f, Layout layout, int hs, int he, String header) {
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = IoTestUtil.concat(Arrays.copyOf(f, hs), h, Arrays.copyOfRange(f, he, f.length));
        layout.setLength(out, h.length);
        return out;
    }

    private void fuzz(String what, List<byte[]> seeds, Layout layout, Reader reader) throws Exception {
        Random r = new Random(SEED ^ what.hashCode());
        Path p = dir.resolve("fuzz-" + what);
        int accepted = 0;
        int rejected = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] mutant = mutate(seeds.get(r.nextInt(seeds.size())), r, layout);
            Files.write(p, mutant);
            try {
                reader.read(p);
                accepted++;
            } catch (ReskernException e) {
                rejected++;
            } catch (Throwable t) {
                fail(what + " iteration " + i + " (seed " + SEED + "): " + t + "\nfile (base64): "
                        + Base64.getEncoder().encodeToString(mutant), t);
            }
        }
        System.out.println("[fuzz] " + what + ": " + accepted + " accepted, " + rejected + " rejected");
        assertTrue(rejected > ITERATIONS / 4, "most mutants should be rejected");
        assertTrue(accepted > 0, "some mutants (data-only flips) should still read");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void safetensorsMutants() throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(SafeTensorsTest.specBytes());
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16, DType.F64}) {
            LinkedHashMap<String, FloatTensor> t = new LinkedHashMap<>();
            t.put("conv1.weight", new FloatTensor(new long[] {2, 1, 3, 3}, SafeTensorsTest.interesting(18, 5)));
            t.put("bn1.bias", new FloatTensor(new long[] {2}, new float[] {0.5f, -1f}));
            t.put("scalar", new FloatTensor(new long[] {}, new float[] {3f}));
            t.put("empty", new FloatTensor(new long[] {0}, new float[0]));
            Path p = dir.resolve("seed-" + dt + ".safetensors");
            SafeTensors.write(p, t, dt, Map.of("format", "pt"));
            seeds.add(Files.readAllBytes(p));
        }
        String mixed = "{\"x\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[4,12]},"
                + "\"m\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[12,15]}}";
        seeds.add(IoTestUtil.st(mixed, new byte[15]));
        fuzz("safetensors", seeds, SAFETENSORS, p -> {
            try (SafeTensors st = SafeTensors.open(p)) {
                st.metadata().forEach((k, v) -> k.length());
                st.floatNames();
                for (String name : st.names()) {
                    TensorInfo info = st.info(name);
                    if (info.dtype().isFloat()) {
                        st.getFloats(name);
                    } else {
                        st.getLongs(name);
                    }
                    st.getBytes(name);
                }
            }
        });
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void npyMutants() throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        for (String name : new String[] {"f4_2x3.npy", "f4_scalar.npy", "f4_3.npy", "f4_empty.npy",
            "f4_be_2x2.npy", "f8_4.npy", "f2_6.npy", "u1_2x2x3.npy", "f4_fortran_2x3x4.npy", "u1_fortran_3x2.npy",
            "f4_v2_2x3.npy", "f4_v3_2x3.npy", "i8_3.npy", "structured.npy"}) {
            seeds.add(Files.readAllBytes(IoTestUtil.resource("npy/" + name)));
        }
        fuzz("npy", seeds, NPY, p -> {
            NpyArray a = Npy.read(p);
            a.data();
            if (a.isBytes()) {
                a.bytes();
            }
        });
    }
}
