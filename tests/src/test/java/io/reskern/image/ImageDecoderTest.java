package io.reskern.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decoding rules on JDK-written images (every BufferedImage layout, no-copy where the layout allows) and hostile
 * input: not an image, empty, truncated, other formats, absurd header sizes (checked before decoding), a
 * configurable limit, and a mutation fuzz (every outcome is an image or a ReskernException, never another exception,
 * an OOM or a hang). Goldens against PIL are in {@link ImageGoldenTest}.
 */
class ImageDecoderTest {
    @TempDir
    Path tmp;

    static BufferedImage random(int w, int h, int type, long seed) {
        BufferedImage img = new BufferedImage(w, h, type);
        Random r = new Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, 0xff000000 | (r.nextInt(1 << 24)) | (((x * 7 + y) & 0x7f) << 24));
            }
        }
        return img;
    }

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, format, out), "no writer for " + format);
        return out.toByteArray();
    }

    static ReskernException rejects(ErrorCode code, byte[] bytes, String name, String... words) {
        ReskernException e = assertThrows(ReskernException.class, () -> ImageDecoder.defaults().decode(bytes, name));
        assertEquals(code, e.code(), e.getMessage());
        assertTrue(e.getMessage().startsWith(name + ":"), "message names the file: " + e.getMessage());
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "message mentions '" + w + "': " + e.getMessage());
        }
        return e;
    }

    @Test
    void pngRoundTripsEveryLayoutExactly() throws Exception {
        for (int type : new int[] {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_INT_RGB,
                                   BufferedImage.TYPE_INT_ARGB}) {
            BufferedImage src = random(37, 23, type, type);
            RgbImage img = ImageDecoder.defaults().decode(encode(src, "png"), "t" + type + ".png");
            assertEquals(37, img.width());
            assertEquals(23, img.height());
            for (int y = 0; y < 23; y++) {
                for (int x = 0; x < 37; x++) {
                    int rgb = src.getRGB(x, y);
                    assertEquals((rgb >> 16) & 0xff, img.sample(y, x, 0));
                    assertEquals((rgb >> 8) & 0xff, img.sample(y, x, 1));
                    assertEquals(rgb & 0xff, img.sample(y, x, 2));
                }
            }
        }
    }

    @Test
    void grayIsReplicatedWithoutGammaConversion() throws Exception {
        BufferedImage g = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
        byte[] raw = ((DataBufferByte) g.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) i;
        }
        RgbImage img = ImageDecoder.defaults().decode(encode(g, "png"), "gray.png");
        assertEquals(1, img.pixelStride());
        for (int i = 0; i < 256; i++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(i, img.sample(i / 16, i % 16, c), "stored gray value, not getRGB's sRGB conversion");
            }
        }
    }

    @Test
    void decodersBufferIsUsedWithoutACopy() throws Exception {
        BufferedImage bgr = random(40, 30, BufferedImage.TYPE_3BYTE_BGR, 1);
        RgbImage a = ImageDecoder.toRgb(bgr, "bgr", "test");
        assertSame(((DataBufferByte) bgr.getRaster().getDataBuffer()).getData(), a.data());
        assertEquals(3, a.pixelStride());
        assertEquals(2, a.channelOffset(0));
        assertEquals(0, a.channelOffset(2));
        BufferedImage sub = bgr.getSubimage(5, 7, 20, 11);
        RgbImage s = ImageDecoder.toRgb(sub, "sub", "test");
        assertSame(a.data(), s.data(), "a sub-image is read in place: offset + row stride");
        assertEquals(120, s.rowStride());
        for (int y = 0; y < 11; y++) {
            for (int x = 0; x < 20; x++) {
                assertEquals((sub.getRGB(x, y) >> 16) & 0xff, s.sample(y, x, 0));
                assertEquals(sub.getRGB(x, y) & 0xff, s.sample(y, x, 2));
            }
        }
        RgbImage abgr = ImageDecoder.toRgb(random(9, 9, BufferedImage.TYPE_4BYTE_ABGR, 2), "abgr", "test");
        assertEquals(4, abgr.pixelStride());
        assertArrayEquals(new int[] {3, 2, 1}, new int[] {abgr.channelOffset(0), abgr.channelOffset(1), abgr.channelOffset(2)});
    }

    @Test
    void paletteAndSixteenBitLayoutsAreConverted() throws Exception {
        BufferedImage idx = new BufferedImage(10, 10, BufferedImage.TYPE_BYTE_INDEXED);
        idx.setRGB(3, 4, 0xff336699);
        RgbImage p = ImageDecoder.defaults().decode(encode(idx, "png"), "pal.png");
        assertEquals(idx.getRGB(3, 4) & 0xffffff, (p.sample(4, 3, 0) << 16) | (p.sample(4, 3, 1) << 8) | p.sample(4, 3, 2));
        BufferedImage g16 = new BufferedImage(4, 1, BufferedImage.TYPE_USHORT_GRAY);
        g16.getRaster().setPixels(0, 0, 4, 1, new int[] {0, 257, 32896, 65535});
        RgbImage g = ImageDecoder.defaults().decode(encode(g16, "png"), "g16.png");
        assertArrayEquals(new int[] {0, 1, 128, 255}, new int[] {g.sample(0, 0, 1), g.sample(0, 1, 1), g.sample(0, 2, 1), g.sample(0, 3, 1)},
                "round(v * 255 / 65535)");
    }

    @Test
    void jpegDecodesToTheReadersBgrBuffer() throws Exception {
        RgbImage j = ImageDecoder.defaults().decode(encode(random(64, 48, BufferedImage.TYPE_3BYTE_BGR, 4), "jpeg"), "x.jpg");
        assertEquals(64, j.width());
        assertEquals(3, j.pixelStride());
        assertEquals(2, j.channelOffset(0));
    }

    @Test
    void notAnImage() throws Exception {
        rejects(ErrorCode.BAD_FILE, "hello, world\n".getBytes(), "notes.txt", "not a JPEG or PNG", "68656c6c");
        rejects(ErrorCode.BAD_FILE, new byte[0], "empty.png", "empty");
        rejects(ErrorCode.BAD_FILE, new byte[] {(byte) 0xff, (byte) 0xd8}, "two.jpg");
        rejects(ErrorCode.BAD_FILE, encode(random(8, 8, BufferedImage.TYPE_INT_RGB, 1), "gif"), "a.gif", "GIF");
        rejects(ErrorCode.BAD_FILE, encode(random(8, 8, BufferedImage.TYPE_INT_RGB, 1), "bmp"), "a.bmp", "BMP");
        Path dir = Files.createDirectory(tmp.resolve("d.png"));
        assertEquals(ErrorCode.IO, assertThrows(ReskernException.class, () -> ImageDecoder.defaults().decode(dir)).code());
        ReskernException e = assertThrows(ReskernException.class, () -> ImageDecoder.defaults().decode(tmp.resolve("none.jpg")));
        assertEquals(ErrorCode.IO, e.code());
        assertTrue(e.getMessage().contains("none.jpg"), e.getMessage());
    }

    @Test
    void truncatedFilesAreBadFiles() throws Exception {
        byte[] png = encode(random(50, 40, BufferedImage.TYPE_3BYTE_BGR, 7), "png");
        byte[] jpg = encode(random(50, 40, BufferedImage.TYPE_3BYTE_BGR, 7), "jpeg");
        for (double f : new double[] {0.02, 0.1, 0.3, 0.6, 0.9, 0.99}) {
            rejects(ErrorCode.BAD_FILE, Arrays.copyOf(png, (int) (png.length * f)), "cut.png", "PNG");
            rejects(ErrorCode.BAD_FILE, Arrays.copyOf(jpg, (int) (jpg.length * f)), "cut.jpg", "JPEG");
        }
    }

    /** A PNG whose IHDR claims w x h pixels, followed by a tiny IDAT and IEND (valid CRCs). */
    static byte[] pngHeader(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12 + 16 + 12);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        chunk(b, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0)
                .put((byte) 0).array());
        chunk(b, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x63, 0, 0, 0, 1, 0, 1});
        chunk(b, "IEND", new byte[0]);
        return Arrays.copyOf(b.array(), b.position());
    }

    static void chunk(ByteBuffer b, String type, byte[] data) {
        b.putInt(data.length);
        byte[] t = type.getBytes();
        b.put(t).put(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        b.putInt((int) crc.getValue());
    }

    @Test
    void absurdSizesAreRejectedBeforeDecoding() throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            rejects(ErrorCode.BAD_FILE, pngHeader(100_000, 100_000), "bomb.png", "10000000000 pixels", "limit of 100000000");
            rejects(ErrorCode.BAD_FILE, pngHeader(20_000, 5_001), "bomb2.png", "exceeds the limit");
            rejects(ErrorCode.BAD_FILE, pngHeader(0, 10), "zero.png");
            // JPEG: patch the SOF0 frame size of a real JPEG to 65500 x 65500
            byte[] jpg = encode(random(16, 16, BufferedImage.TYPE_3BYTE_BGR, 3), "jpeg");
            for (int i = 0; i + 8 < jpg.length; i++) {
                if ((jpg[i] & 0xff) == 0xff && (jpg[i + 1] & 0xff) == 0xc0) {
                    jpg[i + 5] = (byte) 0xff;
                    jpg[i + 6] = (byte) 0xdc;
                    jpg[i + 7] = (byte) 0xff;
                    jpg[i + 8] = (byte) 0xdc;
                    break;
                }
            }
            rejects(ErrorCode.BAD_FILE, jpg, "bomb.jpg", "65500x65500", "exceeds the limit");
        });
        byte[] ok = encode(random(200, 100, BufferedImage.TYPE_3BYTE_BGR, 3), "png");
        ImageDecoder small = ImageDecoder.defaults().withMaxPixels(19_999);
        ReskernException e = assertThrows(ReskernException.class, () -> small.decode(ok, "limit.png"));
        assertTrue(e.getMessage().contains("20000 pixels exceeds the limit of 19999"), e.getMessage());
        assertEquals(200, ImageDecoder.defaults().withMaxPixels(20_000).decode(ok, "limit.png").width());
        assertThrows(IllegalArgumentException.class, () -> ImageDecoder.defaults().withMaxPixels(0));
    }

    @Test
    void mutatedFilesDecodeOrFailCleanly() {
        byte[][] seeds;
        try {
            seeds = new byte[][] {encode(random(33, 21, BufferedImage.TYPE_3BYTE_BGR, 9), "png"),
                                  encode(random(33, 21, BufferedImage.TYPE_BYTE_INDEXED, 9), "png"),
                                  encode(random(33, 21, BufferedImage.TYPE_3BYTE_BGR, 9), "jpeg")};
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        int[] outcome = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            Random r = new Random(11);
            for (int it = 0; it < 600; it++) {
                byte[] s = seeds[it % seeds.length];
                byte[] m = s.clone();
                int kind = r.nextInt(4);
                if (kind == 0) { // flip bytes
                    for (int k = 0; k < 1 + r.nextInt(8); k++) {
                        m[r.nextInt(m.length)] ^= (byte) (1 + r.nextInt(255));
                    }
                } else if (kind == 1) { // overwrite a header byte with an extreme value
                    m[8 + r.nextInt(Math.min(60, m.length - 8))] = (byte) (r.nextBoolean() ? 0xff : 0);
                } else if (kind == 2) { // truncate
                    m = Arrays.copyOf(m, 1 + r.nextInt(m.length - 1));
                } else { // duplicate a slice
                    int a = r.nextInt(m.length);
                    int len = Math.min(1 + r.nextInt(64), m.length - a);
                    byte[] n = new byte[m.length + len];
                    System.arraycopy(m, 0, n, 0, a + len);
                    System.arraycopy(m, a, n, a + len, m.length - a);
                    m = n;
                }
                try {
                    RgbImage img = ImageDecoder.defaults().withMaxPixels(1 << 22).decode(m, "fuzz" + it);
                    assertTrue(img.width() > 0 && img.height() > 0);
                    outcome[0]++;
                } catch (ReskernException e) {
                    assertTrue(e.code() == ErrorCode.BAD_FILE, "fuzz " + it + ": " + e);
                    outcome[1]++;
                }
            }
        });
        System.out.printf("[decoder fuzz] 600 mutations: %d decoded, %d BAD_FILE, 0 other outcomes%n", outcome[0], outcome[1]);
        assertTrue(outcome[1] > 100, "most mutations should be caught");
    }
}
